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
caller validated (``leaky.leaky_relu``, ``leaky.torch``): a Python float
(under Dynamo perhaps a symbolic one: :func:`_concrete`).
"""

import torch
from torch.fx.experimental.symbolic_shapes import guard_scalar

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


def _operator(name, tensors, args, names=("x",)):
    """The operator ``name`` on ``tensors``, then ``args``, through the
    dispatcher: from the C++ module, or ``torch.ops`` where a tensor or mode
    overrides ``__torch_function__`` (which ``torch.ops`` hands over).  Where
    no kernel serves a tensor (sparse, nested, quantized), the contract says."""
    try:
        if _has_torch_function(tensors):
            return getattr(torch.ops.leaky, name).default(*tensors, *args)
        return getattr(_operators, name)(*tensors, *args)
    except (NotImplementedError, TypeError):
        for tensor, what in zip(tensors, names):
            _aten.check_tensor(tensor, what)
        raise


def _concrete(number):
    """``number`` as a Python number: Dynamo passes a float it saw take two
    values (a module's slope) as a symbolic one, and leaky's checks and
    rule need the number, so the graph guards on it (one graph a value)."""
    return guard_scalar(number) if _is_compiling() else number


def _checked(x, slope, what="x"):
    """``slope`` (a number), after the contract's checks of ``x`` (its
    dtype, and that the slope fits the precision it is computed in)."""
    slope = _concrete(slope)
    _aten.check_tensor(x, what)
    _aten.output_dtype(x, slope, what)
    return slope


def _traced(x, b, dim, rule):
    """bias_act's y (leaky_relu's with ``rule`` of :func:`._aten.leaky`)
    where a graph is traced: the aten chain itself when exporting, else
    :class:`._functions.BiasAct`, which saves the bits."""
    if mode() is EXPORTING:
        return _aten.bias_act(x, b, dim, *rule)
    return _functions.BiasAct.apply(x, b, dim, *rule, "internal")[0]


def forward(x, slope):
    """``x if x > 0 else slope * x``, under autograd as it records."""
    if mode() is OPERATORS:
        return _operator("leaky_relu", (x,), (slope,))
    return _traced(x, None, 0, _aten.leaky(_checked(x, slope)))


def forward_inplace(x, slope):
    """Leaky ReLU written into ``x``; returns ``x``."""
    if mode() is OPERATORS:
        _operator("leaky_relu_", (x,), (slope,))
        return x
    slope = _checked(x, slope)
    _aten.check_inplace(x, slope)
    if mode() is EXPORTING or (not _is_compiling() and _is_tracing()):
        return x.copy_(_aten.forward(x, slope))  # jit.trace records no in-place Function
    return _functions.LeakyReLUInPlace.apply(x, slope)[0]


def forward_with_mask(x, slope, packed):
    """``(y, x > 0)``, the mask packed to bits (C order) or bool."""
    if mode() is OPERATORS:
        name = "leaky_relu_packed" if packed else "leaky_relu_with_mask"
        return _operator(name, (x,), (slope,))
    slope = _checked(x, slope)
    if mode() is EXPORTING:
        return (_aten.forward_packed if packed else _aten.forward_with_mask)(x, slope)
    mask = "packed" if packed else "bool"
    return _functions.BiasAct.apply(x, None, 0, *_aten.leaky(slope), mask)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    if mode() is OPERATORS:
        return _operator("leaky_relu_backward", (grad, mask), (slope,), ("grad_output", "mask"))
    _aten.check_tensor(mask, "mask")
    rule = _aten.leaky(_checked(grad, slope, "grad_output"))
    if mode() is EXPORTING:
        return _aten.bias_act_backward(grad, mask, *rule)
    return _functions.BiasActGrad.apply(grad, mask, *rule, False)


def bias_act(x, b, dim, spec):
    """StyleGAN's fused bias + activation + gain + clamp (``spec``: a
    :class:`leaky._bias_act.Spec`), after the contract's checks, by mode."""
    if _is_compiling():  # a new spec only where Dynamo may pass symbolic numbers
        spec = spec.with_numbers(_concrete)
    dim = _aten.check_bias_act(x, b, dim, spec)
    rule = (spec.code, spec.alpha, spec.gain, spec.clamp)
    if mode() is OPERATORS:
        return _operator("bias_act", (x, b), (dim, *rule))
    return _traced(x, b, dim, rule)
