"""Every public function of leaky, as a typed program: ``mypy --strict``
checks it (tests/test_typing.py, CI), and it runs."""

import sys

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # Python 3.10: from typing_extensions, which torch and mypy bring
    from typing_extensions import assert_type

import numpy as np
import torch
from numpy.typing import NDArray

import leaky
import leaky.keras
import leaky.torch
from leaky import ufuncs


def numpy_round_trip(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Forward, both masks, backward: float32 in, float32 out."""
    y = leaky.leaky_relu(x, 0.1)
    assert_type(y, NDArray[np.float32])
    y, mask = leaky.leaky_relu_with_mask(x, 0.1)
    assert_type(mask, NDArray[np.bool_])
    y, bits = leaky.leaky_relu_with_mask(x, 0.1, packed=True)
    assert_type(bits, NDArray[np.uint8])
    grad = leaky.leaky_relu_backward(np.ones_like(x), bits, 0.1)
    assert_type(grad, NDArray[np.float32])
    return leaky.leaky_relu_backward(grad, mask, 0.1, out=grad)


def layer_round_trip(x: NDArray[np.float64]) -> NDArray[np.float64]:
    layer = leaky.LeakyReLU(0.2)
    y = layer(x)
    assert_type(y, NDArray[np.float64])
    assert layer.saved_nbytes > 0
    return layer.backward(np.ones_like(y))


def torch_round_trip(x: torch.Tensor) -> torch.Tensor:
    """A torch tensor in, the same kind out, through every entry point."""
    y = leaky.leaky_relu(x, 0.1)
    assert_type(y, torch.Tensor)
    _, bits = leaky.leaky_relu_with_mask(x, 0.1, packed=True)
    grad = leaky.leaky_relu_backward(torch.ones_like(x), bits, 0.1)
    assert_type(grad, torch.Tensor)
    module = leaky.torch.LeakyReLU(0.1, inplace=False)
    return leaky.torch.leaky_relu(module(y), 0.2) + grad


def scalars_and_ufuncs() -> float:
    value = leaky.leaky_relu(-2.0, 0.5)
    assert_type(value, np.float64)
    raw = ufuncs.leaky_relu(np.array([-1.0]), 0.5)
    return float(value) + float(raw[0]) + len(leaky.__version__)


def keras_layer() -> leaky.keras.LeakyReLU:
    layer = leaky.keras.LeakyReLU(negative_slope=0.3)
    assert layer.negative_slope == 0.3
    assert callable(leaky.keras.leaky_relu)
    return layer


if __name__ == "__main__":
    print(numpy_round_trip(np.array([-1.0, 2.0], dtype=np.float32)))
    print(layer_round_trip(np.array([-1.0, 2.0])))
    print(torch_round_trip(torch.tensor([-1.0, 2.0])))
    print(scalars_and_ufuncs(), keras_layer())
