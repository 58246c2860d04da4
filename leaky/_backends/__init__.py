"""The backends, one an array library, and the router that picks one.

Every backend follows one protocol (:mod:`._protocol`) and says what it can
do in its ``CAPABILITIES``:

=====================================  =======================================
operand                                backend
=====================================  =======================================
``numpy.ndarray``, scalars, lists,     :mod:`.numpy`: leaky's ufuncs over the
``__array_ufunc__`` containers         Cython kernels
``torch.Tensor``                       :mod:`.torch`: leaky's torch operators
                                       (C++, or Python)
``tf.Tensor``, ``tf.Variable``         :mod:`.tensorflow`: TensorFlow ops,
                                       custom gradient
``dask.array.Array``                   :mod:`.dask`: the backend of its chunks,
                                       run chunk by chunk, lazily
``cupy.ndarray``                       :mod:`.cupy`: ElementwiseKernels
JAX arrays and tracers, any other      :mod:`.array_api`: generic array-API
object with ``__array_namespace__``    code (jit/grad-safe for JAX)
=====================================  =======================================

The choice is cached per operand type (for Dask, per type of its chunks).
Plain NumPy arrays never reach ``array_api_compat``: its namespace lookup
costs about a microsecond.  The cache is safe under concurrent first calls,
free-threaded CPython included: threads that meet a new type at once may
each choose, and the first choice stored (``dict.setdefault``, atomic) is
the one every thread uses.  No lock is held while a backend is imported.
"""

import sys

import numpy as np

from .. import _contract
from . import numpy as _numpy_backend
from ._protocol import Backend, Capabilities, refuse

__all__ = ["Backend", "Capabilities", "backend_for", "backend_for_pair", "clear_cache", "refuse"]

_BACKEND_BY_TYPE = {np.ndarray: _numpy_backend}


def clear_cache():
    """Forget every type's backend but ``numpy.ndarray``'s: the next call on
    each type chooses again (tests of first calls use it).  Safe while other
    threads route calls: they choose again too."""
    for cached in list(_BACKEND_BY_TYPE):
        if cached is not np.ndarray:
            _BACKEND_BY_TYPE.pop(cached, None)


def _is_torch_tensor(x):
    """Without array_api_compat, whose checks trip torch.compile's tracer."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _is_tensorflow_tensor(x):
    """tf.Tensor has no __array_namespace__, yet NumPy must not read it."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(
        x, (tf.Tensor, tf.Variable, tf.RaggedTensor, tf.SparseTensor))


def _choose(x):
    if _is_torch_tensor(x):
        from . import torch
        return torch
    if _is_tensorflow_tensor(x):
        from . import tensorflow
        return tensorflow

    import array_api_compat as compat

    if compat.is_numpy_array(x) or not compat.is_array_api_obj(x):
        return _numpy_backend  # NumPy, its scalars, Python scalars and lists
    if compat.is_dask_array(x):
        from . import dask
        return dask
    if compat.is_cupy_array(x):
        from . import cupy
        return cupy
    from . import array_api
    return array_api


def backend_for(x):
    """The backend for operand ``x``."""
    try:
        backend = _BACKEND_BY_TYPE[type(x)]
    except KeyError:
        backend = _BACKEND_BY_TYPE.setdefault(type(x), _choose(x))
    if backend.CAPABILITIES.wraps_chunks:
        return backend.around(backend_for(x._meta))
    return backend


def backend_for_pair(grad, mask):
    """The backend for ``leaky_relu_backward``: both operands must agree."""
    backend = backend_for(grad)
    if backend_for(mask) is not backend:
        raise TypeError(
            f"grad_output is {_contract.describe_array(grad)} but mask is "
            f"{_contract.describe_array(mask)}; both must come from the same array library")
    return backend
