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
``mlx.core.array``                     :mod:`.mlx`: MLX ops, one derivative
                                       rule (``mx.custom_function``)
``lucid.Tensor``                       :mod:`.lucid`: a Lucid operation over
                                       the NumPy or MLX backend, by device
JAX arrays and tracers, any other      :mod:`.array_api`: generic array-API
object with ``__array_namespace__``    code (jit/grad-safe for JAX)
=====================================  =======================================

The choice is cached per operand type, and a wrapping backend (Dask,
Lucid) once per backend of what it wraps.
Plain NumPy arrays never reach ``array_api_compat``: its namespace lookup
costs about a microsecond.  The cache is safe under concurrent first calls,
free-threaded CPython included: threads that meet a new type at once may
each choose, and the first choice stored (``dict.setdefault``, atomic) is
the one every thread uses (wrappers alike).  No lock is held while a
backend is imported.
"""

import numbers
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


def _instance_of(x, module_name, *type_names):
    """Whether ``x`` is one of ``module_name``'s types ``type_names``,
    without importing the module (an operand of a library that was never
    imported is none of its) and without array_api_compat, whose checks
    trip torch.compile's tracer."""
    module = sys.modules.get(module_name)
    return module is not None and isinstance(
        x, tuple(getattr(module, name) for name in type_names))


#: What NumPy reads as an array, beside NumPy's own types.
_NUMPY_PROTOCOLS = ("__array__", "__array_ufunc__", "__array_interface__", "__array_struct__",
                    "__buffer__")

#: The operands the backends serve, for errors.
ACCEPTED = ("NumPy arrays and scalars, Python numbers, lists and tuples, objects with "
            "__array__ or __array_ufunc__ (pandas, xarray), and arrays of torch, "
            "TensorFlow, JAX, CuPy, Dask, MLX, Lucid or any library with "
            "__array_namespace__")


def _refuse_unreadable(x):
    """An operand no backend serves and NumPy reads only by guessing (as a
    sequence, say, which fails deep inside NumPy) is refused, named."""
    if isinstance(x, (np.generic, numbers.Number, list, tuple)) or any(
            hasattr(type(x), name) for name in _NUMPY_PROTOCOLS):
        return
    module = type(x).__module__
    name = type(x).__qualname__ if module == "builtins" else f"{module}.{type(x).__qualname__}"
    raise TypeError(f"leaky got an object of type {name}, which no backend serves; "
                    f"it takes {ACCEPTED}")


def _choose(x):
    if _instance_of(x, "mlx.core", "array"):
        from . import mlx
        return mlx
    if _instance_of(x, "lucid", "Tensor"):
        from . import lucid
        return lucid
    if _instance_of(x, "torch", "Tensor"):
        from . import torch
        return torch
    # tf.Tensor has no __array_namespace__, yet NumPy must not read it
    if _instance_of(x, "tensorflow", "Tensor", "Variable", "RaggedTensor", "SparseTensor"):
        from . import tensorflow
        return tensorflow

    import array_api_compat as compat

    if compat.is_numpy_array(x) or not compat.is_array_api_obj(x):
        _refuse_unreadable(x)
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
    if backend.CAPABILITIES.wraps:
        return _wrapper(backend, backend_for(backend.inner(x)))
    return backend


_WRAPPERS = {}


def _wrapper(backend, inner):
    """``backend.around(inner)``, one per pair: the first stored, even when
    threads ask for it at once."""
    try:
        return _WRAPPERS[backend, inner]
    except KeyError:
        return _WRAPPERS.setdefault((backend, inner), backend.around(inner))


def _on_device(array):
    """'a lucid array (Tensor) on gpu': for errors about pairs of operands."""
    device = getattr(array, "device", None)
    where = f" on {device}" if isinstance(device, str) else ""
    return _contract.describe_array(array) + where


def backend_for_pair(grad, mask):
    """The backend for ``leaky_relu_backward``: both operands must agree."""
    backend = backend_for(grad)
    if backend_for(mask) is not backend:
        raise TypeError(
            f"grad_output is {_on_device(grad)} but mask is {_on_device(mask)}; both must "
            "come from the same array library, on the same device")
    return backend
