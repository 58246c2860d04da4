"""The ``out=`` face of the torch backend: ``leaky.leaky_relu(tensor,
out=...)`` and its two siblings.

``out=x`` is in place (:func:`._modes.forward_inplace`).  Any other
``out`` is checked (shape, dtype, ``torch.Tensor``) before anything is
written, refused while autograd records (as torch's own ``out=`` functions
refuse it), and written with ``copy_``, which bumps its version counter.
"""

import torch

from ... import _checks
from ... import _packing
from . import _aten
from . import _modes

__all__ = ["backward", "forward", "forward_packed", "forward_with_mask"]


def _is_view_of(a, b):
    """``a`` is ``b``, or the very same view of the same memory (asked of
    the storages, never of a data pointer: a FakeTensor has none)."""
    return a is b or (isinstance(a, torch.Tensor) and torch._C._is_alias_of(a, b)
                      and a.storage_offset() == b.storage_offset() and a.shape == b.shape
                      and a.stride() == b.stride() and a.dtype == b.dtype)


def _into(run, outs, expected, inputs):
    """``run()``'s results, each copied into its ``out`` (None: returned
    itself); every given ``out`` checked against its ``(shape, dtype,
    name)`` in ``expected``, and refused while autograd records, before
    anything runs."""
    given = [out for out in outs if out is not None]
    for out, (shape, dtype, name) in zip(outs, expected):
        if out is not None:
            _checks.check_out(out, shape, dtype, name, torch.Tensor)
    if (torch.is_grad_enabled() and any(t.requires_grad for t in (*inputs, *given))) \
            or torch.autograd.forward_ad._current_level >= 0:
        raise RuntimeError(
            "leaky_relu(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad (use the "
            "returned tensor, or inplace=True / out=x)")
    results = run()
    for out, result in zip(outs, results):
        if out is not None:
            out.copy_(result)
    return tuple(r if o is None else o for r, o in zip(results, outs))


def forward(x, slope, out=None):
    out = out if out is None else _checks.split_single_out(out)  # the common call: no out
    if out is None:
        return _modes.forward(x, slope)
    if _is_view_of(out, x):
        return _modes.forward_inplace(x, slope)
    expected = [(x.shape, _aten.output_dtype(x, slope), "out")]
    return _into(lambda: (_modes.forward(x, slope),), (out,), expected, (x,))[0]


def _forward_pair(x, slope, out, packed):
    outs = _checks.split_out_pair(out)
    if all(o is None for o in outs):
        return _modes.forward_with_mask(x, slope, packed)
    mask = ((_packing.packed_size(x.numel()),), torch.uint8) if packed else (x.shape, torch.bool)
    expected = [(x.shape, _aten.output_dtype(x, slope), "out[0]"), (*mask, "out[1]")]
    return _into(lambda: _modes.forward_with_mask(x, slope, packed), outs, expected, (x,))


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
    expected = [(grad.shape, _aten.output_dtype(grad, slope, "grad_output"), "out")]
    return _into(lambda: (_modes.backward(grad, mask, slope),), (out,), expected, (grad,))[0]
