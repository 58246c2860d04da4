"""leaky's operators written in aten ops: the decomposition.

torch.compile runs these (through :mod:`._functions`) instead of leaky's
kernels, so inductor fuses them with their neighbours as it fuses torch's
own ``leaky_relu``; exporters and ``ExportedProgram.run_decompositions``
use them as the operators' decompositions.  The math is torch's reference
for ``F.leaky_relu`` (``torch._refs``): a select ``where(x > 0, x, x * s)``,
with float16/bfloat16 computed in float32 and rounded once.  Packed bits
are laid out as everywhere in leaky (``_contract.BIT_WEIGHTS``): bit ``k``
of byte ``j`` is element ``8 j + k``, in C order.
"""

import math

import torch

__all__ = ["backward", "forward", "forward_packed", "forward_with_mask", "pack", "pack_rows",
           "unpack", "unpack_rows"]

_HALF = (torch.float16, torch.bfloat16)


def _result(x):
    """``x`` in its result dtype: bool and integers as ``torch.sin`` promotes."""
    if x.dtype.is_floating_point:
        return x
    return x.to(torch.get_default_dtype())


def _times_slope(v, slope):
    """``v * slope`` in the compute precision, rounded once to ``v``'s dtype."""
    if v.dtype in _HALF:
        return (v.to(torch.float32) * slope).to(v.dtype)
    return v * slope


def forward(x, slope):
    x = _result(x)
    return torch.where(x > 0, x, _times_slope(x, slope))


def forward_with_mask(x, slope):
    x = _result(x)
    keep = x > 0
    return torch.where(keep, x, _times_slope(x, slope)), keep


def _or_of_shifted(flat):
    """``flat[..., k] << k`` OR-ed over the last dimension (of 8): pointwise,
    which inductor vectorizes (a sum over 8 would be a reduction, 1.5 times
    slower a training step)."""
    out = flat[..., 0]
    for k in range(1, 8):
        out = out | (flat[..., k] << k)
    return out


def pack_rows(keep):
    """Each row of a 2-D bool tensor packed 8 to a byte, in order, little
    bit order: ``(rows, ceil(columns / 8))`` uint8."""
    flat = torch.nn.functional.pad(keep.to(torch.uint8), (0, -keep.shape[1] % 8))
    return _or_of_shifted(flat.view(keep.shape[0], -1, 8))


def pack(keep):
    """A bool tensor's bits, 8 to a byte in C order, little bit order."""
    flat = torch.nn.functional.pad(keep.reshape(-1).to(torch.uint8), (0, -keep.numel() % 8))
    return _or_of_shifted(flat.view(-1, 8))


def unpack_rows(bits, size):
    """The inverse of :func:`pack_rows`: ``(rows, size)`` bool."""
    i = torch.arange(size, device=bits.device)
    return ((bits[:, i // 8] >> (i % 8).to(torch.uint8)) & 1).to(torch.bool)


def unpack(bits, shape):
    """Packed bits as a bool tensor of ``shape`` (the inverse of :func:`pack`).

    Element ``i`` is bit ``i % 8`` of byte ``i // 8``, read by indexing, so
    a compiled backward keeps the bits themselves, not a view of them."""
    i = torch.arange(math.prod(shape), device=bits.device)
    return ((bits.reshape(-1)[i // 8] >> (i % 8).to(torch.uint8)) & 1).to(torch.bool).reshape(shape)


def forward_packed(x, slope):
    y, keep = forward_with_mask(x, slope)
    return y, pack(keep)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    grad = _result(grad)
    if mask.dtype == torch.uint8:
        mask = unpack(mask, grad.shape)
    return torch.where(mask, grad, _times_slope(grad, slope))
