"""Routing: which backend runs a call.  Nothing else lives here.

Today every input goes to the NumPy backend (the Cython kernels): NumPy
arrays directly, anything else through ``np.asarray``.  The array-API routes
(torch, JAX, Dask, CuPy, ...) plug in here.
"""

import numpy as np

from . import _numpy_backend

__all__ = ["backend_for", "as_numpy_input"]


def as_numpy_input(x, name="x"):
    """``x`` as an ndarray, refusing what NumPy can only hold as objects."""
    arr = np.asarray(x)
    if arr.dtype.kind in "OSUVMm":
        raise TypeError(
            f"leaky_relu got {name} of type {type(x).__name__} with dtype "
            f"{arr.dtype}; expected a real floating, integer or bool array")
    return arr


def backend_for(*arrays):
    """The backend module for these operands."""
    return _numpy_backend
