"""leaky.ufuncs: real NumPy ufuncs, with NumPy's semantics where the contract
is silent (overlap, where=, casting, order, dtype=), and the contract where
it speaks (x alone decides the dtype; dtypes outside it are refused)."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import as_strided

import leaky
from leaky import ufuncs
from helpers import (FLOAT_DTYPES, SLOPES, assert_same_bits, same_bytes_for_thread_counts,
                     torch_backward, torch_forward)

ml_dtypes = pytest.importorskip("ml_dtypes")

UFUNCS = (ufuncs.leaky_relu, ufuncs.leaky_relu_with_mask, ufuncs.leaky_relu_backward)


# --------------------------------------------------------- the ufunc objects --

def test_they_are_numpy_ufuncs_with_numpys_attributes():
    for ufunc in UFUNCS:
        assert isinstance(ufunc, np.ufunc)
        assert ufunc.signature is None and ufunc.identity is None
    assert (ufuncs.leaky_relu.nin, ufuncs.leaky_relu.nout) == (2, 1)
    assert (ufuncs.leaky_relu_with_mask.nin, ufuncs.leaky_relu_with_mask.nout) == (2, 2)
    assert (ufuncs.leaky_relu_backward.nin, ufuncs.leaky_relu_backward.nout) == (3, 1)
    assert ufuncs.leaky_relu.types == ["ed->e", "fd->f", "dd->d"]
    assert ufuncs.leaky_relu_with_mask.types == ["ed->e?", "fd->f?", "dd->d?"]
    assert ufuncs.leaky_relu_backward.types == ["e?d->e", "f?d->f", "d?d->d"]
    assert ufuncs.leaky_relu.__name__ == "leaky_relu"
    assert "negative_slope" in ufuncs.leaky_relu.__doc__


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_raw_ufuncs_match_torch(dtype, slope):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(300), [0.0, -0.0, np.inf, -np.inf, np.nan]]).astype(dtype)
    grad = rng.standard_normal(x.size).astype(dtype)
    assert_same_bits(ufuncs.leaky_relu(x, slope), torch_forward(x, slope))
    y, mask = ufuncs.leaky_relu_with_mask(x, slope)
    assert_same_bits(y, torch_forward(x, slope))
    np.testing.assert_array_equal(mask, x > 0)
    assert_same_bits(ufuncs.leaky_relu_backward(grad, mask, slope), torch_backward(grad, x, slope))


@pytest.mark.parametrize("slope", [0.1, np.float64(0.1), np.float32(0.1), np.array(0.1),
                                   np.float16(0.1), 2, np.int64(2)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + (ml_dtypes.bfloat16,))
def test_slope_operand_never_decides_the_dtype(dtype, slope):
    x = np.array([-1.0, 2.0], dtype=dtype)
    assert ufuncs.leaky_relu(x, slope).dtype == dtype
    assert leaky.leaky_relu(x, slope).dtype == dtype
    assert ufuncs.leaky_relu_backward(x, x > 0, slope).dtype == dtype


def test_an_array_of_slopes_broadcasts_elementwise_in_the_raw_ufunc():
    x = np.array([[-1.0, 2.0, -3.0]], dtype=np.float32)
    slopes = np.array([[0.5], [-2.0]])
    got = ufuncs.leaky_relu(x, slopes)
    want = np.where(x > 0, x, x * slopes.astype(np.float32))
    assert got.shape == (2, 3) and got.dtype == np.float32
    assert_same_bits(got, want)
    grad = np.ones((2, 3), np.float32)
    assert_same_bits(ufuncs.leaky_relu_backward(grad, x > 0, slopes),
                     np.where(x > 0, grad, grad * slopes.astype(np.float32)))


# ------------------------------------------------------------ refused dtypes --

REFUSED = [ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, ml_dtypes.int4,
           np.complex64, np.dtype("datetime64[s]"), np.dtype("U3"), object]
if np.dtype(np.longdouble).itemsize > 8:
    REFUSED.append(np.longdouble)


@pytest.mark.parametrize("dtype", REFUSED, ids=lambda d: np.dtype(d).name)
def test_dtypes_outside_the_contract_are_refused_by_name(dtype):
    name = np.dtype(dtype).name
    x = np.zeros(3, dtype=dtype)
    for call in (lambda: leaky.leaky_relu(x), lambda: ufuncs.leaky_relu(x, 0.1),
                 lambda: leaky.leaky_relu_with_mask(x),
                 lambda: ufuncs.leaky_relu_with_mask(x, 0.1),
                 lambda: leaky.leaky_relu_backward(x, np.ones(3, bool)),
                 lambda: ufuncs.leaky_relu_backward(x, np.ones(3, bool), 0.1)):
        with pytest.raises(TypeError, match=f"unsupported dtype {re.escape(name)}"):
            call()


@pytest.mark.parametrize("dtype", [ml_dtypes.float8_e4m3fn, np.complex128, np.bool_])
def test_slope_and_mask_operands_of_other_dtypes_are_refused(dtype):
    x = np.ones(3, np.float32)
    with pytest.raises(TypeError, match="negative_slope"):
        ufuncs.leaky_relu(x, np.zeros((), dtype=dtype))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        ufuncs.leaky_relu_backward(x, np.ones(3, np.float32), 0.1)


# -------------------------------------------------------- NumPy's semantics --

def test_internal_overlap_of_out_is_numpys_not_four_slopes():
    """Regression: the slope was applied four times."""
    base = np.array([-1.0])
    x = as_strided(base, shape=(4,), strides=(0,), writeable=True)
    leaky.leaky_relu(x, 0.5, out=x)
    ref = np.array([-1.0])
    r = as_strided(ref, shape=(4,), strides=(0,), writeable=True)
    np.multiply(r, 0.5, out=r)
    assert base[0] == ref[0] == -0.5


@given(m=st.integers(1, 40), a=st.integers(0, 8), b=st.integers(0, 8), reverse=st.booleans(),
       dtype=st.sampled_from(FLOAT_DTYPES), slope=st.sampled_from(SLOPES))
def test_overlapping_input_and_out_read_as_if_copied_first(m, a, b, reverse, dtype, slope):
    def views(buf):
        x = buf[a:a + m]
        return (x[::-1] if reverse else x), buf[b:b + m]

    start = np.random.default_rng(m).standard_normal(50).astype(dtype)
    x, out = views(start.copy())
    want = torch_forward(x.copy(), slope)
    leaky.leaky_relu(x, slope, out=out)
    assert_same_bits(out, want)
    grad, out = views(start.copy())
    mask = grad > 0
    want = torch_backward(grad.copy(), grad.copy(), slope)
    leaky.leaky_relu_backward(grad, mask, slope, out=out)
    assert_same_bits(out, want)


def test_where_computes_only_where_true():
    x = np.array([-2.0, -1.0, 3.0, 4.0], np.float32)
    where = np.array([True, False, True, False])
    out = np.full(4, 7.0, np.float32)
    assert leaky.leaky_relu(x, 0.5, out=out, where=where) is out
    assert_same_bits(out, np.array([-1.0, 7.0, 3.0, 7.0], np.float32))
    y_out, m_out = np.full(4, 7.0, np.float32), np.zeros(4, bool)
    leaky.leaky_relu_with_mask(x, 0.5, out=(y_out, m_out), where=where)
    np.testing.assert_array_equal(m_out, [False, False, True, False])
    g_out = np.full(4, 7.0, np.float32)
    leaky.leaky_relu_backward(np.ones(4, np.float32), x > 0, 0.5, out=g_out, where=~where)
    assert_same_bits(g_out, np.array([7.0, 0.5, 7.0, 1.0], np.float32))


def test_order_dtype_casting_and_subok_mean_what_they_mean_in_numpy():
    x = np.arange(-6.0, 6.0, dtype=np.float32).reshape(3, 4) / 3
    assert leaky.leaky_relu(x, order="F").flags.f_contiguous
    assert leaky.leaky_relu(x.T).flags.f_contiguous  # 'K' follows x
    for dtype in (np.float16, np.float32, np.float64):  # compute in and return dtype
        got = leaky.leaky_relu(x.astype(np.float64) / 7, 0.1, dtype=dtype)
        assert_same_bits(got, torch_forward((x.astype(np.float64) / 7).astype(dtype), 0.1))
        y, mask = leaky.leaky_relu_with_mask(x, 0.1, dtype=dtype)
        assert y.dtype == dtype and mask.dtype == np.bool_
        assert leaky.leaky_relu_backward(x, mask, 0.1, dtype=dtype).dtype == dtype
    with pytest.raises(TypeError, match="dtype=int32 is not a dtype leaky computes in"):
        leaky.leaky_relu(x, dtype=np.int32)
    with pytest.raises(TypeError, match="casting rule 'no'"):
        leaky.leaky_relu(np.arange(3), casting="no")
    masked = np.ma.masked_array(x, mask=x < -1)
    assert type(leaky.leaky_relu(masked, subok=False)) is np.ndarray
    assert type(leaky.leaky_relu(masked)) is np.ma.MaskedArray


def test_ufunc_keywords_are_refused_for_other_array_libraries():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"where= only apply to NumPy arrays.*torch"):
        leaky.leaky_relu(torch.ones(3), where=np.ones(3, bool))
    with pytest.raises(TypeError, match="casting=, order="):
        leaky.leaky_relu_backward(torch.ones(3), torch.ones(3, dtype=torch.bool),
                                  casting="unsafe", order="C")


def test_the_unselected_arm_raises_no_floating_point_warning():
    x = np.array([3e38, -np.inf, np.inf, -1.0, np.nan], np.float32)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for slope in (100.0, 0.0):
            want = torch_forward(x, slope)
            assert_same_bits(ufuncs.leaky_relu(x, slope), want)
            assert_same_bits(leaky.leaky_relu(x[::-1], slope)[::-1], want)
            assert_same_bits(ufuncs.leaky_relu_with_mask(x, slope)[0], want)


def test_floating_point_errors_of_numpys_own_casts_still_surface():
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        leaky.leaky_relu(np.array([1e300]), dtype=np.float32, casting="unsafe")


# ------------------------------------------------- fast paths equal the ufunc --

layouts = st.tuples(
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9),
    st.sampled_from(FLOAT_DTYPES),
    st.sampled_from(["C", "F", "reversed", "strided"]),
    st.sampled_from((0.01,) + SLOPES + (1e39,)),
)


def _layout(shape, dtype, how, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    if how == "F":
        return np.asfortranarray(x)
    if how == "reversed":
        return x[..., ::-1]
    if how == "strided":
        return np.repeat(x, 2, axis=-1)[..., ::2]
    return x


def _same_result(got, want):
    """Same type, bits and memory layout (a length-1 axis has no layout)."""
    assert type(got) is type(want)
    assert [s for s, n in zip(got.strides, got.shape) if n > 1] == \
        [s for s, n in zip(want.strides, want.shape) if n > 1]
    assert_same_bits(got, want)


@given(layout=layouts, seed=st.integers(0, 10))
def test_fast_paths_give_exactly_the_ufuncs_results(layout, seed):
    shape, dtype, how, slope = layout
    x = _layout(shape, dtype, how, seed)
    grad = _layout(shape, dtype, how, seed + 1)
    if abs(slope) > 3.4e38 and dtype != np.float64:
        with pytest.raises(ValueError, match="overflows float32"):
            leaky.leaky_relu(x, slope)
        return
    _same_result(leaky.leaky_relu(x, slope), ufuncs.leaky_relu(x, slope))
    out, out_ref = np.empty_like(x), np.empty_like(x)
    assert leaky.leaky_relu(x, slope, out=out) is out
    _same_result(out, ufuncs.leaky_relu(x, slope, out=out_ref))
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    y_ref, mask_ref = ufuncs.leaky_relu_with_mask(x, slope)
    _same_result(y, y_ref)
    _same_result(mask, mask_ref)
    _same_result(leaky.leaky_relu_backward(grad, mask, slope),
                 ufuncs.leaky_relu_backward(grad, mask, slope))


def test_in_place_fast_path_and_partial_overlap():
    x = np.array([-4.0, 2.0, -8.0, 6.0], np.float32)
    assert leaky.leaky_relu(x, 0.5, out=x) is x
    assert_same_bits(x, np.array([-2.0, 2.0, -4.0, 6.0], np.float32))
    buf = np.array([-4.0, 2.0, -8.0, 6.0, -2.0], np.float32)
    leaky.leaky_relu(buf[1:], 0.5, out=buf[:-1])  # read first, as np.multiply
    assert_same_bits(buf, np.array([2.0, -4.0, 6.0, -1.0, -2.0], np.float32))


# ------------------------------------------------------------------ threads --

@pytest.mark.parametrize("dtype", FLOAT_DTYPES + (ml_dtypes.bfloat16,))
@pytest.mark.parametrize("n", [63, 65, 1000, 70_001])
def test_ufunc_loops_split_across_threads_give_identical_bits(dtype, n, small_parallel_threshold):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)

    def compute():
        y, mask = ufuncs.leaky_relu_with_mask(x, 0.01)
        return ufuncs.leaky_relu(x, 0.01), y, mask, ufuncs.leaky_relu_backward(grad, mask, 0.01)

    same_bytes_for_thread_counts(compute)
