"""What runs a call: the operators, unless a graph is being traced.

===========  =====================================  ==========================================
mode         when                                   what runs
===========  =====================================  ==========================================
operators    eager, the C++ library loaded: every   leaky's operators.  The dispatcher
             tensor and mode (CPU, CUDA, fake,      picks the kernel by the tensor's keys:
             meta, subclasses, ``torch.func``,      CPU, CUDA, fake/meta, vmap rules, and one
             forward AD, dispatch modes, jit)       autograd rule (``csrc/leaky_ops.cpp``)
compiling    ``torch.compiler.is_compiling()``,     :mod:`._functions` over :mod:`._aten`:
             or no C++ library (no compiler)        inductor fuses them; the bits are saved
exporting    ``torch.compiler.is_exporting()``,     :mod:`._aten` itself: the graph holds
             the legacy ONNX exporter's trace       torch's own ops (``where(x > 0, x, x*s)``),
                                                    so it runs and deploys without leaky
===========  =====================================  ==========================================

A trace is the one thing the dispatcher cannot tell: Dynamo and the
exporters read Python, not kernels.  Every function takes a slope the
caller validated (``leaky.leaky_relu``, ``leaky.torch``): a Python float.
"""

import torch

from . import _aten
from . import _functions

__all__ = ["backward", "bias_act", "forward", "forward_inplace", "forward_with_mask", "mode",
           "use_operators"]

OPERATORS, COMPILING, EXPORTING = "operators", "compiling", "exporting"
_operators = None  # the C++ module's entries to the operators, once loaded
_has_torch_function = torch._C._has_torch_function
_is_compiling, _is_exporting = torch.compiler.is_compiling, torch.compiler.is_exporting
_is_tracing, _in_onnx_export = torch._C._is_tracing, torch.onnx.is_in_onnx_export


def use_operators(module):
    """The C++ module whose entries call the operators (None: none)."""
    global _operators
    _operators = module


def mode():
    """The mode of this call (the table above)."""
    if _is_compiling():  # Dynamo, and torch.export
        return EXPORTING if _is_exporting() else COMPILING
    if _is_tracing() and _in_onnx_export():  # the legacy ONNX exporter traces
        return EXPORTING
    return OPERATORS if _operators is not None else COMPILING


def _operator(name, tensors, slope, names=("x",)):
    """The operator ``name`` through the dispatcher: from the C++ module, or
    from ``torch.ops`` where a tensor or a mode overrides
    ``__torch_function__`` (``torch.ops`` hands it over, as torch's own
    Python functions do).  Where no kernel serves a tensor (sparse, nested,
    quantized), the contract names it."""
    try:
        if _has_torch_function(tensors):
            return getattr(torch.ops.leaky, name).default(*tensors, slope)
        return getattr(_operators, name)(*tensors, slope)
    except (NotImplementedError, TypeError):
        for tensor, what in zip(tensors, names):
            _aten.check_tensor(tensor, what)
        raise


def _checked(x, slope, what="x"):
    """``slope``, after the contract's checks of ``x`` (its dtype, and
    that the slope fits the precision it is computed in)."""
    _aten.check_tensor(x, what)
    _aten.output_dtype(x, slope, what)
    return slope


def forward(x, slope):
    """``x if x > 0 else slope * x``, under autograd as it records."""
    how = mode()
    if how is OPERATORS:
        return _operator("leaky_relu", (x,), slope)
    slope = _checked(x, slope)
    if how is EXPORTING:
        return _aten.forward(x, slope)
    return _functions.LeakyReLU.apply(x, slope, True)[0]


def forward_inplace(x, slope):
    """Leaky ReLU written into ``x``; returns ``x``."""
    if mode() is OPERATORS:
        _operator("leaky_relu_", (x,), slope)
        return x
    slope = _checked(x, slope)
    _aten.check_inplace(x, slope)
    if mode() is EXPORTING or (not _is_compiling() and _is_tracing()):
        return x.copy_(_aten.forward(x, slope))  # jit.trace records no in-place Function
    return _functions.LeakyReLUInPlace.apply(x, slope)[0]


def forward_with_mask(x, slope, packed):
    """``(y, x > 0)``, the mask packed to bits or bool."""
    how = mode()
    if how is OPERATORS:
        return _operator("leaky_relu_packed" if packed else "leaky_relu_with_mask", (x,), slope)
    slope = _checked(x, slope)
    if how is EXPORTING:
        return (_aten.forward_packed if packed else _aten.forward_with_mask)(x, slope)
    return _functions.LeakyReLU.apply(x, slope, packed)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    how = mode()
    if how is OPERATORS:
        return _operator("leaky_relu_backward", (grad, mask), slope, ("grad_output", "mask"))
    _aten.check_tensor(mask, "mask")
    slope = _checked(grad, slope, "grad_output")
    if how is EXPORTING:
        return _aten.backward(grad, mask, slope)
    return _functions.LeakyReLUGrad.apply(grad, mask, slope)


def bias_act(x, b, dim, spec):
    """StyleGAN's fused bias + activation + gain + clamp (``spec``: a
    :class:`leaky._bias_act.Spec`), after the contract's checks of ``x``
    and ``b``, in the modes of the table above: the operators, or the
    reference chain in torch's own ops (:mod:`._aten`) inside
    :class:`._functions.BiasAct` (which saves the bits) or as it is."""
    dim = _aten.check_bias_act(x, b, dim, spec)
    args = (dim, spec.code, spec.alpha, spec.gain, spec.clamp)
    how = mode()
    if how is EXPORTING:
        return _aten.bias_act(x, b, *args)
    if how is COMPILING:
        return _functions.BiasAct.apply(x, b, *args)[0]
    if _has_torch_function((x,) if b is None else (x, b)):
        return torch.ops.leaky.bias_act.default(x, b, *args)
    return _operators.bias_act(x, b, *args)
