"""The route table: for each mode a torch call can be in, what runs.

Every decision about a tensor's mode is made here, once a call:

===========  ==========================================  ===========================================
mode         recognised by                                what runs
===========  ==========================================  ===========================================
plain        the operator library's ``direct_*``          leaky's kernels without the dispatcher; in
             accepting the call: an exact Tensor, dense   C++ also with autograd (a node that saves
             CPU float, no tracer, dispatch or function   the packed bits)
             mode, functorch wrapper or forward tangent
compiling    ``torch.compiler.is_compiling()``, not       :mod:`._functions` over the aten
             exporting                                    decomposition (:mod:`._aten`): inductor
                                                          fuses it; the bits are what is saved
exporting    ``torch.compiler.is_exporting()``:           the aten decomposition itself: the
             ``torch.export`` and the exporters built     exported program holds torch's own ops
             on it (ONNX, AOTInductor)                    (``where(x > 0, x, x * s)``), so it runs
                                                          and deploys without leaky, and ONNX
                                                          gets Greater/Mul/Where
functorch    a functorch-wrapped tensor (``torch.func``   C++ library: its operators, whose autograd
             transforms), or forward-mode AD active       has forward-mode tangents and vmap rules.
                                                          Python library (no forward mode): the
                                                          aten decomposition itself
dispatcher   everything else: ``torch.jit`` trace and     ``torch.ops.leaky.*``: the dispatcher picks
             script, dispatch modes,                      the kernel (CPU, CUDA, fake/meta) and its
             FakeTensor, meta, CUDA, other layouts        autograd
===========  ==========================================  ===========================================

The in-place operator goes through the dispatcher only where its autograd is
native (the C++ library, or no gradient needed) and ``x`` has no negative
bit (torch's fallback for that bit needs an in-place operator to return its
tensor; ``leaky_relu_`` returns nothing); elsewhere it is the out-of-place
forward and torch's own ``copy_``, which autograd and functionalization
both understand.
"""

import torch

from ... import _contract
from ... import _packing
from . import _aten
from . import _functions
from . import _tensor_kernels as _tk

__all__ = ["backward", "bind", "forward", "forward_inplace", "forward_with_mask", "mode"]

PLAIN, COMPILING, EXPORTING, FUNCTORCH, DISPATCHER = (
    "plain", "compiling", "exporting", "functorch", "dispatcher")
# The modes that run the aten decomposition itself.
_ATEN = frozenset((EXPORTING, FUNCTORCH))

_is_functorch_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
_direct = None  # the operator library's module (direct_* functions)


_native_autograd = False  # the C++ library: autograd for every mode but compile


def bind(library):
    """Use ``library`` (:class:`._loader.Library`) for plain calls."""
    global _direct, _native_autograd
    _direct, _native_autograd = library.module, library.kind == "C++"


def mode(*tensors):
    """The mode of a call that is not plain (the table above)."""
    if torch.compiler.is_compiling():
        return EXPORTING if torch.compiler.is_exporting() else COMPILING
    if not _native_autograd and (torch.autograd.forward_ad._current_level >= 0 or any(
            _is_functorch_wrapped(t) for t in tensors)):
        return FUNCTORCH
    return DISPATCHER


def _check(x, what="x"):
    """Refuse what leaky cannot compute correctly, naming it."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_nested:
        raise TypeError(f"leaky_relu got a nested tensor as {what}: only dense tensors "
                        "are supported")
    if x.layout is not torch.strided:
        raise TypeError(f"leaky_relu got {what} with layout {x.layout}: only dense "
                        "(torch.strided) tensors are supported")
    if x.is_quantized:
        raise TypeError(f"leaky_relu got {what} with quantized dtype {x.dtype}: "
                        "dequantize it first")


def _try_direct(slope):
    """Whether to try the direct binding first: a float slope (the binding
    takes no other), and not while Dynamo traces (it cannot see into it)."""
    return type(slope) is float and not torch.compiler.is_compiling()


def _validated(x, slope, what="x"):
    """The contract, for a call the direct binding did not take: the
    checked slope and the result dtype."""
    _check(x, what)
    slope = _contract.validate_slope(slope)
    return slope, _tk.output_dtype(x, slope, what)


def forward(x, slope):
    """``x if x > 0 else slope * x``, under autograd as it records."""
    if _try_direct(slope):
        y = _direct.direct_forward(x, slope, False)
        if y is not None:
            return y
    slope, _ = _validated(x, slope)
    how = mode(x)
    if how == DISPATCHER:
        return torch.ops.leaky.leaky_relu(x, slope)
    if how in _ATEN:
        return _aten.forward(x, slope)
    return _functions.LeakyReLU.apply(x, slope, True)[0]


def forward_inplace(x, slope):
    """Leaky ReLU written into ``x``; returns ``x``."""
    if _try_direct(slope):
        y = _direct.direct_forward(x, slope, True)
        if y is not None:
            return y
    slope, _ = _validated(x, slope)
    _tk.check_inplace(x, slope)
    native = _native_autograd or not (torch.is_grad_enabled() and x.requires_grad)
    if mode(x) == DISPATCHER and native and not x.is_neg():
        torch.ops.leaky.leaky_relu_(x, slope)
        return x
    return x.copy_(forward(x, slope))


def forward_with_mask(x, slope, packed):
    """``(y, x > 0)``, the mask packed to bits or bool."""
    if _try_direct(slope):
        pair = _direct.direct_forward_with_mask(x, slope, packed)
        if pair is not None:
            return pair
    slope, _ = _validated(x, slope)
    how = mode(x)
    if how == DISPATCHER:
        op = torch.ops.leaky.leaky_relu_packed if packed else torch.ops.leaky.leaky_relu_with_mask
        return op(x, slope)
    if how in _ATEN:
        y, mask = _aten.forward_with_mask(x, slope)
        return y, (_packing.pack(_aten.BIT_OPS, mask, mask.device) if packed else mask)
    return _functions.LeakyReLU.apply(x, slope, packed)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    if _try_direct(slope):
        grad_input = _direct.direct_backward(grad, mask, slope)
        if grad_input is not None:
            return grad_input
    _check(mask, "mask")
    slope, _ = _validated(grad, slope, "grad_output")
    how = mode(grad, mask)
    if how == DISPATCHER:
        return torch.ops.leaky.leaky_relu_backward(grad, mask, slope)
    if how in _ATEN:
        return _aten.backward(grad, mask, slope)
    return _functions.LeakyReLUGrad.apply(grad, mask, slope)
