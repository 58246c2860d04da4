"""The Python operator library: the C++ library's schemas, registered with
``torch.library.custom_op``, for when the C++ one cannot be had (no
compiler, say).  Same results bit for bit, more slowly: a Python
operator costs several microseconds a call more than a C++ one.

It has the C++ module's interface too (:func:`register`, and the
``direct_*`` functions, which here take only plain calls that need no
autograd: anything else goes through the dispatcher).
"""

import math

import torch

from ... import _contract
from ... import _packing
from . import _aten
from . import _tensor_kernels as _tk

__all__ = ["direct_backward", "direct_forward", "direct_forward_with_mask", "register"]

_FLOAT_DTYPES = frozenset((torch.float16, torch.bfloat16, torch.float32, torch.float64))
_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
_dispatch_modes_active = torch._C._len_torch_dispatch_stack
_is_functorch_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def register():
    """Define the operators (once): schemas, kernels for every device, autograd."""
    if hasattr(torch.ops.leaky, "leaky_relu"):
        return

    @torch.library.custom_op("leaky::leaky_relu", mutates_args=())
    def leaky_relu(x: torch.Tensor, negative_slope: float) -> torch.Tensor:
        return _tk.forward(x, negative_slope)

    @torch.library.custom_op("leaky::leaky_relu_with_mask", mutates_args=())
    def leaky_relu_with_mask(x: torch.Tensor,
                             negative_slope: float) -> tuple[torch.Tensor, torch.Tensor]:
        return _tk.forward_with_mask(x, negative_slope)

    @torch.library.custom_op("leaky::leaky_relu_packed", mutates_args=())
    def leaky_relu_packed(x: torch.Tensor,
                          negative_slope: float) -> tuple[torch.Tensor, torch.Tensor]:
        return _tk.forward_packed(x, negative_slope)

    @torch.library.custom_op("leaky::leaky_relu_backward", mutates_args=())
    def leaky_relu_backward(grad_output: torch.Tensor, mask: torch.Tensor,
                            negative_slope: float) -> torch.Tensor:
        return _tk.backward(grad_output, mask, negative_slope)

    @torch.library.custom_op("leaky::leaky_relu_", mutates_args=("x",))
    def leaky_relu_(x: torch.Tensor, negative_slope: float) -> None:
        _tk.inplace(x, negative_slope)

    leaky_relu.register_autograd(_gradient, setup_context=_save_bits_of_input)
    leaky_relu_with_mask.register_autograd(_gradient, setup_context=_save_output_mask)
    leaky_relu_packed.register_autograd(_gradient, setup_context=_save_output_mask)
    leaky_relu_backward.register_autograd(_gradient, setup_context=_save_input_mask)


def _keep(ctx, inputs, mask, order=None):
    """What every backward needs: the mask (bits or bool), the slope, the
    arity, and the order of the dimensions the bits were packed in."""
    ctx.save_for_backward(mask)
    ctx.slope = inputs[-1]
    ctx.n_inputs = len(inputs)
    ctx.order = order


def _memory_order(x):
    """``x``'s dimensions from the largest stride to the smallest (None for C
    order): ``x.permute(order)`` is contiguous when ``x`` is dense."""
    if x.dim() < 2 or x.is_contiguous():
        return None
    return sorted(range(x.dim()), key=lambda dim: -x.stride(dim))


def _inverse(order):
    return sorted(range(len(order)), key=order.__getitem__)


def _save_bits_of_input(ctx, inputs, output):
    """leaky_relu's own bits, never returned: packed in x's memory order, as
    the C++ operators pack theirs (a channels-last x read as it lies)."""
    x = inputs[0].detach()
    order = _memory_order(x)
    keep = (x if order is None else x.permute(order)) > 0
    _keep(ctx, inputs, _packing.pack(_aten.BIT_OPS, keep, keep.device), order)


def _save_output_mask(ctx, inputs, output):
    ctx.mark_non_differentiable(output[1])
    _keep(ctx, inputs, output[1])


def _save_input_mask(ctx, inputs, output):
    _keep(ctx, inputs, inputs[1])


def _gradient(ctx, grad, *unused):
    """Every operator's derivative: the backward operator on the saved mask."""
    (mask,) = ctx.saved_tensors
    if ctx.order is None:
        grad_input = torch.ops.leaky.leaky_relu_backward(grad, mask, ctx.slope)
    else:
        grad_input = torch.ops.leaky.leaky_relu_backward(
            grad.permute(ctx.order), mask, ctx.slope).permute(_inverse(ctx.order))
    return (grad_input,) + (None,) * (ctx.n_inputs - 1)


# ------------------------------------------------------------ direct calls --

def _plain(x, slope):
    """A dense CPU float tensor in plain eager mode that needs no autograd,
    and a slope that fits every compute dtype."""
    return (math.isfinite(slope) and _contract.fits_every_dtype(slope)
            and type(x) in _PLAIN_TYPES and x.dtype in _FLOAT_DTYPES and x.is_cpu
            and x.layout is torch.strided and not x.is_nested and not x.is_neg()
            and not (x.requires_grad and torch.is_grad_enabled())
            and not torch.jit.is_tracing() and not _dispatch_modes_active()
            and not _is_functorch_wrapped(x) and not torch._C._is_torch_function_mode_enabled()
            and torch.autograd.forward_ad._current_level < 0)


def direct_forward(x, slope, inplace):
    """The kernels without the dispatcher, for a plain call; else None."""
    if not _plain(x, slope):
        return None
    if inplace:
        _tk.inplace(x, slope)
        torch.autograd.graph.increment_version(x)
        return x
    return _tk.forward(x, slope)


def direct_forward_with_mask(x, slope, packed):
    if not _plain(x, slope):
        return None
    return (_tk.forward_packed if packed else _tk.forward_with_mask)(x, slope)


def direct_backward(grad, mask, slope):
    if not (_plain(grad, slope) and type(mask) in _PLAIN_TYPES and mask.is_cpu):
        return None
    return _tk.backward(grad, mask, slope)
