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


def _bfloat16_type_number():
    """NumPy's type number for ``ml_dtypes.bfloat16``, or None."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    import numpy as np
    return np.dtype(ml_dtypes.bfloat16).num


_BUILT = {}


def _ufuncs_for(kernels):
    """The three ufuncs built from one kernel variant's loops (memoized)."""
    if kernels.__name__ not in _BUILT:
        _BUILT[kernels.__name__] = kernels.make_ufuncs(
            _contract.check_ufunc_dtypes, _bfloat16_type_number(), _DOCS)
    return _BUILT[kernels.__name__]


_ACTIVE = _ufuncs_for(_kernels)
leaky_relu = _ACTIVE["leaky_relu"]
leaky_relu_with_mask = _ACTIVE["leaky_relu_with_mask"]
leaky_relu_backward = _ACTIVE["leaky_relu_backward"]
