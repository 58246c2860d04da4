"""TensorFlow tensors: leaky's contract through TensorFlow ops, eagerly, in
tf.function and under XLA, with a custom gradient that uses the mask.

This file runs in a pytest process of its own (``helpers.OWN_PROCESS``):
triton, which torch.compile and torch.export import, segfaults when it
loads after TensorFlow."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
ml_dtypes = pytest.importorskip("ml_dtypes")

import leaky  # noqa: E402
from leaky import _backends  # noqa: E402
from helpers import SLOPES, assert_same_bits  # noqa: E402

NUMPY_OF = {tf.float16: np.float16, tf.bfloat16: np.dtype(ml_dtypes.bfloat16),
            tf.float32: np.float32, tf.float64: np.float64}


def _values(tf_dtype):
    """Special values and random ones, no subnormals (TensorFlow flushes them)."""
    dtype = np.dtype(NUMPY_OF[tf_dtype])
    info = ml_dtypes.finfo(dtype) if dtype.name == "bfloat16" else np.finfo(dtype)
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, -3.25,
               float(info.tiny), -float(info.tiny), float(info.max), -float(info.max), -1e-3]
    rng = np.random.default_rng(0)
    return np.concatenate([np.array(special), rng.standard_normal(500)]).astype(dtype)


def _same(got, want):
    """Bit-identical, except where leaky's NumPy result is subnormal: the
    documented exception, where TensorFlow's CPU kernels give a zero of the
    same sign (float16 keeps its subnormals)."""
    got, want = np.asarray(got).copy(), np.asarray(want)
    wide = want.astype(np.float64)
    tiny = float(np.finfo(np.float32).tiny) if want.dtype.itemsize <= 4 else \
        float(np.finfo(np.float64).tiny)
    if want.dtype != np.float16:
        flushed = (wide != 0) & (np.abs(wide) < tiny)
        np.testing.assert_array_equal(got[flushed].astype(np.float64), 0.0)
        np.testing.assert_array_equal(np.signbit(got[flushed].astype(np.float64)),
                                      np.signbit(wide[flushed]))
        got[flushed] = want[flushed]
    if want.dtype.name == "bfloat16":  # helpers' NaN check needs a NumPy float
        nan = np.isnan(want.astype(np.float32))
        np.testing.assert_array_equal(np.isnan(got.astype(np.float32)), nan)
        np.testing.assert_array_equal(got[~nan].view(np.uint16), want[~nan].view(np.uint16))
    else:
        assert_same_bits(got, want)


@pytest.mark.parametrize("tf_dtype", list(NUMPY_OF))
@pytest.mark.parametrize("slope", SLOPES)
def test_forward_is_bit_identical_to_the_numpy_path(tf_dtype, slope):
    x = _values(tf_dtype)
    want = leaky.leaky_relu(x, slope)
    got = leaky.leaky_relu(tf.constant(x), slope)
    assert isinstance(got, tf.Tensor) and got.dtype == tf_dtype
    _same(got.numpy(), want)
    y, mask = leaky.leaky_relu_with_mask(tf.constant(x), slope)
    _same(y.numpy(), want)
    np.testing.assert_array_equal(mask.numpy(), leaky.leaky_relu_with_mask(x, slope)[1])
    grad = x[::-1].copy()
    _same(leaky.leaky_relu_backward(tf.constant(grad), mask, slope).numpy(),
          leaky.leaky_relu_backward(grad, mask.numpy(), slope))


@pytest.mark.parametrize("tf_dtype", [tf.float32, tf.float64, tf.float16, tf.bfloat16])
def test_gradient_tape_gives_backward_on_the_mask(tf_dtype):
    x = tf.Variable(_values(tf_dtype)[4:])  # no NaN or infinities
    upstream = tf.constant(np.linspace(-2, 2, x.shape[0]), dtype=tf_dtype)
    with tf.GradientTape() as tape:
        y, mask = leaky.leaky_relu_with_mask(x, 0.2)
    grad = tape.gradient(y, x, output_gradients=upstream)
    want = leaky.leaky_relu_backward(upstream.numpy(), mask.numpy(), 0.2)
    _same(grad.numpy(), want)
    assert grad.numpy()[0] == upstream.numpy()[0] * np.dtype(NUMPY_OF[tf_dtype]).type(0.2)  # x == 0: the slope


def test_second_order_gradient():
    x = tf.Variable([-2.0, 0.0, 3.0], dtype=tf.float64)
    upstream = tf.Variable([1.0, 2.0, 3.0], dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = leaky.leaky_relu(x, 0.1)
        grad = inner.gradient(y, x, output_gradients=upstream)
        total = tf.reduce_sum(grad * grad)
    # d/d(upstream) of sum(g^2), with g = upstream * (1 or slope): 2 g * (1 or slope)
    second = outer.gradient(total, upstream)
    np.testing.assert_allclose(second.numpy(), [2 * 0.1 * 0.1, 2 * 2 * 0.01, 2 * 3.0])


@pytest.mark.parametrize("jit_compile", [False, True])
def test_tf_function_and_xla_equal_eager(jit_compile):
    x = tf.constant(_values(tf.float32)[4:])

    @tf.function(jit_compile=jit_compile)
    def step(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = leaky.leaky_relu(t, 0.1)
        return y, tape.gradient(y, t)

    y, grad = step(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y_eager = leaky.leaky_relu(x, 0.1)
    _same(y.numpy(), y_eager.numpy())
    _same(grad.numpy(), tape.gradient(y_eager, x).numpy())


def test_integers_promote_and_other_dtypes_and_out_are_refused():
    y = leaky.leaky_relu(tf.constant([-4, 2], dtype=tf.int16), 0.5)
    assert y.dtype == tf.float32 and y.numpy().tolist() == [-2.0, 2.0]
    assert leaky.leaky_relu(tf.constant([True, False])).dtype == tf.float16
    with pytest.raises(TypeError, match="complex64"):
        leaky.leaky_relu(tf.constant([1j], dtype=tf.complex64))
    with pytest.raises(TypeError, match="immutable"):
        leaky.leaky_relu(tf.constant([1.0]), out=tf.constant([0.0]))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        leaky.leaky_relu_backward(tf.constant([1.0]), tf.constant([1.0]))
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        leaky.leaky_relu(tf.constant([1.0]), float("nan"))


def test_device_is_kept():
    x = tf.constant([-1.0, 2.0])
    assert leaky.leaky_relu(x).device == x.device


def test_negative_zero_slope_after_a_zero_slope():
    """Regression: TensorFlow's constant cache gave -0.0 the cached +0.0."""
    x = tf.constant([-2.0, 0.0])
    np.testing.assert_array_equal(np.signbit(leaky.leaky_relu(x, 0.0).numpy()), [True, False])
    np.testing.assert_array_equal(np.signbit(leaky.leaky_relu(x, -0.0).numpy()), [False, True])


@pytest.mark.parametrize("make", [lambda: tf.ragged.constant([[-1.0], [2.0, -3.0]]),
                                  lambda: tf.sparse.from_dense(tf.constant([0.0, -1.0]))])
def test_ragged_and_sparse_tensors_are_refused_by_name(make):
    with pytest.raises(TypeError, match="RaggedTensor|SparseTensor"):
        leaky.leaky_relu(make())


def test_packed_masks_with_tensorflow_ops():
    x = np.random.default_rng(12).standard_normal((5, 7)).astype(np.float32)
    want = np.packbits((x > 0).ravel(), bitorder="little")
    y, bits = leaky.leaky_relu_with_mask(tf.constant(x), 0.1, packed=True)
    assert bits.dtype == tf.uint8 and tuple(bits.shape) == (5,)
    np.testing.assert_array_equal(bits.numpy(), want)
    packed_in_graph = tf.function(lambda a: leaky.leaky_relu_with_mask(a, 0.1, packed=True)[1],
                                  jit_compile=True)
    np.testing.assert_array_equal(packed_in_graph(tf.constant(x)).numpy(), want)
    grad = np.random.default_rng(13).standard_normal((5, 7)).astype(np.float32)
    np.testing.assert_array_equal(
        leaky.leaky_relu_backward(tf.constant(grad), bits, 0.1).numpy(),
        leaky.leaky_relu_backward(grad, x > 0, 0.1))
    with pytest.raises(ValueError, match="packed bits for 35 elements"):
        leaky.leaky_relu_backward(tf.constant(grad), bits[:4], 0.1)


@pytest.mark.parametrize("make", [lambda: tf.zeros(3), lambda: tf.Variable([1.0])],
                         ids=["tf.Tensor", "tf.Variable"])
def test_tensors_and_variables_go_to_the_tensorflow_backend(make):
    assert _backends.backend_for(make()).__name__ == "leaky._backends.tensorflow"


def test_the_backend_says_why_it_lacks_out():
    from leaky._backends import tensorflow as backend
    capabilities = backend.CAPABILITIES
    assert not capabilities.out and capabilities.why_not["out"]
    assert capabilities.packed
