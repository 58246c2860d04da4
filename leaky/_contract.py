"""The contract: what a call means, on dtype *names*, written once.

Every backend, the ufuncs, the Cython kernels' fast paths and the torch
operators take these rules from here, so a rule changes in exactly one
place:

* :func:`validate_slope` and :func:`slope_for_dtype` -- what a valid
  ``negative_slope`` is, and for which dtypes (:data:`SLOPE_LIMITS`);
* :func:`result_dtype_name` and :func:`checked_result_name` -- which dtype
  the output has (``x`` alone decides) and the checks before it is made;
* :func:`compute_dtype_name` -- the precision the arithmetic runs in;
* :func:`library_name` and :func:`describe_array` -- how errors name an
  operand's array library;
* :func:`numpy_bfloat16` -- NumPy's bfloat16 (``ml_dtypes``), where there
  is one.

The checks of operands (``out=``, masks, shapes) are in :mod:`._checks`,
the packed-bit layout in :mod:`._packing`.  Nothing here touches array
data.
"""

import functools
import numbers
import sys

import numpy as np

__all__ = [
    "DEFAULT_SLOPE",
    "FLOAT_NAMES",
    "SLOPE_LIMITS",
    "checked_numpy_dtype",
    "checked_result_name",
    "compute_dtype",
    "compute_dtype_name",
    "describe_array",
    "dtype_name",
    "fits_every_dtype",
    "is_finite",
    "is_traced",
    "library_name",
    "numpy_bfloat16",
    "result_dtype_name",
    "slope_for_dtype",
    "validate_slope",
]

DEFAULT_SLOPE = 0.01

# The dtype rules are written once, on dtype *names*, so that every array
# library's dtypes (NumPy, torch, JAX, array-api-strict, ...) share them.
#: The dtypes every backend keeps (and computes in, or in float32).
FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")
# Reduced-precision floats are computed in float32 (PyTorch's "opmath" type)
# and rounded once; so their slope is a float32.
_COMPUTE_NAME = {"float16": "float32", "bfloat16": "float32",
                 "float32": "float32", "float64": "float64"}
#: The largest slope magnitude each compute dtype holds: a larger one
#: would silently become infinite (PyTorch refuses it too).  The kernels'
#: fast paths and the C++ operators take their bound from here.
SLOPE_LIMITS = {"float32": float(np.finfo(np.float32).max),
                "float64": float(np.finfo(np.float64).max)}
# bool and integer inputs promote like a NumPy float ufunc (``np.sin(x).dtype``):
# by width, 8 bits -> float16, 16 -> float32, 32 or 64 -> float64.
_FLOAT_FOR_BITS = {8: "float16", 16: "float32", 32: "float64", 64: "float64"}


def dtype_name(dtype):
    """A library-independent dtype name: 'float32', 'int8', 'bool', ..."""
    if isinstance(dtype, np.dtype):
        return dtype.name
    name = getattr(dtype, "name", None)  # TensorFlow's tf.DType
    if isinstance(name, str):
        return name
    return str(dtype).rsplit(".", 1)[-1]  # torch.float32, ...


def is_traced(value):
    """Whether ``value`` is a JAX tracer: an array whose value is known only
    when the traced function runs (under ``jit``, ``grad``, ``vmap``)."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(value, jax.core.Tracer)


def is_finite(number):
    """``math.isfinite`` in arithmetic: ``x - x`` is 0 exactly for finite
    ``x`` (NaN for NaN and the infinities).  A symbolic float, which
    ``torch.compile`` passes for a float it has seen take two values (a
    module's slope), traces through it, where ``math.isfinite`` breaks the
    graph."""
    return number - number == 0


def _refuse_non_real_slope(dtype):
    name = dtype_name(dtype)
    if name == "bool" or name.startswith("complex") or not (
            name.startswith(("float", "int", "uint")) or name == "bfloat16"):
        raise TypeError(f"negative_slope must be a real number (int or float), "
                        f"got an array of dtype {name}")


# Libraries whose array types live in a module of another name.
_LIBRARY_OF_MODULE = {"jaxlib": "jax"}


def library_name(array):
    """The array library ``array`` comes from, as a user imports it: 'numpy',
    'torch', 'jax', ..."""
    module = type(array).__module__.split(".")[0]
    return _LIBRARY_OF_MODULE.get(module, module)


def describe_array(array):
    """'a torch array (Tensor)': for error messages."""
    return f"a {library_name(array)} array ({type(array).__name__})"


def validate_slope(negative_slope, allow_traced=False):
    """Return ``negative_slope`` as a Python float, or raise.

    A slope is any finite real number: a Python ``int`` or ``float``, a
    NumPy integer or floating scalar, or a 0-d array of one (as
    ``xarray.apply_ufunc`` passes it).  Zero, negative slopes and slopes
    above one are all valid; ``bool`` is not a slope.  One slope serves every
    element, so an array with dimensions is refused: it would also decide the
    result's shape, which ``x`` alone decides.

    With ``allow_traced``, a 0-d JAX tracer of a real dtype (a slope passed
    into a jitted, differentiated or vmapped function) is returned as it
    is: its value cannot be checked, as ``jax.nn.leaky_relu`` cannot.

    Raises
    ------
    TypeError
        If ``negative_slope`` is not a real number.
    ValueError
        If it is NaN or infinite, or an array with one or more dimensions.
    """
    if type(negative_slope) is not float:
        shape = getattr(negative_slope, "shape", None)
        if shape is not None and not isinstance(negative_slope, np.generic):
            if len(shape) != 0:
                raise ValueError(
                    "negative_slope must be one number (a scalar or a 0-d array), "
                    f"got an array of shape {tuple(shape)}")
            if is_traced(negative_slope):
                if not allow_traced:
                    raise TypeError("negative_slope is a traced JAX value; here it must "
                                    "be a concrete number")
                _refuse_non_real_slope(negative_slope.dtype)
                return negative_slope
            if dtype_name(negative_slope.dtype) == "bool":
                negative_slope = bool(negative_slope)  # refused below
            elif isinstance(negative_slope, np.ndarray):
                negative_slope = negative_slope[()]
            else:  # a 0-d array of another library
                _refuse_non_real_slope(negative_slope.dtype)
                negative_slope = float(negative_slope)
        if (isinstance(negative_slope, (bool, np.bool_))
                or not isinstance(negative_slope, numbers.Real)):
            raise TypeError(
                "negative_slope must be a real number (int or float), "
                f"got {type(negative_slope).__name__}: {negative_slope!r}")
        negative_slope = float(negative_slope)
    if not is_finite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope!r}")
    return negative_slope


def compute_dtype_name(name):
    """The dtype the arithmetic runs in: float32 for float16 and bfloat16."""
    return _COMPUTE_NAME[name]


def compute_dtype(dtype):
    """:func:`compute_dtype_name` for a NumPy dtype."""
    return np.dtype(_COMPUTE_NAME[dtype.name])


def fits_every_dtype(slope):
    """Whether a validated ``slope`` fits every compute dtype (float32's range)."""
    return abs(slope) <= SLOPE_LIMITS["float32"]


def slope_for_dtype(slope, dtype):
    """Check that a validated ``slope`` fits the compute dtype of ``dtype``.

    ``dtype`` is a NumPy dtype or a dtype name.  The kernels cast the slope
    to the compute dtype; a slope too large for it would silently become
    infinite, and PyTorch refuses such a slope too.
    """
    if fits_every_dtype(slope):
        return slope
    name = dtype if isinstance(dtype, str) else dtype.name
    compute = _COMPUTE_NAME[name]
    if abs(slope) > SLOPE_LIMITS[compute]:
        raise ValueError(
            f"negative_slope={slope!r} overflows {compute}, the precision a "
            f"{name} input is computed in")
    return slope


def result_dtype_name(name, what="x", host_float=None):
    """The output dtype name for an input dtype name: ``x`` alone decides.

    float16, bfloat16, float32 and float64 are kept; bool and integers
    promote as the array library's own ``sin`` does: ``host_float`` names
    that dtype where the library has its own rule (JAX: its default float),
    and None means NumPy's (``np.sin``: by width).  Everything else raises.

    Raises
    ------
    TypeError
        For complex, object, string, datetime and other unsupported dtypes.
    """
    if name in FLOAT_NAMES:
        return name
    bits = name.removeprefix("u").removeprefix("int")
    if name == "bool" or (name.removeprefix("u").startswith("int") and bits.isdigit()
                          and int(bits) in _FLOAT_FOR_BITS):
        if host_float is not None:
            return host_float
        return _FLOAT_FOR_BITS[8 if name == "bool" else int(bits)]
    if name.startswith("complex"):
        reason = ("complex numbers have no order, so 'x > 0' is undefined; "
                  "apply leaky_relu to the real and imaginary parts yourself")
    elif name.startswith("float"):
        reason = "only float16, bfloat16, float32 and float64 are supported"
    else:
        reason = "expected a real floating, integer or bool array"
    raise TypeError(f"leaky_relu got {what} with unsupported dtype {name}: {reason}")


def checked_result_name(dtype, slope, what="x", host_float=None):
    """The result dtype name for an input of ``dtype`` (any library's),
    after checking that the validated ``slope`` fits its compute dtype (a
    traced slope has no value to check).

    The one sequence every backend runs before touching data."""
    name = result_dtype_name(dtype_name(dtype), what, host_float)
    if not is_traced(slope):
        slope_for_dtype(slope, name)
    return name


def checked_numpy_dtype(dtype, slope, what="x"):
    """:func:`checked_result_name` as a NumPy dtype, with NumPy's rule for
    bool and integers (the backends whose arrays use NumPy dtypes)."""
    return np.dtype(checked_result_name(dtype, slope, what))


@functools.cache
def numpy_bfloat16():
    """NumPy's bfloat16 dtype (from ``ml_dtypes``), or None without it.

    Safe under concurrent first calls: ``functools.cache`` keeps its table
    consistent (free-threaded CPython too), and threads that miss at once
    each import ml_dtypes (once: the import lock) and get the same dtype."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)
