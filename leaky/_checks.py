"""Checks of operands other than ``x``: ``out=``, gradient masks, shapes.

Every backend runs these before it writes anything, so a failed check
never leaves an output half-written.  The packed-mask checks are in
:mod:`._packing`, the dtype and slope rules in :mod:`._contract`.
"""

import math
from collections.abc import Mapping

from array_api_compat import is_jax_array, is_writeable_array
import numpy as np

from . import _contract
from . import _packing

__all__ = ["check_mask", "check_mask_dtype", "check_out", "check_same_shape", "deliver",
           "deliver_pair", "split_out_pair", "split_single_out"]

#: The gradient mask's dtype.
BOOL = np.dtype(np.bool_)


def _as_shape(shape):
    return dict(shape) if isinstance(shape, Mapping) else tuple(shape)


def check_same_shape(a_shape, b_shape, a_name, b_name):
    """Raise ValueError unless two operands have exactly the same shape.

    A shape is a sequence, or a mapping of dimension name to length (an
    xarray Dataset's ``sizes``, which has no single shape)."""
    a_shape, b_shape = _as_shape(a_shape), _as_shape(b_shape)
    if a_shape != b_shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, got {a_shape} and {b_shape}")


def check_out(out, shape, dtype, name="out", array_type=np.ndarray):
    """Validate an ``out=`` array before anything is written.

    It must be an ``array_type`` of exactly ``shape`` and ``dtype``, and
    writeable.  Works for any array library: ``dtype`` is that library's.

    Raises
    ------
    TypeError
        If ``out`` is not an array of ``array_type`` or has the wrong dtype.
    ValueError
        If it has the wrong shape or is read-only.
    """
    if not isinstance(out, array_type):
        raise TypeError(
            f"{name} must be a {array_type.__module__}.{array_type.__name__}, "
            f"got {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(out.shape)}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not is_writeable_array(out):
        raise ValueError(f"{name} is read-only" + (
            " (JAX arrays are immutable: use the returned array instead)"
            if is_jax_array(out) else ""))
    return out


def check_mask_dtype(dtype):
    """A gradient mask is bool: ``x > 0`` as leaky_relu_with_mask returns it."""
    # By identity and name: comparing another library's dtype with a NumPy
    # dtype is not defined by the array API (array-api-strict warns).
    if dtype is not BOOL and _contract.dtype_name(dtype) != "bool":
        raise TypeError(
            f"mask must be a bool array (x > 0, as leaky_relu_with_mask returns it) "
            f"or uint8 packed bits (packed=True), got dtype {_contract.dtype_name(dtype)}")


def check_mask(mask, grad_shape):
    """A gradient mask must be a bool array of the gradient's shape, or
    packed bits for as many elements (:func:`check_bits`)."""
    if _packing.is_packed(mask):
        return _packing.check_bits(mask, math.prod(grad_shape))
    check_mask_dtype(mask.dtype)
    check_same_shape(grad_shape, mask.shape, "grad_output", "mask")
    return mask


def split_out_pair(out):
    """Split the ``out=`` of a two-output function into ``(y_out, mask_out)``."""
    if out is None:
        return None, None
    if not isinstance(out, tuple):
        raise TypeError(
            "out must be None or a tuple (y_out, mask_out), either of which may "
            f"be None; got {type(out).__name__}")
    if len(out) != 2:
        raise ValueError(f"out must be a tuple of 2 entries (y_out, mask_out), got {len(out)}")
    return out


def split_single_out(out):
    """``out=`` of a one-output function: an array, ``None`` or a 1-tuple."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise ValueError(f"out must be an array or a 1-tuple, got a {len(out)}-tuple")
        return out[0]
    return out


def deliver(result, out, name="out"):
    """``result`` itself, or written into ``out`` (an array of the same
    library) after :func:`check_out`: for libraries whose arrays take
    ``out[...] = result``."""
    if out is None:
        return result
    check_out(out, result.shape, result.dtype, name, type(result))
    out[...] = result
    return out


def deliver_pair(first, second, first_out, second_out):
    """:func:`deliver` for the two results of a forward with its mask (from
    :func:`split_out_pair`): both ``out=`` arrays are checked before either
    is written."""
    if second_out is not None:
        check_out(second_out, second.shape, second.dtype, "out[1]", type(second))
    return deliver(first, first_out, "out[0]"), deliver(second, second_out, "out[1]")
