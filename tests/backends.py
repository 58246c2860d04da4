"""The array libraries the suite runs every public function on.

Each backend knows how to make its arrays from NumPy and turn results back,
so one test body serves them all (scipy's ``xp`` fixture pattern).
"""

import importlib.util

import numpy as np
import pytest


class Backend:
    name = "numpy"
    module = np
    float_dtypes = ("float16", "float32", "float64")
    supports_out = True
    # XLA on the CPU computes with denormals-are-zero and flush-to-zero.
    flushes_subnormals = False

    def asarray(self, a):
        return np.asarray(a)

    def to_numpy(self, a):
        return np.asarray(a)

    def is_native(self, a):
        return type(a) is np.ndarray

    def device(self, a):
        return "cpu"

    def dtype_name(self, a):
        return np.asarray(a).dtype.name

    def sin_dtype_name(self, dtype):
        """The dtype the library's own ``sin`` gives a ``dtype`` array, or
        NumPy's where its ``sin`` takes floats only: the contract for bool
        and integer inputs."""
        zeros = np.zeros(2, dtype)
        try:
            return self.dtype_name(self.module.sin(self.asarray(zeros)))
        except TypeError:
            return np.sin(zeros).dtype.name


class TorchBackend(Backend):
    name = "torch"

    def __init__(self):
        import torch
        self.module = torch

    def asarray(self, a):
        return self.module.from_numpy(np.array(a, order="C"))

    def to_numpy(self, a):
        return a.detach().cpu().numpy()

    def is_native(self, a):
        return isinstance(a, self.module.Tensor)

    def device(self, a):
        return str(a.device)

    def dtype_name(self, a):
        return str(a.dtype).rsplit(".", 1)[-1]


class JaxBackend(Backend):
    name = "jax"
    supports_out = False
    flushes_subnormals = True

    def __init__(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.module = jax, jnp

    def asarray(self, a):
        return self.module.asarray(a)

    def is_native(self, a):
        return isinstance(a, self.jax.Array)

    def device(self, a):
        return str(a.devices())

    def dtype_name(self, a):
        return a.dtype.name


class DaskBackend(Backend):
    name = "dask"
    supports_out = False

    def __init__(self):
        import dask.array as da
        self.module = da

    def asarray(self, a):
        a = np.asarray(a)
        return self.module.from_array(a, chunks=tuple(max(1, (n + 1) // 2) for n in a.shape))

    def to_numpy(self, a):
        return np.asarray(a.compute())

    def is_native(self, a):
        return isinstance(a, self.module.Array)

    def dtype_name(self, a):
        return a.dtype.name


class StrictBackend(Backend):
    name = "array_api_strict"
    float_dtypes = ("float32", "float64")

    def __init__(self):
        import array_api_strict
        self.module = array_api_strict

    def asarray(self, a):
        return self.module.asarray(np.asarray(a))

    def to_numpy(self, a):
        return np.asarray(a._array)

    def is_native(self, a):
        return isinstance(a, self.module._array_object.Array)

    def device(self, a):
        return str(a.device)

    def dtype_name(self, a):
        return str(a.dtype).rsplit(".", 1)[-1]


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self):
        import cupy
        self.module = cupy

    def asarray(self, a):
        return self.module.asarray(np.asarray(a))

    def to_numpy(self, a):
        return self.module.asnumpy(a)

    def is_native(self, a):
        return isinstance(a, self.module.ndarray)

    def device(self, a):
        return str(a.device)


class MLXBackend(Backend):
    name = "mlx"

    def __init__(self):
        import mlx.core as mx
        self.module = mx

    def asarray(self, a):
        a = np.asarray(a)
        if a.dtype.name == "bfloat16":  # ml_dtypes': MLX takes its bits
            return self.module.array(a.view(np.uint16)).view(self.module.bfloat16)
        if a.dtype.kind != "f":
            return self.module.array(a)
        # MLX makes float32 of a float64 NumPy array unless told its dtype
        return self.module.array(a, dtype=getattr(self.module, a.dtype.name))

    def to_numpy(self, a):
        if a.dtype == self.module.bfloat16:
            import ml_dtypes
            return np.array(a.view(self.module.uint16)).view(ml_dtypes.bfloat16)
        return np.array(a)

    def is_native(self, a):
        return isinstance(a, self.module.array)

    def dtype_name(self, a):
        return str(a.dtype).rsplit(".", 1)[-1]


def _gpu_available():
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


_FACTORIES = {
    "numpy": (Backend, None),
    "array_api_strict": (StrictBackend, "array_api_strict"),
    "torch": (TorchBackend, "torch"),
    "jax": (JaxBackend, "jax"),
    "dask": (DaskBackend, "dask"),
    "cupy": (CupyBackend, "cupy"),
    "mlx": (MLXBackend, "mlx"),
}


def _importable(module):
    """Whether ``module`` is installed (and not blocked: ``sys.modules[name] = None``)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # in sys.modules as None
        return False


def backend_params():
    params = []
    for name, (factory, module) in _FACTORIES.items():
        marks = []
        if module is not None and not _importable(module):
            marks.append(pytest.mark.skip(reason=f"{module} is not installed"))
        elif name == "cupy" and not _gpu_available():
            marks.append(pytest.mark.skip(reason="no CUDA GPU visible to CuPy"))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def make_backend(name):
    return _FACTORIES[name][0]()
