"""MLX: values bit for bit as leaky's NumPy kernels (PyTorch's bits), one
derivative rule that every MLX transform composes, masks and packed bits,
``out=``, the drop-in layer, and clear errors."""

import subprocess
import sys

import numpy as np
import pytest

mx = pytest.importorskip("mlx.core")
mlx_nn = pytest.importorskip("mlx.nn")

import leaky  # noqa: E402
import leaky.mlx  # noqa: E402
from backends import make_backend  # noqa: E402
from helpers import SLOPES, assert_same_bits, special_values  # noqa: E402

ml_dtypes = pytest.importorskip("ml_dtypes")

DTYPES = ("float16", "bfloat16", "float32", "float64")


def _numpy_dtype(name):
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def _inputs(name, size=2000, seed=0):
    """Special values, then normal values over a wide range, as NumPy."""
    dtype = _numpy_dtype(name)
    rng = np.random.default_rng(seed)
    wide = rng.standard_normal(size) * 10.0 ** rng.integers(-6, 6, size)
    base = special_values(np.float32 if name == "bfloat16" else dtype).astype(np.float64)
    with np.errstate(over="ignore"):  # float16 overflows to inf: also wanted
        return np.concatenate([base, wide]).astype(dtype)


_MLX = make_backend("mlx")
_to_mlx, _to_numpy = _MLX.asarray, _MLX.to_numpy


def _assert_same(got, want, x, name):
    """Bits as :func:`assert_same_bits`; a NaN that float16/bfloat16 make
    from a number (``-inf * 0``) only has to be a NaN: MLX's float32 ->
    half conversion does not keep a NaN's sign (documented)."""
    got = _to_numpy(got)
    if name in ("float16", "bfloat16"):
        made = np.isnan(want.astype(np.float32)) & ~np.isnan(x.astype(np.float32))
        assert np.isnan(got[made].astype(np.float32)).all()
        got, want = got[~made], want[~made]
    view = np.float32 if name == "bfloat16" else None
    if view is None:
        assert_same_bits(got, want)
    else:  # bfloat16 widens exactly, NaN signs included
        assert_same_bits(got.astype(view), want.astype(view))


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_forward_and_gradient_have_the_numpy_kernels_bits(name, slope):
    x = _inputs(name)
    g = _inputs(name, seed=1)
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    xm, gm = _to_mlx(x), _to_mlx(g)
    got = leaky.leaky_relu(xm, slope)
    assert got.dtype == xm.dtype
    _assert_same(got, y, x, name)
    _, vjp = mx.vjp(lambda v: leaky.leaky_relu(v, slope), [xm], [gm])
    _assert_same(vjp[0], leaky.leaky_relu_backward(g, mask, slope), g, name)


@pytest.mark.parametrize("slope", [0.01, 0.0, -0.5, 2.5, -0.0])
def test_gradient_at_zero_and_nan_is_the_slope(slope):
    x = mx.array([-0.0, 0.0, float("nan"), -1.0, 1.0])
    grad = mx.grad(lambda v: leaky.leaky_relu(v, slope).sum())(x)
    want = np.array([slope, slope, slope, slope, 1.0], dtype=np.float32)
    assert_same_bits(np.array(grad), want)


def test_infinities_stay_right():
    """Lucid's own op gives NaN here (x * mask + x * s * ~mask)."""
    x = mx.array([float("inf"), -float("inf")])
    np.testing.assert_array_equal(np.array(leaky.leaky_relu(x, 0.1)), [np.inf, -np.inf])


def test_every_transform_composes():
    slope = 0.3
    x = mx.array([-2.0, -0.0, 0.0, 1.5, 3.0])
    t = mx.array([1.0, 2.0, 3.0, 4.0, 5.0])
    f = lambda v: leaky.leaky_relu(v, slope)  # noqa: E731
    factor = np.array([slope, slope, slope, 1, 1], dtype=np.float32)
    want = np.array(t) * factor
    _, (jvp,) = mx.jvp(f, [x], [t])
    np.testing.assert_array_equal(np.array(jvp), want)
    _, (vjp,) = mx.vjp(f, [x], [t])
    np.testing.assert_array_equal(np.array(vjp), want)
    np.testing.assert_array_equal(np.array(mx.compile(mx.grad(lambda v: f(v).sum()))(x)), factor)
    batch = mx.stack([x, -x])
    np.testing.assert_array_equal(np.array(mx.vmap(f)(batch)), np.array(f(batch)))
    np.testing.assert_array_equal(np.array(mx.vmap(mx.grad(lambda v: f(v).sum()))(batch)),
                                  np.array(mx.grad(lambda v: f(v).sum())(batch)))
    np.testing.assert_array_equal(np.array(mx.compile(f)(x)), np.array(f(x)))


@pytest.mark.parametrize("g_axis, keep_axis", [(1, None), (0, 1), (None, 1), (1, 1)])
def test_the_derivative_rule_vmaps_over_any_batch_axes(g_axis, keep_axis):
    """Batched on different axes, or one of them not at all."""
    g = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    keep = np.array([[True, False, True], [False, True, True]])
    slope = 0.5
    g_in = g if g_axis is None else np.moveaxis(g, 0, g_axis)
    keep_in = keep[0] if keep_axis is None else np.moveaxis(keep, 0, keep_axis)
    g_in = g_in[0] if g_axis is None else g_in
    in_axes = (g_axis, keep_axis)
    backward = lambda a, k: leaky.leaky_relu_backward(a, k, slope)  # noqa: E731
    got = mx.vmap(backward, in_axes=in_axes)(mx.array(g_in), mx.array(keep_in))
    g_rows = np.broadcast_to(g[0], (2, 3)) if g_axis is None else g
    keep_rows = np.broadcast_to(keep[0], (2, 3)) if keep_axis is None else keep
    np.testing.assert_array_equal(np.array(got), np.where(keep_rows, g_rows, g_rows * slope))


def test_second_derivatives_compose():
    """The derivative is linear in the cotangent with the mask fixed: its
    own vjp is the same map, so a Hessian-vector product is 0 and the
    derivative of ``g -> vjp(g)`` is the factor itself."""
    slope = 0.25
    x = mx.array([-1.0, 0.0, 2.0])
    hessian = mx.grad(lambda v: mx.grad(lambda w: leaky.leaky_relu(w, slope).sum())(v).sum())(x)
    np.testing.assert_array_equal(np.array(hessian), np.zeros(3))

    def vjp_of(g):
        return mx.vjp(lambda v: leaky.leaky_relu(v, slope), [x], [g])[1][0]

    _, (back,) = mx.vjp(vjp_of, [mx.ones(3)], [mx.array([1.0, 2.0, 3.0])])
    np.testing.assert_array_equal(np.array(back), [0.25, 0.5, 3.0])
    _, (tangent,) = mx.jvp(vjp_of, [mx.ones(3)], [mx.array([1.0, 2.0, 3.0])])
    np.testing.assert_array_equal(np.array(tangent), [0.25, 0.5, 3.0])


@pytest.mark.parametrize("name", DTYPES)
def test_masks_and_packed_bits(name):
    x = _inputs(name, size=37)
    xm = _to_mlx(x)
    y, mask = leaky.leaky_relu_with_mask(xm, 0.2)
    y_packed, bits = leaky.leaky_relu_with_mask(xm, 0.2, packed=True)
    keep = x.astype(np.float64) > 0
    np.testing.assert_array_equal(np.array(mask), keep)
    assert bits.dtype == mx.uint8 and bits.shape == ((x.size + 7) // 8,)
    np.testing.assert_array_equal(np.array(bits), np.packbits(keep, bitorder="little"))
    assert_same_bits(_to_numpy(y_packed).astype(np.float64), _to_numpy(y).astype(np.float64))
    g = _to_mlx(_inputs(name, size=37, seed=3))
    from_mask = leaky.leaky_relu_backward(g, mask, 0.2)
    from_bits = leaky.leaky_relu_backward(g, bits, 0.2)
    assert from_bits.dtype == g.dtype
    assert_same_bits(_to_numpy(from_bits).astype(np.float64),
                     _to_numpy(from_mask).astype(np.float64))


def test_packed_mask_of_the_issue():
    """The generic array-API path failed: 'array' object has no attribute 'device'."""
    _, bits = leaky.leaky_relu_with_mask(mx.array([-1.0, 0.0, 2.0]), packed=True)
    assert np.array(bits).tolist() == [4]


def test_integers_promote_as_mlx_sin():
    for dtype in (mx.int8, mx.int32, mx.uint8, mx.bool_):
        x = mx.array([-2, 0, 3]).astype(dtype)
        assert leaky.leaky_relu(x, 0.5).dtype == mx.sin(x).dtype


def test_out_is_written_and_returned():
    x = mx.array([-2.0, 4.0])
    y, mask = mx.zeros(2), mx.zeros(2, dtype=mx.bool_)
    got = leaky.leaky_relu_with_mask(x, 0.5, out=(y, mask))
    assert got[0] is y and got[1] is mask
    assert np.array(y).tolist() == [-1.0, 4.0] and np.array(mask).tolist() == [False, True]
    with pytest.raises(TypeError, match="dtype"):
        leaky.leaky_relu(x, out=mx.zeros(2, dtype=mx.float16))
    with pytest.raises(TypeError, match="mlx"):
        leaky.leaky_relu(x, out=np.zeros(2, dtype=np.float32))


def test_operands_of_two_libraries_are_named():
    with pytest.raises(TypeError, match="mlx.*numpy|numpy.*mlx"):
        leaky.leaky_relu_backward(mx.ones(2), np.array([True, False]))


def test_bad_slope_and_dtype_are_refused_before_anything_runs():
    with pytest.raises(ValueError, match="finite"):
        leaky.leaky_relu(mx.ones(2), float("nan"))
    with pytest.raises(TypeError, match="complex64"):
        leaky.leaky_relu(mx.ones(2, dtype=mx.complex64))
    with pytest.raises(TypeError, match="mx.array"):
        leaky.mlx.leaky_relu(np.ones(2))


@pytest.mark.parametrize("slope", [0.01, 0.3, 1.0, 2.5, -0.5, 0.0, -0.0])
def test_every_formulation_is_the_select(slope):
    """maximum for slopes in (0, 1], minimum above 1, where otherwise."""
    x = _inputs("float32")
    assert_same_bits(np.array(leaky.leaky_relu(mx.array(x), slope)),
                     leaky.leaky_relu(x, slope))


def test_layer_is_a_drop_in_for_mlx_nn():
    ours, theirs = leaky.mlx.LeakyReLU(0.2), mlx_nn.LeakyReLU(0.2)
    assert isinstance(ours, mlx_nn.LeakyReLU)
    assert repr(ours) == repr(theirs) and ours.parameters() == theirs.parameters()
    assert vars(ours).keys() == vars(theirs).keys()
    x = mx.array([-3.0, 0.5])
    np.testing.assert_array_equal(np.array(ours(x)), np.array(theirs(x)))
    # where MLX's maximum(s * x, x) is wrong: slopes above one
    assert np.array(leaky.mlx.LeakyReLU(2.0)(x)).tolist() == [-6.0, 0.5]


def _train_mlp(layer_type, steps=30):
    import mlx.optimizers as optim

    mx.random.seed(0)
    model = mlx_nn.Sequential(mlx_nn.Linear(8, 32), layer_type(0.1), mlx_nn.Linear(32, 32),
                              layer_type(0.1), mlx_nn.Linear(32, 1))
    x = mx.random.normal((64, 8))
    y = mx.sum(x[:, :3], axis=1, keepdims=True)
    optimizer = optim.SGD(learning_rate=0.05)
    loss_and_grad = mlx_nn.value_and_grad(model, lambda m: mx.mean((m(x) - y) ** 2))
    for _ in range(steps):
        loss, grads = loss_and_grad(model)
        optimizer.update(model, grads)
        mx.eval(model.parameters(), optimizer.state)
    return np.concatenate([np.array(p).ravel() for _, p in
                           mlx_nn.utils.tree_flatten(model.parameters())]), float(loss)


def test_an_mlp_trains_where_mlx_own_layer_does():
    """MLX's CPU training is not bit-reproducible from run to run, so the
    comparison is to rounding, against the spread of MLX's own runs."""
    theirs, theirs_loss = _train_mlp(mlx_nn.LeakyReLU)
    again, _ = _train_mlp(mlx_nn.LeakyReLU)
    ours, ours_loss = _train_mlp(leaky.mlx.LeakyReLU)
    spread = np.max(np.abs(theirs - again))
    assert np.max(np.abs(ours - theirs)) <= max(spread, 1e-5)
    assert ours_loss < 0.5 * _train_mlp(mlx_nn.LeakyReLU, steps=1)[1]
    assert abs(ours_loss - theirs_loss) <= 1e-4


def test_import_leaky_imports_neither_mlx_nor_lucid():
    code = ("import sys, leaky, leaky.lucid; "
            "print(sorted(m for m in ('mlx', 'lucid') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
