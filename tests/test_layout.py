"""Strides, views, memory order, out=, overlap and threads.

Values are checked against PyTorch on a contiguous copy of the same data,
so the layout machinery is tested against an independent oracle.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from threadpoolctl import threadpool_limits

import leaky
from leaky._cpu import kernels as _kernels
from helpers import (FLOAT_DTYPES, assert_same_bits, same_bytes_for_thread_counts,
                     torch_backward, torch_forward)

SLOPE = -0.3  # negative: any mix-up of x and s*x shows up


@st.composite
def strided_views(draw):
    """A view of a random array: steps of +-1/+-2 per axis, maybe transposed
    or broadcast."""
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=8))
    base = draw(hnp.arrays(dtype, shape, elements=st.floats(-4, 4, width=16)))
    steps = draw(st.lists(st.sampled_from([1, 2, -1, -2]), min_size=base.ndim,
                          max_size=base.ndim))
    view = base[tuple(slice(None, None, s) for s in steps)]
    if draw(st.booleans()):
        view = view.transpose(draw(st.permutations(range(view.ndim))))
    if draw(st.booleans()):
        view = np.broadcast_to(view, (draw(st.integers(1, 3)),) + view.shape)
    return view


@given(strided_views())
def test_any_view_matches_torch(view):
    y, mask = leaky.leaky_relu_with_mask(view, SLOPE)
    assert_same_bits(leaky.leaky_relu(view, SLOPE), torch_forward(view, SLOPE))
    assert_same_bits(y, torch_forward(view, SLOPE))
    np.testing.assert_array_equal(mask, view > 0)
    assert_same_bits(leaky.leaky_relu_backward(view, mask, SLOPE),
                     torch_backward(view, view, SLOPE))


@given(strided_views(), st.sampled_from(["C", "F"]))
def test_noncontiguous_out(view, order):
    """out= may itself be any strided view."""
    big = np.zeros(tuple(2 * n for n in view.shape), dtype=view.dtype, order=order)
    out = big[tuple(slice(None, None, 2) for _ in view.shape)]
    result = leaky.leaky_relu(view, SLOPE, out=out)
    assert result is out
    assert_same_bits(out, torch_forward(view, SLOPE))
    assert not big[tuple(slice(1, None, 2) for _ in view.shape)].any(), "wrote outside out"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_output_follows_input_order(dtype):
    x = np.asfortranarray(np.arange(-12, 12, dtype=dtype).reshape(4, 6))
    y, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    assert y.flags.f_contiguous and not y.flags.c_contiguous
    assert mask.flags.f_contiguous
    assert leaky.leaky_relu(x.T, SLOPE).flags.c_contiguous
    assert leaky.leaky_relu_backward(x, mask, SLOPE).flags.f_contiguous


def test_broadcast_zero_stride_input():
    row = np.array([-1.0, 0.0, 2.0])
    x = np.broadcast_to(row, (5, 3))
    assert x.strides[0] == 0
    np.testing.assert_array_equal(leaky.leaky_relu(x, 0.5), np.tile([-0.5, 0.0, 2.0], (5, 1)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_in_place(dtype):
    x = np.linspace(-3, 3, 101, dtype=dtype)
    want = torch_forward(x, SLOPE)
    assert leaky.leaky_relu(x, SLOPE, out=x) is x
    assert_same_bits(x, want)


def test_in_place_backward():
    grad = np.linspace(-1, 1, 50)
    mask = grad > 0.3
    want = np.where(mask, grad, grad * SLOPE)
    assert leaky.leaky_relu_backward(grad, mask, SLOPE, out=grad) is grad
    np.testing.assert_array_equal(grad, want)


@pytest.mark.parametrize("make_out", [
    lambda x: x[::-1],                       # reversed
    lambda x: x.reshape(2, -1)[::-1].ravel(),  # halves swapped (a copy: no overlap)
])
def test_overlapping_out_reads_input_first(make_out):
    x = np.linspace(-5, 5, 64)
    want = torch_forward(x, SLOPE)
    out = make_out(x)
    result = leaky.leaky_relu(x, SLOPE, out=out)
    np.testing.assert_array_equal(result, want)


def test_shifted_overlap_reads_input_first():
    buf = np.linspace(-5, 5, 65)
    x, out = buf[1:], buf[:-1]
    want = torch_forward(x, SLOPE)
    leaky.leaky_relu(x, SLOPE, out=out)
    np.testing.assert_array_equal(out, want)


def test_mask_out_overlapping_input_reads_input_first():
    x = np.linspace(-5, 5, 64)
    want = torch_forward(x, SLOPE)
    mask_out = x.view(np.bool_)[:64]  # the mask's bytes lie inside x
    y, mask = leaky.leaky_relu_with_mask(x, SLOPE, out=(None, mask_out))
    np.testing.assert_array_equal(y, want)
    assert mask is mask_out


def test_read_only_input():
    x = np.linspace(-2, 2, 20)
    x.flags.writeable = False
    y, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    np.testing.assert_array_equal(y, torch_forward(x, SLOPE))
    mask.flags.writeable = False
    leaky.leaky_relu_backward(x, mask, SLOPE)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4, 2)])
def test_empty(shape):
    x = np.empty(shape, dtype=np.float32)
    y, mask = leaky.leaky_relu_with_mask(x)
    assert y.shape == shape and y.dtype == np.float32
    assert mask.shape == shape and mask.dtype == np.bool_


def test_many_dimensions():
    x = np.linspace(-1, 1, 2 ** 10).reshape((2,) * 10)[..., ::-1]
    np.testing.assert_array_equal(leaky.leaky_relu(x, SLOPE),
                                  torch_forward(x, SLOPE))


def test_byte_swapped_and_unaligned_input():
    x = np.linspace(-3, 3, 40)
    swapped = x.astype(">f8")
    y = leaky.leaky_relu(swapped, SLOPE)
    assert y.dtype == np.float64 and y.dtype.isnative
    np.testing.assert_array_equal(y, torch_forward(x, SLOPE))
    raw = np.zeros(40 * 8 + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(leaky.leaky_relu(unaligned, SLOPE), torch_forward(x, SLOPE))
    out = np.zeros(40 * 8 + 1, dtype=np.uint8)[1:].view(np.float64)
    assert leaky.leaky_relu(x, SLOPE, out=out) is out
    np.testing.assert_array_equal(out, torch_forward(x, SLOPE))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [1, 63, 64, 65, 100_003])
def test_bit_identical_for_any_thread_count(dtype, n, small_parallel_threshold):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)

    def compute():
        y, mask = leaky.leaky_relu_with_mask(x, SLOPE)
        return y, mask, leaky.leaky_relu_backward(grad, mask, SLOPE)

    y, _, _ = same_bytes_for_thread_counts(compute)
    assert_same_bits(y, torch_forward(x, SLOPE))


@pytest.mark.skipif(not _kernels.openmp_enabled(), reason="built without OpenMP")
def test_threadpool_limits_reaches_the_kernels():
    with threadpool_limits(1, user_api="openmp"):
        assert _kernels.max_threads() == 1
