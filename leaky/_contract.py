"""The contract: every rule that decides what a call means, written once.

Every backend (the Cython kernels, and the routes for other array libraries)
calls these helpers, so a rule changes in exactly one place:

* :func:`validate_slope` and :func:`slope_for_dtype` -- what a valid
  ``negative_slope`` is;
* :func:`result_dtype` -- which dtype the output has (``x`` alone decides);
* :func:`check_out` and :func:`check_mask` -- what ``out=`` and a gradient
  mask must look like;
* :func:`split_out_pair` -- how the two-output ``out=`` tuple is spelled.

Nothing here touches array data, so a failed check can never leave anything
half-written.
"""

import math
import numbers

import numpy as np

__all__ = [
    "BOOL",
    "DEFAULT_SLOPE",
    "KERNEL_DTYPES",
    "check_mask",
    "check_out",
    "check_same_shape",
    "compute_dtype",
    "result_dtype",
    "slope_for_dtype",
    "split_out_pair",
    "validate_slope",
]

DEFAULT_SLOPE = 0.01

#: The gradient mask's dtype.
BOOL = np.dtype(np.bool_)

#: The dtypes the kernels compute in; every other accepted dtype is promoted.
KERNEL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

# bool and integer inputs promote like a NumPy float ufunc (``np.sin(x).dtype``):
# by item size, 1 byte -> float16, 2 -> float32, 4 or 8 -> float64.
_FLOAT_FOR_ITEMSIZE = {1: np.dtype(np.float16), 2: np.dtype(np.float32),
                       4: np.dtype(np.float64), 8: np.dtype(np.float64)}

# float16 is computed in float32 (PyTorch's "opmath" type), so its slope is a
# float32; the others compute in their own precision.
_COMPUTE_DTYPE = {np.dtype(np.float16): np.dtype(np.float32),
                  np.dtype(np.float32): np.dtype(np.float32),
                  np.dtype(np.float64): np.dtype(np.float64)}

_COMPUTE_MAX = {dtype: float(np.finfo(compute).max) for dtype, compute in _COMPUTE_DTYPE.items()}


def validate_slope(negative_slope):
    """Return ``negative_slope`` as a Python float, or raise.

    A slope is any finite real number: a Python ``int`` or ``float``, or a
    NumPy integer or floating scalar.  Zero, negative slopes and slopes above
    one are all valid; ``bool`` is not a slope.

    Raises
    ------
    TypeError
        If ``negative_slope`` is not a real number.
    ValueError
        If it is NaN or infinite.
    """
    if type(negative_slope) is not float:
        if (isinstance(negative_slope, (bool, np.bool_))
                or not isinstance(negative_slope, numbers.Real)):
            raise TypeError(
                "negative_slope must be a real number (int or float), "
                f"got {type(negative_slope).__name__}: {negative_slope!r}")
        negative_slope = float(negative_slope)
    if not math.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope!r}")
    return negative_slope


def compute_dtype(dtype):
    """The dtype the arithmetic runs in: float32 for float16, else ``dtype``."""
    return _COMPUTE_DTYPE[dtype]


def slope_for_dtype(slope, dtype):
    """Check that a validated ``slope`` fits the compute dtype of ``dtype``.

    The kernels cast the slope to the compute dtype.  A slope too large for it
    would silently become infinite; PyTorch refuses such a slope too.
    """
    if abs(slope) > _COMPUTE_MAX[dtype]:
        raise ValueError(
            f"negative_slope={slope!r} overflows {_COMPUTE_DTYPE[dtype]}, the "
            f"precision a {dtype} input is computed in")
    return slope


def result_dtype(dtype, what="x"):
    """The output dtype for an input of ``dtype``: ``x`` alone decides.

    float16, float32 and float64 are kept (in native byte order); bool and
    integers promote as ``np.sin`` would.  Everything else raises.

    Raises
    ------
    TypeError
        For complex, object, string, datetime and other unsupported dtypes.
    """
    kind = dtype.kind
    if kind == "f" and dtype.itemsize in (2, 4, 8):
        return dtype.newbyteorder("=") if not dtype.isnative else dtype
    if kind in "biu":
        return _FLOAT_FOR_ITEMSIZE[dtype.itemsize]
    if kind == "c":
        reason = ("complex numbers have no order, so 'x > 0' is undefined; "
                  "apply leaky_relu to the real and imaginary parts yourself")
    elif kind == "f":
        reason = "only float16, float32 and float64 are supported"
    else:
        reason = "expected a real floating, integer or bool array"
    raise TypeError(f"leaky_relu got {what} with unsupported dtype {dtype}: {reason}")


def check_same_shape(a_shape, b_shape, a_name, b_name):
    """Raise ValueError unless two operands have exactly the same shape."""
    if tuple(a_shape) != tuple(b_shape):
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, "
            f"got {tuple(a_shape)} and {tuple(b_shape)}")


def check_out(out, shape, dtype, name="out", array_type=np.ndarray):
    """Validate an ``out=`` array before anything is written.

    It must be an ``array_type`` of exactly ``shape`` and ``dtype``, and
    writeable.

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
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def check_mask(mask, grad_shape):
    """A gradient mask must be a bool array of the gradient's shape."""
    if mask.dtype != BOOL:
        raise TypeError(
            f"mask must be a bool array (x > 0, as leaky_relu_with_mask "
            f"returns it), got dtype {mask.dtype}")
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
