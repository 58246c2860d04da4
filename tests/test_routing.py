"""Routing: which backend serves which operand, and the refusals that follow
from each backend's capabilities (``leaky/_backends/_protocol.py``)."""

import pickle

import numpy as np
import pytest

import leaky
from leaky import _backends
from leaky._backends import Capabilities


def _routed(x):
    return _backends.backend_for(x)


def _name(backend):
    return getattr(backend, "__name__", type(backend).__name__)


@pytest.mark.parametrize("make, expected", [
    (lambda: np.zeros(3), "leaky._backends.numpy"),
    (lambda: np.float32(1.0), "leaky._backends.numpy"),
    (lambda: 2.0, "leaky._backends.numpy"),
    (lambda: [1.0, -2.0], "leaky._backends.numpy"),
    (lambda: np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "leaky._backends.numpy"),
], ids=["ndarray", "numpy scalar", "float", "list", "masked array"])
def test_numpy_operands_go_to_the_numpy_backend(make, expected):
    assert _name(_routed(make())) == expected


@pytest.mark.parametrize("library, make, expected", [
    ("torch", lambda m: m.zeros(3), "leaky._backends.torch"),
    ("jax.numpy", lambda m: m.zeros(3), "leaky._backends.array_api"),
    ("array_api_strict", lambda m: m.zeros(3), "leaky._backends.array_api"),
    ("pandas", lambda m: m.Series([1.0]), "leaky._backends.numpy"),
    ("xarray", lambda m: m.DataArray([1.0]), "leaky._backends.numpy"),
    # TensorFlow's: in test_tensorflow.py, which runs in a process of its own.
], ids=["torch", "jax", "array-api-strict", "pandas", "xarray"])
def test_each_library_goes_to_its_backend(library, make, expected):
    module = pytest.importorskip(library)
    assert _name(_routed(make(module))) == expected


def test_dask_wraps_the_backend_of_its_chunks():
    da = pytest.importorskip("dask.array")
    backend = _routed(da.zeros(4, chunks=2))
    assert backend.CAPABILITIES.wraps
    assert _name(backend.chunks) == "leaky._backends.numpy"
    assert _routed(da.ones(6, chunks=3)) is backend  # one wrapper per chunk backend
    pickle.loads(pickle.dumps(backend.chunks.forward))  # what workers receive


def test_the_choice_is_cached_by_type():
    class Sub(np.ndarray):
        pass

    x = np.zeros(2).view(Sub)
    first = _routed(x)
    assert _backends._BACKEND_BY_TYPE[Sub] is first
    assert _routed(np.ones(3).view(Sub)) is first


def test_every_backend_declares_its_capabilities():
    import importlib.util
    # TensorFlow's: in test_tensorflow.py, which runs in a process of its own.
    for name, library in [("numpy", "numpy"), ("array_api", "array_api_compat"),
                          ("dask", "dask"), ("torch", "torch"), ("cupy", "cupy")]:
        # Asked of the library: where it is missing, a failed import may have
        # left its backend half imported.
        if importlib.util.find_spec(library) is None:
            continue
        try:
            module = importlib.import_module(f"leaky._backends.{name}")
        except ImportError:
            continue
        capabilities = module.CAPABILITIES
        assert isinstance(capabilities, Capabilities)
        for lacking in ("out", "packed"):
            if not getattr(capabilities, lacking):
                assert capabilities.why_not[lacking], (name, lacking)
    from leaky._backends import numpy as numpy_backend
    assert numpy_backend.CAPABILITIES.ufunc_keywords


def test_capabilities_decide_the_refusals():
    """The router refuses from the data, with the backend's own reason,
    before the backend is called."""
    calls = []

    class Recorder:
        CAPABILITIES = Capabilities(library="Toy", out=False, packed=False,
                                    why_not={"out": "toys are read-only",
                                             "packed": "toys have no bits"})

        def __getattr__(self, name):
            calls.append(name)
            raise AssertionError(f"{name} should not be reached")

    class Toy:
        shape, dtype = (2,), np.dtype(np.float32)

    _backends._BACKEND_BY_TYPE[Toy] = Recorder()
    try:
        with pytest.raises(TypeError, match="out= is not supported for Toy arrays: toys are "
                                            "read-only"):
            leaky.leaky_relu(Toy(), out=np.zeros(2))
        with pytest.raises(TypeError, match="packed masks are not supported for Toy arrays: "
                                            "toys have no bits"):
            leaky.leaky_relu_with_mask(Toy(), packed=True)
        with pytest.raises(TypeError, match="casting= only apply to NumPy arrays"):
            leaky.leaky_relu(Toy(), where=True, casting="unsafe")
        with pytest.raises(TypeError, match="traced JAX value"):
            jax = pytest.importorskip("jax")
            jax.jit(lambda s: leaky.leaky_relu(Toy(), s))(0.1)
    finally:
        del _backends._BACKEND_BY_TYPE[Toy]
    assert calls == []


def test_the_layer_keeps_a_bool_mask_where_the_backend_cannot_pack():
    da = pytest.importorskip("dask.array")
    layer = leaky.LeakyReLU(0.1)
    layer(da.from_array(np.array([-1.0, 2.0]), chunks=1))
    assert layer._mask.dtype == bool
    layer(np.array([-1.0, 2.0]))
    assert layer._mask.dtype == np.uint8


def test_grad_and_mask_from_different_libraries_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="same array library"):
        leaky.leaky_relu_backward(np.ones(2), torch.ones(2, dtype=torch.bool))
