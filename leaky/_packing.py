"""Packed gradient masks: one bit an element, the layout written once.

Element ``i`` of a mask, counted in C (row-major) order, is bit ``i % 8``
of byte ``i // 8``: ``np.packbits(mask.ravel(), bitorder="little")``, the
unused bits of the last byte 0.  The Cython kernels pack and unpack NumPy
arrays and torch CPU tensors in C (``src/leaky_pack.h``); every other
library packs with :func:`pack` and unpacks with :func:`unpack` below, which
are written in array-API calls on a namespace ``xp``:

* array-API libraries (JAX, CuPy, array-api-strict, ...) pass their
  ``array_api_compat`` namespace;
* TensorFlow and torch's aten decomposition pass a small namespace of their
  own ops (``leaky._backends.tensorflow``, ``leaky._backends.torch._aten``).

Pack and unpack are elementwise (shifts and ORs, a gather), so a compiler
fuses them with their neighbours, and the unpacked mask is read from the
bits themselves, not kept as a view of them.  :func:`pack_internal`, the
layout of bits no caller sees, is the one reduction: a sum over the 8
planes of each block, which reads every element once.

The namespace needs ``reshape``, ``astype``, ``concat``, ``zeros``,
``arange``, ``take``, ``sum``, ``bitwise_or``, ``bitwise_and``,
``bitwise_left_shift``, ``bitwise_right_shift`` and ``uint8``; the caller
passes the arrays' ``device`` (None where the library places arrays itself).
A size may be symbolic (torch's dynamic shapes).
"""

import math

from . import _contract

__all__ = ["PACKED_NAME", "check_bits", "is_packed", "pack", "pack_internal", "pack_rows",
           "packed_size", "refuse_packed", "unpack", "unpack_broadcast", "unpack_internal",
           "unpack_rows"]

#: The dtype of packed masks.
PACKED_NAME = "uint8"


def packed_size(size):
    """Bytes that hold one bit for each of ``size`` elements."""
    return (size + 7) // 8


def is_packed(mask):
    """Whether a gradient mask is packed bits (uint8) rather than bool."""
    dtype = getattr(mask, "dtype", None)
    return dtype is not None and _contract.dtype_name(dtype) == PACKED_NAME


def check_bits(bits, size, name="mask"):
    """Packed bits for ``size`` elements: uint8, ``ceil(size / 8)`` of them.

    ``leaky_relu_with_mask(..., packed=True)`` returns them with shape
    ``(ceil(size / 8),)``; any shape holding that many bytes is read in C
    order.

    Raises
    ------
    TypeError
        If ``bits`` is not uint8.
    ValueError
        If it holds another number of bytes.
    """
    if _contract.dtype_name(bits.dtype) != PACKED_NAME:
        raise TypeError(f"{name} must be uint8 packed bits, got dtype "
                        f"{_contract.dtype_name(bits.dtype)}")
    count = math.prod(bits.shape)
    if count != packed_size(size):
        raise ValueError(
            f"{name} holds packed bits for {size} elements, so it must have "
            f"ceil({size} / 8) = {packed_size(size)} bytes, got {count} (shape "
            f"{tuple(bits.shape)})")
    return bits


def refuse_packed(library, why):
    """For libraries that cannot produce or read packed masks."""
    raise TypeError(f"packed masks are not supported for {library} arrays: {why}")


def _is_zero(count):
    """``count == 0`` for a concrete count; a symbolic one is padded anyway."""
    return isinstance(count, int) and count == 0


def _pack_last_axis(xp, keep, device):
    """``keep`` (bool, ``(*lead, n)``) packed 8 to a byte along its last axis:
    ``(*lead, ceil(n / 8))`` uint8."""
    flat = xp.astype(keep, xp.uint8)
    *lead, count = keep.shape
    pad = -count % 8
    if not _is_zero(pad):
        zeros = xp.zeros((*lead, pad), dtype=xp.uint8, device=device)
        flat = xp.concat([flat, zeros], axis=len(lead))
    groups = xp.reshape(flat, (*lead, -1, 8))
    byte = groups[..., 0]
    for k in range(1, 8):
        byte = xp.bitwise_or(byte, xp.bitwise_left_shift(groups[..., k], k))
    return byte


def _unpack_last_axis(xp, bits, size, device):
    """The inverse of :func:`_pack_last_axis`: ``(*lead, size)`` bool."""
    element = xp.arange(size, device=device)
    byte = xp.take(bits, element // 8, axis=len(bits.shape) - 1)
    bit = xp.bitwise_and(xp.bitwise_right_shift(byte, xp.astype(element % 8, xp.uint8)), 1)
    return bit != 0


def pack(xp, keep, device=None):
    """A bool array of any shape packed 8 to a byte, in C order:
    ``(ceil(keep.size / 8),)`` uint8."""
    return _pack_last_axis(xp, xp.reshape(keep, (-1,)), device)


def pack_rows(xp, keep, device=None):
    """Each row of a 2-D bool array packed 8 to a byte, in order:
    ``(rows, ceil(columns / 8))`` uint8 (a batch of samples, each packed as
    :func:`pack` packs one)."""
    return _pack_last_axis(xp, keep, device)


def unpack(xp, bits, shape, device=None):
    """Packed bits as a bool array of ``shape`` (the inverse of :func:`pack`)."""
    flat = _unpack_last_axis(xp, xp.reshape(bits, (-1,)), math.prod(shape), device)
    return xp.reshape(flat, tuple(shape))


def unpack_broadcast(xp, bits, shape):
    """:func:`unpack` by broadcasting each byte against its eight bit
    weights, not by a gather: the same bits, for a library whose gather is
    slow (MLX's CPU ``take`` costs 20 times this).  The namespace also
    needs ``asarray`` (the weights, ``1 << k``)."""
    size = math.prod(shape)
    weights = xp.asarray([1 << k for k in range(8)], dtype=xp.uint8)
    flat = xp.reshape(bits, (-1,))
    every_bit = xp.bitwise_and(xp.reshape(flat, (-1, 1)), xp.reshape(weights, (1, 8))) != 0
    return xp.reshape(xp.reshape(every_bit, (-1,))[:size], tuple(shape))


def unpack_rows(xp, bits, size, device=None):
    """The inverse of :func:`pack_rows`: ``(rows, size)`` bool."""
    return _unpack_last_axis(xp, bits, size, device)


# Bits that never leave one compiled graph (a Function's saved mask) may use
# a layout of their own, which no caller sees: channels (axis 1) last, the
# order a compiler lays convolution activations out in, and, where the size
# is a multiple of 128, the blocked layout below.  Inductor vectorizes both
# directions of it over 16 lanes; the layout above (bit k of byte j is
# element 8 j + k) becomes scalar code there.  The namespace also needs
# ``moveaxis``.

def _channels_last(xp, array):
    return xp.moveaxis(array, 1, -1) if len(array.shape) > 2 else array


def _blocked(size):
    """Whether a size takes the blocked layout (a symbolic one does not)."""
    return isinstance(size, int) and size % 128 == 0


def _block_shifts(xp, device):
    """The bit of each of a block's 8 planes, shaped to broadcast."""
    return xp.reshape(xp.astype(xp.arange(8, device=device), xp.uint8), (1, 8, 1))


def pack_internal(xp, keep, device=None):
    """Bits of ``keep`` for one compiled graph's own use: channels last,
    then in each block of 128 elements, byte ``j`` of its 16 holds elements
    ``j, 16 + j, ..., 112 + j`` in bits 0 to 7 (or :func:`pack`'s layout
    for other sizes); ``ceil(keep.size / 8)`` uint8 either way.

    The byte is the sum of its 8 shifted planes (their bits are disjoint,
    so the sum is their OR): a reduction over 8, which a compiler computes
    from each element of ``keep`` once, vectorized over the 16 bytes,
    where ORs of 8 strided slices read ``keep`` 8 times and make it
    materialize ``keep`` first."""
    keep = _channels_last(xp, keep)
    if not _blocked(math.prod(keep.shape)):
        return pack(xp, keep, device)
    rows = xp.reshape(xp.astype(keep, xp.uint8), (-1, 8, 16))
    planes = xp.bitwise_left_shift(rows, _block_shifts(xp, device))
    return xp.reshape(xp.sum(planes, axis=1, dtype=xp.uint8), (-1,))


def unpack_internal(xp, bits, shape, device=None):
    """The inverse of :func:`pack_internal`: a bool array of ``shape``."""
    inner = tuple(shape) if len(shape) <= 2 else (shape[0], *shape[2:], shape[1])
    if _blocked(math.prod(shape)):
        rows = xp.bitwise_right_shift(xp.reshape(bits, (-1, 1, 16)), _block_shifts(xp, device))
        flat = xp.reshape(xp.bitwise_and(rows, 1) != 0, inner)
    else:
        flat = unpack(xp, bits, inner, device)
    return flat if len(shape) <= 2 else xp.moveaxis(flat, -1, 1)