"""Test helpers.  PyTorch (CPU) is the oracle for values.

torch is imported only by the oracle functions, which skip the calling
test when it is missing: a test file that does not use the oracle runs
without torch.
"""

import numpy as np
import pytest


def _torch():
    return pytest.importorskip("torch")


# Test files that run in a pytest process of their own, never in the suite's
# (conftest.py leaves them out; test_own_process.py runs each in a child
# pytest), with why.
OWN_PROCESS = {
    "test_tensorflow.py": "TensorFlow: triton, which torch.compile and torch.export import "
                          "where it is installed (CUDA builds of torch), crashes the process "
                          "when it loads after TensorFlow (issue 25)",
}

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
# Slopes the contract names: the default, zero, negative, above one, a value
# with no exact binary form, and a negative zero.
SLOPES = (0.01, 0.0, -0.5, 1.5, 1.0 / 3.0, 0.2, -0.0, 7.0)


def torch_forward(x, slope):
    """PyTorch's result for ``x`` (any NumPy layout), as a NumPy array."""
    torch = _torch()
    xt = torch.from_numpy(np.array(x, order="C"))
    return torch.nn.functional.leaky_relu(xt, slope).numpy()


def torch_backward(grad, x, slope):
    """``aten.leaky_relu_backward(grad, x, slope, False)`` as NumPy."""
    torch = _torch()
    g = torch.from_numpy(np.array(grad, order="C"))
    xt = torch.from_numpy(np.array(x, order="C"))
    return torch.ops.aten.leaky_relu_backward(g, xt, slope, False).numpy()


def assert_same_bits(got, want):
    """Bit-identical values; two NaNs match when their signs do.

    PyTorch itself does not keep NaN payloads the same way in its vector
    body and its scalar tail, so payloads are not compared.
    """
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    got_nan, want_nan = np.isnan(got), np.isnan(want)
    np.testing.assert_array_equal(got_nan, want_nan, err_msg="NaN positions differ")
    np.testing.assert_array_equal(np.signbit(got[got_nan]), np.signbit(want[want_nan]),
                                  err_msg="NaN signs differ")
    uint = np.dtype(f"u{got.dtype.itemsize}")
    got_bits, want_bits = got[~got_nan].view(uint), want[~want_nan].view(uint)
    bad = np.flatnonzero(got_bits != want_bits)
    assert bad.size == 0, (
        f"{bad.size} values differ in bits, first at {bad[0]}: "
        f"got {got[~got_nan][bad[0]]!r}, want {want[~want_nan][bad[0]]!r}")


def special_values(dtype):
    """NaN, infinities, signed zeros, subnormals, extremes, ordinary values."""
    info = np.finfo(dtype)
    return np.array(
        [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -3.25,
         info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal,
         info.max, -info.max, info.eps, -info.eps, 2.0, -1e-3],
        dtype=dtype)


def same_bytes_for_thread_counts(compute, counts=(1, 2, 3)):
    """Run ``compute()`` (returning a tuple of arrays) under each OpenMP
    thread count, assert every run gives the first run's arrays byte for
    byte, and return the first run's."""
    from threadpoolctl import threadpool_limits
    runs = []
    for threads in counts:
        with threadpool_limits(threads, user_api="openmp"):
            runs.append(tuple(np.asarray(a) for a in compute()))
    for run in runs[1:]:
        for got, want in zip(run, runs[0], strict=True):
            assert (got.dtype, got.shape) == (want.dtype, want.shape)
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    return runs[0]
