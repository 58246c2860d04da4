"""What runs a call: the operators, unless a graph is being traced.

===========  =====================================  ==========================================
mode         when                                   what runs
===========  =====================================  ==========================================
operators    eager, the C++ library loaded: every   ``torch.ops.leaky.*``.  The dispatcher
             tensor and mode (CPU, CUDA, fake,      picks the kernel by the tensor's keys:
             meta, subclasses, ``torch.func``,      CPU, CUDA, fake/meta, vmap rules, and one
             forward AD, dispatch modes, jit)       autograd rule (``csrc/leaky_ops.cpp``)
compiling    ``torch.compiler.is_compiling()``,     :mod:`._functions` over :mod:`._aten`:
             or no C++ library (no compiler)        inductor fuses them; the bits are saved
exporting    ``torch.compiler.is_exporting()``,     :mod:`._aten` itself: the graph holds
             ``torch.onnx.is_in_onnx_export()``     torch's own ops (``where(x > 0, x, x*s)``),
                                                    so it runs and deploys without leaky
===========  =====================================  ==========================================

A trace is the one thing the dispatcher cannot tell: Dynamo and the
exporters read Python, not kernels.  Each function checks the slope once
(the operators take a Python float).
"""

import torch

from ... import _contract
from ... import _packing
from . import _aten
from . import _functions

__all__ = ["OPERATORS", "backward", "forward", "forward_inplace", "forward_with_mask", "mode",
           "use_operators"]

OPERATORS, COMPILING, EXPORTING = "operators", "compiling", "exporting"
_has_operators = False


def use_operators(available):
    """Whether the C++ operators are registered (set once, at import)."""
    global _has_operators
    _has_operators = available


def mode():
    """The mode of this call (the table above)."""
    if torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export():
        return EXPORTING
    if torch.compiler.is_compiling() or not _has_operators:
        return COMPILING
    return OPERATORS


def _checked(x, slope, what="x"):
    """The slope as a float, after the contract's checks of ``x``."""
    _aten.check_tensor(x, what)
    slope = _contract.validate_slope(slope)
    _aten.output_dtype(x, slope, what)
    return slope


def forward(x, slope):
    """``x if x > 0 else slope * x``, under autograd as it records."""
    how = mode()
    if how is OPERATORS:
        _aten.check_tensor(x)
        return torch.ops.leaky.leaky_relu.default(x, _contract.validate_slope(slope))
    slope = _checked(x, slope)
    if how is EXPORTING:
        return _aten.forward(x, slope)
    return _functions.LeakyReLU.apply(x, slope, True)[0]


def forward_inplace(x, slope):
    """Leaky ReLU written into ``x``; returns ``x``."""
    if mode() is OPERATORS:
        _aten.check_tensor(x)
        torch.ops.leaky.leaky_relu_.default(x, _contract.validate_slope(slope))
        return x
    _aten.check_inplace(x, _checked(x, slope))
    return x.copy_(forward(x, slope))


def forward_with_mask(x, slope, packed):
    """``(y, x > 0)``, the mask packed to bits or bool."""
    how = mode()
    if how is OPERATORS:
        _aten.check_tensor(x)
        op = torch.ops.leaky.leaky_relu_packed if packed else torch.ops.leaky.leaky_relu_with_mask
        return op.default(x, _contract.validate_slope(slope))
    slope = _checked(x, slope)
    if how is EXPORTING:
        y, mask = _aten.forward_with_mask(x, slope)
        return y, (_packing.pack(_aten.BIT_OPS, mask, mask.device) if packed else mask)
    return _functions.LeakyReLU.apply(x, slope, packed)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    _aten.check_tensor(mask, "mask")
    how = mode()
    if how is OPERATORS:
        _aten.check_tensor(grad, "grad_output")
        return torch.ops.leaky.leaky_relu_backward.default(grad, mask,
                                                           _contract.validate_slope(slope))
    slope = _checked(grad, slope, "grad_output")
    if how is EXPORTING:
        return _aten.backward(grad, mask, slope)
    return _functions.LeakyReLUGrad.apply(grad, mask, slope)
