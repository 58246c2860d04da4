"""Routing: which backend runs a call.  Nothing else lives here.

=====================================  =======================================
operand                                backend
=====================================  =======================================
``numpy.ndarray``, scalars, lists      ``_numpy_backend``: the Cython kernels
``torch.Tensor``                       ``_backends.torch``: leaky's torch
                                       operators (C++, or Python)
``tf.Tensor``, ``tf.Variable``         ``_tensorflow_backend``: TensorFlow ops,
                                       custom gradient
``dask.array.Array``                   ``_dask_backend``: kernels per chunk
``cupy.ndarray``                       ``_cupy_backend``: ElementwiseKernels
JAX arrays and tracers, any other      ``_array_api_backend``: generic
object with ``__array_namespace__``    array-API code (jit/grad-safe for JAX)
=====================================  =======================================

The choice is cached per operand type.  Plain NumPy arrays never reach
``array_api_compat``: its namespace lookup costs about a microsecond.
"""

import sys

import numpy as np

from . import _contract
from . import _numpy_backend

__all__ = ["backend_for", "backend_for_pair"]

_BACKEND_BY_TYPE = {np.ndarray: _numpy_backend}


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
        from ._backends import torch as torch_backend
        return torch_backend
    if _is_tensorflow_tensor(x):
        from . import _tensorflow_backend
        return _tensorflow_backend

    import array_api_compat as compat

    if compat.is_numpy_array(x) or not compat.is_array_api_obj(x):
        return _numpy_backend  # NumPy, its scalars, Python scalars and lists
    if compat.is_dask_array(x):
        from . import _dask_backend
        return _dask_backend
    if compat.is_cupy_array(x):
        from . import _cupy_backend
        return _cupy_backend
    from . import _array_api_backend
    return _array_api_backend


def backend_for(x):
    """The backend module for operand ``x``."""
    try:
        return _BACKEND_BY_TYPE[type(x)]
    except KeyError:
        backend = _BACKEND_BY_TYPE[type(x)] = _choose(x)
        return backend


def backend_for_pair(grad, mask):
    """The backend for ``leaky_relu_backward``: both operands must agree."""
    backend = backend_for(grad)
    if backend_for(mask) is not backend:
        raise TypeError(
            f"grad_output is {_contract.describe_array(grad)} but mask is "
            f"{_contract.describe_array(mask)}; both must come from the same array library")
    return backend
