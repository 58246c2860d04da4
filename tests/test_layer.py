"""The LeakyReLU layer: forward keeps the mask, backward uses it."""

import numpy as np
import pytest

import leaky
from helpers import assert_same_bits, torch_backward, torch_forward


def test_forward_then_backward_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    x[0, :3] = [0.0, -0.0, np.nan]
    grad = rng.standard_normal((8, 5)).astype(np.float32)
    layer = leaky.LeakyReLU(0.2)
    assert_same_bits(layer(x), torch_forward(x, 0.2))
    assert_same_bits(layer.backward(grad), torch_backward(grad, x, 0.2))


def test_layer_keeps_only_the_bool_mask():
    layer = leaky.LeakyReLU()
    x = np.linspace(-1, 1, 10)
    layer(x)
    assert layer._mask.dtype == np.bool_
    assert not np.shares_memory(layer._mask, x)


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="before any forward"):
        leaky.LeakyReLU().backward(np.ones(3))


@pytest.mark.parametrize("slope, error", [(float("nan"), ValueError), ("a", TypeError),
                                          (np.inf, ValueError), (None, TypeError)])
def test_invalid_slope_fails_at_construction(slope, error):
    with pytest.raises(error, match="negative_slope"):
        leaky.LeakyReLU(slope)


def test_slope_attribute_and_repr():
    layer = leaky.LeakyReLU(np.float32(0.5))
    assert layer.negative_slope == 0.5 and type(layer.negative_slope) is float
    assert repr(layer) == "LeakyReLU(negative_slope=0.5)"
    assert repr(leaky.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    with pytest.raises(ValueError):
        layer.negative_slope = float("nan")
    assert layer.negative_slope == 0.5


def test_backward_shape_must_match_last_forward():
    layer = leaky.LeakyReLU()
    layer(np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        layer.backward(np.ones(5))
