"""Every public function on every array library: same library out, same
values as the NumPy path and as PyTorch, same shapes and dtypes."""

import numpy as np
import pytest

import leaky
from helpers import assert_same_bits, special_values, torch_backward, torch_forward

SLOPES = (0.01, -0.5, 1.5)


def flush_subnormals(a):
    """Subnormals to zeros of the same sign, as XLA's CPU backend computes.

    float16 is computed in float32, where its subnormals are normal numbers."""
    a = np.array(a)
    if a.dtype in (np.float32, np.float64):
        tiny = np.finfo(a.dtype).tiny
        small = np.abs(a) < tiny
        a[small] = np.copysign(0, a[small])
    return a


def oracle_forward(xp, x, slope):
    if xp.flushes_subnormals:
        return flush_subnormals(torch_forward(flush_subnormals(x), slope))
    return torch_forward(x, slope)


def oracle_backward(xp, grad, x, slope):
    if xp.flushes_subnormals:
        return flush_subnormals(torch_backward(flush_subnormals(grad), flush_subnormals(x), slope))
    return torch_backward(grad, x, slope)


def _data(dtype, shape=(4, 7)):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    specials = special_values(dtype)
    flat[: specials.size] = specials[: flat.size]
    return x


@pytest.mark.parametrize("slope", SLOPES)
def test_forward_same_library_and_values(xp, slope):
    for dtype in xp.float_dtypes:
        x = _data(dtype)
        y = leaky.leaky_relu(xp.asarray(x), slope)
        assert xp.is_native(y), type(y)
        assert xp.dtype_name(y) == dtype
        assert xp.device(y) == xp.device(xp.asarray(x))
        assert_same_bits(xp.to_numpy(y), oracle_forward(xp, x, slope))
        if not xp.flushes_subnormals:
            assert_same_bits(xp.to_numpy(y), leaky.leaky_relu(x, slope))


@pytest.mark.parametrize("slope", SLOPES)
def test_forward_with_mask_and_backward(xp, slope):
    for dtype in xp.float_dtypes:
        x = _data(dtype)
        grad = _data(dtype)[::-1].copy()
        y, mask = leaky.leaky_relu_with_mask(xp.asarray(x), slope)
        assert xp.is_native(y) and xp.is_native(mask)
        assert xp.dtype_name(mask) == "bool"
        assert_same_bits(xp.to_numpy(y), oracle_forward(xp, x, slope))
        np.testing.assert_array_equal(xp.to_numpy(mask), flush_subnormals(x) > 0
                                      if xp.flushes_subnormals else x > 0)
        grad_in = leaky.leaky_relu_backward(xp.asarray(grad), mask, slope)
        assert xp.is_native(grad_in) and xp.dtype_name(grad_in) == dtype
        assert_same_bits(xp.to_numpy(grad_in), oracle_backward(xp, grad, x, slope))


def test_integers_and_bool_promote_as_the_hosts_sin(xp):
    """NumPy: by width (int8 -> float16); torch: its default float; JAX: its
    default float (float64 here, where the suite turns x64 on)."""
    for dtype in ("int8", "uint8", "int16", "int32", "int64", "bool"):
        want = xp.sin_dtype_name(dtype)
        if want not in xp.float_dtypes:
            continue
        values = [[3, 0], [2, 5]] if dtype.startswith("u") else [[-3, 0], [2, 5]]
        x = np.array(values, dtype=dtype) if dtype != "bool" else np.array([True, False])
        y = leaky.leaky_relu(xp.asarray(x), 0.5)
        assert xp.dtype_name(y) == want, dtype
        np.testing.assert_array_equal(xp.to_numpy(y), leaky.leaky_relu(x.astype(want), 0.5))


def test_shapes(xp):
    for shape in ((), (0,), (3,), (2, 3, 4)):
        x = _data("float32", shape) if shape else np.array(-2.0, dtype=np.float32)
        y, mask = leaky.leaky_relu_with_mask(xp.asarray(x), 0.25)
        assert tuple(y.shape) == shape and tuple(mask.shape) == shape
        assert_same_bits(xp.to_numpy(y), oracle_forward(xp, x, 0.25))


def test_out(xp):
    x = xp.asarray(np.array([-2.0, 3.0]))
    out = xp.asarray(np.zeros(2))
    if not xp.supports_out:
        with pytest.raises((TypeError, ValueError), match="out"):
            leaky.leaky_relu(x, 0.5, out=out)
        return
    assert leaky.leaky_relu(x, 0.5, out=out) is out
    np.testing.assert_array_equal(xp.to_numpy(out), [-1.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        leaky.leaky_relu(x, 0.5, out=xp.asarray(np.zeros(3)))
    with pytest.raises(TypeError, match="dtype"):
        leaky.leaky_relu(x, 0.5, out=xp.asarray(np.zeros(2, dtype=np.int64)))


def test_errors_are_the_same_everywhere(xp):
    x = xp.asarray(np.ones(3))
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        leaky.leaky_relu(x, float("nan"))
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        leaky.leaky_relu_with_mask(x, "0.1")
    with pytest.raises(TypeError, match="mask must be a bool array"):
        leaky.leaky_relu_backward(x, x)
    with pytest.raises(ValueError, match="overflows float32"):
        leaky.leaky_relu(xp.asarray(np.ones(3, dtype=np.float32)), 1e39)


def test_mixed_libraries_in_backward_name_both(xp):
    if xp.name == "numpy":
        pytest.skip("needs a second library")
    grad = xp.asarray(np.ones(3))
    mask = np.array([True, False, True])
    with pytest.raises(TypeError, match=r"numpy.*same array library|same array library"):
        leaky.leaky_relu_backward(grad, mask)
    with pytest.raises(TypeError, match="numpy"):
        leaky.leaky_relu_backward(mask.astype(float), xp.asarray(mask))


def test_no_floating_point_warnings(xp):
    """Both arms of the select are computed; the unselected one may overflow
    (3e38 * 1.5). That is not the caller's business: no warning, any backend."""
    import warnings
    x = np.array([3e38, -3e38, np.nan, np.inf], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, mask = leaky.leaky_relu_with_mask(xp.asarray(x), 1.5)
        leaky.leaky_relu_backward(xp.asarray(x), mask, 1.5)
        xp.to_numpy(y)
