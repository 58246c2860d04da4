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


def test_layer_keeps_only_the_packed_mask():
    layer = leaky.LeakyReLU()
    x = np.linspace(-1, 1, 1024, dtype=np.float32)
    layer(x)
    assert layer._mask.dtype == np.uint8 and layer._mask.shape == (128,)
    assert not np.shares_memory(layer._mask, x)
    # one bit per element: 1/32 of the float32 input, 1/8 of a bool mask
    assert layer.saved_nbytes * 32 == x.nbytes
    bool_layer = leaky.LeakyReLU(packed=False)
    bool_layer(x)
    assert bool_layer._mask.dtype == np.bool_ and bool_layer.saved_nbytes == 8 * layer.saved_nbytes


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0,)])
def test_packed_and_bool_layers_give_the_same_gradients(shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    grad = rng.standard_normal(shape).astype(np.float32)
    packed, plain = leaky.LeakyReLU(0.3), leaky.LeakyReLU(0.3, packed=False)
    assert_same_bits(packed(x), plain(x))
    assert_same_bits(packed.backward(grad), plain.backward(grad))
    assert_same_bits(packed.backward(grad), torch_backward(grad, x, 0.3))


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
    assert repr(leaky.LeakyReLU(packed=False)) == "LeakyReLU(negative_slope=0.01, packed=False)"
    with pytest.raises(ValueError):
        layer.negative_slope = float("nan")
    assert layer.negative_slope == 0.5


def test_backward_shape_must_match_last_forward():
    layer = leaky.LeakyReLU()
    layer(np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        layer.backward(np.ones(5))


def test_layer_keeps_a_bool_mask_for_dask_which_cannot_pack():
    da = pytest.importorskip("dask.array")
    layer = leaky.LeakyReLU(0.1)
    x = da.from_array(np.arange(-4.0, 4.0), chunks=3)
    y = layer(x)
    assert isinstance(y, da.Array) and layer._mask.dtype == np.bool_
    np.testing.assert_array_equal(layer.backward(da.ones(8, chunks=3)).compute(),
                                  np.where(np.arange(-4.0, 4.0) > 0, 1.0, 0.1))
