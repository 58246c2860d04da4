"""Bit-exactness against PyTorch's CPU kernels: the heart of the contract."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import leaky
from helpers import (FLOAT_DTYPES, SLOPES, assert_same_bits, special_values,
                      torch_backward, torch_forward)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_forward_special_values_match_torch(dtype, slope):
    x = special_values(dtype)
    assert_same_bits(leaky.leaky_relu(x, slope), torch_forward(x, slope))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_backward_special_values_match_torch(dtype, slope):
    x = special_values(dtype)
    grad = np.roll(x, 3)  # every special value also appears as a gradient
    _, mask = leaky.leaky_relu_with_mask(x, slope)
    assert_same_bits(leaky.leaky_relu_backward(grad, mask, slope),
                     torch_backward(grad, x, slope))


@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5, 1.0 / 3.0, 1e-5, 3e4, 0.0])
def test_every_float16_value_matches_torch(slope):
    """All 65536 float16 bit patterns: forward, mask and backward."""
    x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    assert_same_bits(y, torch_forward(x, slope))
    np.testing.assert_array_equal(mask, x > 0)
    grad = x[::-1].copy()
    assert_same_bits(leaky.leaky_relu_backward(grad, mask, slope),
                     torch_backward(grad, x, slope))


def test_float32_bit_patterns_sweep_matches_torch():
    """A dense sweep of float32 bit patterns, every exponent and sign."""
    bits = np.arange(0, 1 << 32, 4099, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    for slope in (0.01, -0.75, 1.5):
        y, mask = leaky.leaky_relu_with_mask(x, slope)
        assert_same_bits(y, torch_forward(x, slope))
        np.testing.assert_array_equal(mask, x > 0)


def test_signed_zeros_follow_the_select():
    """-0.0 * s and +0.0 * s: the sign comes from the product, as in torch."""
    x = np.array([0.0, -0.0])
    np.testing.assert_array_equal(np.signbit(leaky.leaky_relu(x, 0.5)), [False, True])
    np.testing.assert_array_equal(np.signbit(leaky.leaky_relu(x, -0.5)), [True, False])


def test_select_not_max_for_slope_above_one():
    """max(x, s*x) would give s*x for positive x when s > 1."""
    y = leaky.leaky_relu(np.array([2.0, -2.0]), 3.0)
    np.testing.assert_array_equal(y, [2.0, -6.0])


def test_minus_inf_times_zero_slope_is_nan():
    assert np.isnan(leaky.leaky_relu(np.array([-np.inf]), 0.0)[0])


@st.composite
def arrays_and_slopes(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=9))
    width = np.dtype(dtype).itemsize * 8
    elements = st.one_of(
        st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.sampled_from(list(special_values(dtype))))
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    slope = draw(st.one_of(st.sampled_from(SLOPES),
                           st.floats(-1e4, 1e4, allow_nan=False, width=32)))
    return x, slope


@given(arrays_and_slopes())
def test_property_forward_mask_backward_match_torch(case):
    x, slope = case
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    want = torch_forward(x, slope)
    assert_same_bits(leaky.leaky_relu(x, slope), want)
    assert_same_bits(y, want)
    np.testing.assert_array_equal(mask, x > 0)
    grad = np.flip(x).copy()
    assert_same_bits(leaky.leaky_relu_backward(grad, mask, slope),
                     torch_backward(grad, x, slope))
