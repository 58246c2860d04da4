"""Lucid backend: ``lucid.Tensor`` in, ``lucid.Tensor`` out, on its device.

A Lucid tensor holds its values in ``tensor.data``: a NumPy array on
device ``"cpu"``, an MLX array on ``"gpu"``.  The router hands
:func:`around` the backend of that array (:func:`inner`): NumPy's (leaky's
kernels) or MLX's.  This module only makes the calls Lucid operations:

* each call is an ``Operation`` of Lucid's own (``lucid._backend.core``),
  with a ``cpu`` and a ``gpu`` method under Lucid's ``func_op``, so Lucid
  checks devices, records the op for its tracer and, where the input
  requires grad, joins the result to its autograd graph;
* the forward keeps only the packed mask (one bit an element) for the
  backward, never the input (``leaky_relu_with_mask`` keeps the bool mask
  it returns); the backward is :func:`backward` itself,
  ``g if x > 0 else g * s`` (the slope at 0, as Lucid's own op), run as a
  Lucid operation too, so it is differentiable in turn;
* Lucid has no uint8: packed bits come as an int8 tensor holding the same
  bytes, which :func:`leaky.leaky_relu_backward` takes;
* Lucid's in-place machinery is for its own ops: ``out=`` is refused.
"""

import lucid
import mlx.core as mx
import numpy as np
from lucid._backend.core import Operation, func_op

from .. import _contract

from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "LucidBackend", "around", "inner"]

CAPABILITIES = Capabilities(
    library="Lucid", out=False, wraps=True,
    why_not={"out": "a Lucid tensor is written only by Lucid's own in-place operations, "
                    "which keep its autograd version counter"})


# The dtypes of packed bits in a Lucid tensor (int8) and for leaky (uint8),
# by the library of the tensor's array.
_INT8 = {"numpy": np.int8, "mlx": mx.int8}
_UINT8 = {"numpy": np.uint8, "mlx": mx.uint8}


def inner(x):
    """The array a Lucid tensor holds: NumPy on "cpu", MLX on "gpu"."""
    return x.data


def _grad_needed(x):
    return x.requires_grad and lucid.grad_enabled()


class _LeakyReLU(Operation):
    """Leaky ReLU as a Lucid operation over the data backend ``backend``;
    ``mask`` is None, "bool" or "packed": the mask to hand back beside the
    result (:attr:`mask`)."""

    def __init__(self, backend, slope, mask=None):
        super().__init__()
        self.backend, self.slope, self.mask_kind = backend, slope, mask
        self.mask = self._saved = None

    def clear(self):
        super().clear()
        self._saved = None

    @func_op(n_in=1, n_ret=1, device="cpu")
    def cpu(self, x):
        return self._forward(x, "cpu")

    @func_op(n_in=1, n_ret=1, device="gpu")
    def gpu(self, x):
        return self._forward(x, "gpu")

    def _forward(self, x, device):
        if self.mask_kind == "bool":
            y, self.mask = self.backend.forward_with_mask(x.data, self.slope)
        elif self.mask_kind == "packed" or _grad_needed(x):
            y, self.mask = self.backend.forward_packed(x.data, self.slope)
        else:
            y = self.backend.forward(x.data, self.slope)
        # what the backward reads; Lucid's clear() drops it where it keeps no
        # graph, while the mask asked for stays for the caller
        self._saved = self.mask
        self.result = lucid.Tensor(y, device=device)
        return self.result, self.__grad__

    def __grad__(self):
        return self.backend.backward(self.result.grad, self._saved, self.slope)


class _Backward(Operation):
    """``grad if mask else grad * slope`` as a Lucid operation: linear in
    ``grad``, so its own gradient is the same map of the incoming one."""

    def __init__(self, backend, slope):
        super().__init__()
        self.backend, self.slope = backend, slope
        self._mask = None

    def clear(self):
        super().clear()
        self._mask = None

    @func_op(n_in=1, n_ret=1, device="cpu")
    def cpu(self, grad, mask):
        return self._backward(grad, mask, "cpu")

    @func_op(n_in=1, n_ret=1, device="gpu")
    def gpu(self, grad, mask):
        return self._backward(grad, mask, "gpu")

    def _backward(self, grad, mask, device):
        self._mask = mask
        self.result = lucid.Tensor(self.backend.backward(grad.data, mask, self.slope),
                                   device=device)
        return self.result, self.__grad__

    def __grad__(self):
        return self.backend.backward(self.result.grad, self._mask, self.slope)


def _mask_tensor(op, x):
    """The mask as a Lucid tensor on ``x``'s device.  Lucid has no uint8:
    packed bits are an int8 tensor of the same bytes (:func:`_bits_of`)."""
    mask = op.mask
    if op.mask_kind == "packed":
        mask = mask.view(_INT8[_contract.library_name(mask)])
    return lucid.Tensor(mask, device=x.device)


def _bits_of(mask):
    """A mask tensor's array: bool, or the packed bytes again as uint8."""
    data = mask.data
    if _contract.dtype_name(data.dtype) == "int8":
        return data.view(_UINT8[_contract.library_name(data)])
    return data


class LucidBackend:
    """The protocol of :mod:`._protocol` for Lucid tensors whose data the
    backend ``data`` computes on."""

    CAPABILITIES = CAPABILITIES

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return f"LucidBackend(data={self.data.__name__})"

    def forward(self, x, slope, out=None):
        return _LeakyReLU(self.data, slope)(x)

    def forward_with_mask(self, x, slope, out=None):
        op = _LeakyReLU(self.data, slope, mask="bool")
        return op(x), _mask_tensor(op, x)

    def forward_packed(self, x, slope, out=None):
        op = _LeakyReLU(self.data, slope, mask="packed")
        return op(x), _mask_tensor(op, x)

    def backward(self, grad, mask, slope, out=None):
        # the data backend checks the mask before anything is computed
        return _Backward(self.data, slope)(grad, _bits_of(mask))


#: The Lucid backend over a data backend (the router keeps one per data backend).
around = LucidBackend
