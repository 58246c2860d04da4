"""leaky's three operations as real NumPy ufuncs.

>>> import numpy as np
>>> from leaky import ufuncs
>>> isinstance(ufuncs.leaky_relu, np.ufunc)
True
>>> ufuncs.leaky_relu(np.array([-2.0, 3.0]), 0.5)
array([-1.,  3.])
>>> ufuncs.leaky_relu_with_mask.nout
2

They are built from the Cython loops of the CPU variant in use
(:mod:`leaky._cpu`), so everything NumPy does for a ufunc they do too:
broadcasting, ``out=`` with overlap handled as if every input were read
first, casting, ``where=``, ``order=``, ``dtype=``, scalar results and
``__array_ufunc__`` (pandas, xarray and ``numpy.ma`` keep their types).

======================================  =====================================
ufunc                                   loops (``.types``)
======================================  =====================================
``leaky_relu(x, s)``                    ``ed->e``, ``fd->f``, ``dd->d``
``leaky_relu_with_mask(x, s)``          ``ed->e?``, ``fd->f?``, ``dd->d?``
``leaky_relu_backward(g, mask, s)``     ``e?d->e``, ``f?d->f``, ``d?d->d``
======================================  =====================================

The slope is a float64 operand, so it never decides the result dtype: ``x``
does (bool and integers promote like ``np.sin``).  When ``ml_dtypes`` is
importable, each ufunc also has a loop for ``ml_dtypes.bfloat16`` values,
computed in float32 and rounded once (NumPy does not list loops for such a
user dtype in ``.types``).  Input dtypes outside the contract (float8,
longdouble, complex, ...) are refused with a ``TypeError`` naming them.

The ufuncs are the raw kernels: like ``np.multiply``, they take any float64
slope, an array of slopes included (broadcast elementwise).  The public
functions :func:`leaky.leaky_relu` and friends call them after the
contract's checks: one finite slope, and a mask of the gradient's shape.
"""

import threading

import numpy as np

from . import _checks
from . import _contract
from ._cpu import kernels as _kernels

__all__ = ["leaky_relu", "leaky_relu_backward", "leaky_relu_with_mask"]

_DOCS = {
    "leaky_relu": (
        "Leaky ReLU: ``x if x > 0 else negative_slope * x``, elementwise.\n\n"
        "Inputs: ``x`` and ``negative_slope`` (float64).  The result has x's "
        "dtype (float16/bfloat16 computed in float32).  The public "
        "``leaky.leaky_relu`` validates the slope and calls this ufunc."),
    "leaky_relu_with_mask": (
        "Leaky ReLU and its gradient mask ``x > 0``, in one pass.\n\n"
        "Inputs: ``x`` and ``negative_slope`` (float64).  Outputs: ``y`` (x's "
        "dtype) and ``mask`` (bool)."),
    "leaky_relu_backward": (
        "Leaky ReLU's gradient: ``grad_output if mask else grad_output * "
        "negative_slope``.\n\nInputs: ``grad_output``, ``mask`` (bool) and "
        "``negative_slope`` (float64).  The result has grad_output's dtype."),
}


# ------------------------------------------------------- type resolution --
# NumPy's type resolution picks the loop; these refuse what the contract
# does not take, before it does.

def _check_slope_dtype(dtype):
    """A slope operand of a ufunc: a real number's dtype, never bool."""
    name = _contract.dtype_name(dtype)
    if name == "bool":
        raise TypeError("negative_slope must be a real number (int or float), "
                        "got an operand of dtype bool")
    _contract.result_dtype_name(name, "negative_slope")  # raises for the rest


# The operands of leaky's ufuncs (leaky.ufuncs), by ufunc name, in order.
_UFUNC_INPUTS = {
    "leaky_relu": ("x", "negative_slope"),
    "leaky_relu_with_mask": ("x", "negative_slope"),
    "leaky_relu_backward": ("grad_output", "mask", "negative_slope"),
}


def _check_dtypes(ufunc, dtypes, type_tup=None):
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
            _checks.check_mask_dtype(dtype)
        elif role == "negative_slope":
            _check_slope_dtype(dtype)
        else:
            _contract.result_dtype_name(_contract.dtype_name(dtype), role)
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
    if _contract.result_dtype_name(values.name, "dtype=") != values.name:
        raise TypeError(f"dtype={values.name} is not a dtype leaky computes in: "
                        "use float16, bfloat16, float32 or float64")
    roles = _UFUNC_INPUTS[ufunc.__name__] + (("y", "mask") if ufunc.nout == 2 else ("y",))
    by_role = {"mask": _checks.BOOL, "negative_slope": np.dtype(np.float64)}
    return tuple(by_role.get(role, values) for role in roles)


def _bfloat16_type_number():
    """NumPy's type number for ``ml_dtypes.bfloat16``, or None."""
    bfloat16 = _contract.numpy_bfloat16()
    return None if bfloat16 is None else bfloat16.num


_BUILT = {}
_BUILT_LOCK = threading.Lock()


def _ufuncs_for(kernels):
    """The three ufuncs built from one kernel variant's loops (memoized):
    built once per variant, even when threads ask for them at once."""
    built = _BUILT.get(kernels.__name__)
    if built is None:
        bfloat16 = _bfloat16_type_number()  # imports ml_dtypes: not under the lock
        with _BUILT_LOCK:
            built = _BUILT.get(kernels.__name__)
            if built is None:
                built = _BUILT[kernels.__name__] = kernels.make_ufuncs(
                    _check_dtypes, bfloat16, _DOCS)
    return built


_ACTIVE = _ufuncs_for(_kernels)
leaky_relu = _ACTIVE["leaky_relu"]
leaky_relu_with_mask = _ACTIVE["leaky_relu_with_mask"]
leaky_relu_backward = _ACTIVE["leaky_relu_backward"]
