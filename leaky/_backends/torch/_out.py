"""The ``out=`` face of the torch backend: ``leaky.leaky_relu(tensor,
out=...)`` and its two siblings.

``out=x`` is in place (:func:`._modes.forward_inplace`, version counter
bumped, autograd recorded).  Any other ``out`` is checked (shape, dtype,
``torch.Tensor``) before anything is written, refused while autograd
records (as torch's own ``out=`` functions refuse it), and written with
torch's ``copy_``, which bumps its version counter.
"""

import torch

from ... import _checks
from ... import _packing
from . import _aten
from . import _modes

__all__ = ["backward", "forward", "forward_packed", "forward_with_mask"]


def _records_grad(*tensors):
    return (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)) \
        or torch.autograd.forward_ad._current_level >= 0


def _refuse_under_autograd(*tensors):
    if _records_grad(*tensors):
        raise RuntimeError(
            "leaky_relu(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad (use the "
            "returned tensor, or inplace=True / out=x)")


def _is_view_of(a, b):
    """``a`` is ``b``, or the very same view of the same memory (asked of
    the storages, never of a data pointer: a FakeTensor has none)."""
    return a is b or (isinstance(a, torch.Tensor) and torch._C._is_alias_of(a, b)
                      and a.storage_offset() == b.storage_offset() and a.shape == b.shape
                      and a.stride() == b.stride() and a.dtype == b.dtype)


def _checked_out(out, shape, dtype, name):
    return _checks.check_out(out, shape, dtype, name, torch.Tensor)


def _deliver(results, outs, inputs):
    """Copy each result into its ``out`` (None: return the result itself)."""
    given = [o for o in outs if o is not None]
    if given:
        _refuse_under_autograd(*inputs, *given)
    for out, result in zip(outs, results):
        if out is not None:
            out.copy_(result)
    return tuple(r if o is None else o for r, o in zip(results, outs))


def forward(x, slope, out=None):
    if out is None:  # the common call, first
        return _modes.forward(x, slope)
    out = _checks.split_single_out(out)
    if out is None:
        return _modes.forward(x, slope)
    if _is_view_of(out, x):
        return _modes.forward_inplace(x, slope)
    _checked_out(out, x.shape, _aten.output_dtype(x, slope), "out")
    return _deliver((_modes.forward(x, slope),), (out,), (x,))[0]


def _forward_pair(x, slope, out, packed):
    y_out, mask_out = _checks.split_out_pair(out)
    if y_out is None and mask_out is None:
        return _modes.forward_with_mask(x, slope, packed)
    if y_out is not None:
        _checked_out(y_out, x.shape, _aten.output_dtype(x, slope), "out[0]")
    if mask_out is not None:
        shape = (_packing.packed_size(x.numel()),) if packed else x.shape
        _checked_out(mask_out, shape, torch.uint8 if packed else torch.bool, "out[1]")
    _refuse_under_autograd(x, *(o for o in (y_out, mask_out) if o is not None))
    return _deliver(_modes.forward_with_mask(x, slope, packed), (y_out, mask_out), (x,))


def forward_with_mask(x, slope, out=None):
    return _forward_pair(x, slope, out, packed=False)


def forward_packed(x, slope, out=None):
    """Leaky ReLU and the bits of ``x > 0`` (uint8, C order, same device)."""
    return _forward_pair(x, slope, out, packed=True)


def backward(grad, mask, slope, out=None):
    _checks.check_mask(mask, grad.shape)
    out = _checks.split_single_out(out)
    if out is None:
        return _modes.backward(grad, mask, slope)
    _checked_out(out, grad.shape, _aten.output_dtype(grad, slope, "grad_output"), "out")
    return _deliver((_modes.backward(grad, mask, slope),), (out,), (grad,))[0]
