"""The contract: every rule that decides what a call means, written once.

Every backend (the Cython kernels, and the routes for other array libraries)
calls these helpers, so a rule changes in exactly one place:

* :func:`validate_slope` and :func:`slope_for_dtype` -- what a valid
  ``negative_slope`` is;
* :func:`result_dtype_name` -- which dtype the output has (``x`` alone decides);
* :func:`check_out` and :func:`check_mask` -- what ``out=`` and a gradient
  mask must look like; :func:`is_packed`, :func:`packed_size` and
  :func:`check_bits` -- the same for a packed mask (one bit an element);
* :func:`split_out_pair` -- how the two-output ``out=`` tuple is spelled;
* :func:`check_ufunc_dtypes` -- which operand dtypes leaky's NumPy ufuncs
  take (NumPy's own type resolution does the rest);
* :func:`ufunc_keywords` and :func:`refuse_ufunc_keywords` -- NumPy's ufunc
  keywords (``where=``, ``casting=``, ...), which only NumPy-aware operands
  take.

Nothing here touches array data, so a failed check can never leave anything
half-written.
"""

import math
import numbers
import sys
from collections.abc import Mapping

import numpy as np
from array_api_compat import is_jax_array, is_writeable_array

__all__ = [
    "BIT_WEIGHTS",
    "BOOL",
    "DEFAULT_SLOPE",
    "FLOAT_NAMES",
    "KERNEL_DTYPES",
    "check_bits",
    "check_mask",
    "check_out",
    "check_same_shape",
    "check_ufunc_dtypes",
    "checked_result_name",
    "refuse_out",
    "refuse_ufunc_keywords",
    "compute_dtype",
    "compute_dtype_name",
    "dtype_name",
    "is_packed",
    "is_traced",
    "describe_array",
    "library_name",
    "packed_size",
    "refuse_packed",
    "result_dtype_name",
    "slope_for_dtype",
    "split_out_pair",
    "split_single_out",
    "ufunc_keywords",
    "validate_slope",
]

DEFAULT_SLOPE = 0.01

#: The gradient mask's dtype.
BOOL = np.dtype(np.bool_)

#: The dtypes the kernels compute in; every other accepted dtype is promoted.
KERNEL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

# The dtype rules are written once, on dtype *names*, so that every array
# library's dtypes (NumPy, torch, JAX, array-api-strict, ...) share them.
#: The dtypes every backend keeps (and computes in, or in float32).
FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")
# Reduced-precision floats are computed in float32 (PyTorch's "opmath" type)
# and rounded once; so their slope is a float32.
_COMPUTE_NAME = {"float16": "float32", "bfloat16": "float32",
                 "float32": "float32", "float64": "float64"}
_COMPUTE_MAX = {"float32": float(np.finfo(np.float32).max),
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
    if not math.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope!r}")
    return negative_slope


def compute_dtype_name(name):
    """The dtype the arithmetic runs in: float32 for float16 and bfloat16."""
    return _COMPUTE_NAME[name]


def compute_dtype(dtype):
    """:func:`compute_dtype_name` for a NumPy dtype."""
    return np.dtype(_COMPUTE_NAME[dtype.name])


def slope_for_dtype(slope, dtype):
    """Check that a validated ``slope`` fits the compute dtype of ``dtype``.

    ``dtype`` is a NumPy dtype or a dtype name.  The kernels cast the slope
    to the compute dtype; a slope too large for it would silently become
    infinite, and PyTorch refuses such a slope too.
    """
    if abs(slope) <= _COMPUTE_MAX["float32"]:
        return slope  # fits every compute dtype
    name = dtype if isinstance(dtype, str) else dtype.name
    compute = _COMPUTE_NAME[name]
    if abs(slope) > _COMPUTE_MAX[compute]:
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
    if dtype is not BOOL and dtype_name(dtype) != "bool":
        raise TypeError(
            f"mask must be a bool array (x > 0, as leaky_relu_with_mask returns it) "
            f"or uint8 packed bits (packed=True), got dtype {dtype_name(dtype)}")


#: The dtype of packed masks: 8 elements a byte, little bit order.
PACKED = np.dtype(np.uint8)
#: Element ``k`` of each group of 8 (C order) is bit ``k`` of its byte:
#: the weight each element's bit has in that byte (NumPy's
#: ``bitorder="little"``).  Every backend packs with these.
BIT_WEIGHTS = (1, 2, 4, 8, 16, 32, 64, 128)


def packed_size(size):
    """Bytes that hold one bit for each of ``size`` elements."""
    return (size + 7) // 8


def is_packed(mask):
    """Whether a gradient mask is packed bits (uint8) rather than bool."""
    dtype = getattr(mask, "dtype", None)
    return dtype is not None and (dtype is PACKED or dtype_name(dtype) == "uint8")


def check_bits(bits, size, name="mask"):
    """Packed bits for ``size`` elements: uint8, ``ceil(size / 8)`` of them.

    Bit ``i % 8`` of byte ``i // 8`` is element ``i`` in C (row-major)
    order, as ``np.packbits(mask.ravel(), bitorder="little")`` lays it out;
    ``leaky_relu_with_mask(..., packed=True)`` returns them with shape
    ``(ceil(size / 8),)``, and any shape holding that many bytes is read in
    C order.

    Raises
    ------
    TypeError
        If ``bits`` is not uint8.
    ValueError
        If it holds another number of bytes.
    """
    if dtype_name(bits.dtype) != "uint8":
        raise TypeError(f"{name} must be uint8 packed bits, got dtype {dtype_name(bits.dtype)}")
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


def check_mask(mask, grad_shape):
    """A gradient mask must be a bool array of the gradient's shape, or
    packed bits for as many elements (:func:`check_bits`)."""
    if is_packed(mask):
        return check_bits(mask, math.prod(grad_shape))
    check_mask_dtype(mask.dtype)
    check_same_shape(grad_shape, mask.shape, "grad_output", "mask")
    return mask


def check_slope_dtype(dtype):
    """A slope operand of a ufunc: a real number's dtype, never bool."""
    name = dtype_name(dtype)
    if name == "bool":
        raise TypeError("negative_slope must be a real number (int or float), "
                        "got an operand of dtype bool")
    result_dtype_name(name, "negative_slope")  # raises for the rest


# The operands of leaky's ufuncs (leaky.ufuncs), by ufunc name, in order.
_UFUNC_INPUTS = {
    "leaky_relu": ("x", "negative_slope"),
    "leaky_relu_with_mask": ("x", "negative_slope"),
    "leaky_relu_backward": ("grad_output", "mask", "negative_slope"),
}


def check_ufunc_dtypes(ufunc, dtypes, type_tup=None):
    """Refuse input dtypes of a leaky ufunc that the contract does not take.

    NumPy's type resolution would otherwise cast such a dtype into a loop
    whenever the cast counts as safe (float8 into the float16 loop, say).
    Called by the ufuncs' type resolver, before anything is written.

    Raises
    ------
    TypeError
        Naming the operand and its dtype.
    """
    for role, dtype in zip(_UFUNC_INPUTS[ufunc.__name__], dtypes):
        if role == "mask":
            check_mask_dtype(dtype)
        elif role == "negative_slope":
            check_slope_dtype(dtype)
        else:
            result_dtype_name(dtype_name(dtype), role)
    return _full_signature(ufunc, type_tup)


def _full_signature(ufunc, type_tup):
    """``dtype=`` names the values' dtype: spell out the whole loop for it.

    NumPy turns ``dtype=d`` into a type tuple that fixes only the outputs,
    and its legacy resolver then looks for a loop whose every operand is
    ``d``.  leaky's loops take the slope as float64 (and a bool mask), so
    that search would fail; the full signature names the loop meant."""
    if type_tup is None or not isinstance(type_tup, tuple):
        return type_tup
    nin = ufunc.nin
    inputs, outputs = type_tup[:nin], type_tup[nin:]
    if any(t is not None for t in inputs) or outputs[0] is None \
            or any(t != outputs[0] for t in outputs):
        return type_tup
    values = np.dtype(outputs[0])
    if result_dtype_name(dtype_name(values), "dtype=") != values.name:
        raise TypeError(f"dtype={values.name} is not a dtype leaky computes in: "
                        "use float16, bfloat16, float32 or float64")
    roles = _UFUNC_INPUTS[ufunc.__name__] + (("y", "mask") if ufunc.nout == 2 else ("y",))
    by_role = {"mask": BOOL, "negative_slope": np.dtype(np.float64)}
    return tuple(by_role.get(role, values) for role in roles)


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


def refuse_out(out, library):
    """For libraries whose arrays cannot be written in place (Dask)."""
    if out is not None:
        raise TypeError(f"out= is not supported for {library} arrays; "
                        "use the returned array instead")


_NO_KEYWORDS = {}


def ufunc_keywords(where, casting, order, dtype, subok):
    """The NumPy ufunc keywords a call sets to other than NumPy's defaults.

    Returns an empty dict (shared: never modify it) in the common case."""
    if (where is True and dtype is None and subok is True
            and casting == "same_kind" and order == "K"):
        return _NO_KEYWORDS
    keywords = {}
    if where is not True:
        keywords["where"] = where
    if casting != "same_kind":
        keywords["casting"] = casting
    if order != "K":
        keywords["order"] = order
    if dtype is not None:
        keywords["dtype"] = dtype
    if subok is not True:
        keywords["subok"] = subok
    return keywords


def refuse_ufunc_keywords(keywords, array):
    """NumPy's ufunc keywords mean nothing to other array libraries."""
    if keywords:
        names = ", ".join(f"{key}=" for key in keywords)
        library = library_name(array)
        raise TypeError(
            f"{names} only apply to NumPy arrays and objects that implement "
            f"__array_ufunc__, not to {library} arrays ({type(array).__name__})")


def split_single_out(out):
    """``out=`` of a one-output function: an array, ``None`` or a 1-tuple."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise ValueError(f"out must be an array or a 1-tuple, got a {len(out)}-tuple")
        return out[0]
    return out
