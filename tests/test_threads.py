"""Eight threads at once, through a barrier, against one thread, bit for bit.

Every public function (``leaky_relu``, ``leaky_relu_with_mask`` with bool and
packed masks, ``leaky_relu_backward`` from both, ``leaky.LeakyReLU`` forward
and backward) runs in 8 threads released together by a
``threading.Barrier``: on shared inputs and on each thread's own arrays,
into disjoint rows of a shared output and in place into private ones, below
and above the OpenMP threshold, in float16, float32 and float64.  Each
thread starts with first calls on operand types the router has not seen
(its cache cleared; a fresh ``ndarray`` subclass, lists, scalars, and
pandas, xarray, ``numpy.ma``, array-api-strict and Dask where installed).
The results must equal a single-threaded run's, bit for bit.

On a free-threaded CPython (3.13t, ``PYTHON_GIL=0``) the threads truly run
at once; with the GIL, the kernels release it and the rest interleaves.
A fresh process repeats the run, so the lazy imports (array_api_compat, the
backends) happen first in the threads; and on a free-threaded build,
``import leaky`` must leave the GIL off, without a warning.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys
import sysconfig
import threading

import numpy as np
import pytest

import leaky
from leaky import _backends
from leaky._cpu import kernels

THREADS = 8
DTYPES = (np.float16, np.float32, np.float64)
SLOPES = (0.01, -0.5, 1.5)
ROUNDS = 2
HERE = pathlib.Path(__file__).resolve().parent


def _sizes():
    """One size below the OpenMP threshold, one above (a ragged tail)."""
    threshold = kernels.get_parallel_threshold()
    return (1000, threshold + 4099)


def _data(dtype, size, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(size) * 4).astype(dtype)
    x[:8] = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 3.0], dtype=dtype)
    return x


# The key of the shared layer's input in _shared_inputs() (not a dtype).
SHARED_LAYER_INPUT = ("layer", 0)


def _shared_inputs():
    shared = {(np.dtype(d).name, n): (_data(d, n, 1), _data(d, n, 2)[::-1].copy())
              for d in DTYPES for n in _sizes()}
    n = _sizes()[1]
    shared[SHARED_LAYER_INPUT] = (_data(np.float32, n, 3), _data(np.float32, n, 4))
    return shared


def _installed(name):
    return importlib.util.find_spec(name) is not None


def _to_numpy(a):
    if hasattr(a, "compute"):  # Dask, lazily built in the thread
        a = a.compute(scheduler="synchronous")
    if type(a).__module__.startswith("array_api_strict"):
        a = np.from_dlpack(a)
    return np.array(a)


def _first_calls(index, record):
    """Calls on operand types the router has not seen (after clear_cache)."""
    x = _data(np.float32, 300, 100 + index)
    grad = _data(np.float32, 300, 200 + index)

    class Fresh(np.ndarray):
        pass

    operands = [("subclass", x.view(Fresh), grad.view(Fresh)),
                ("list", x.tolist(), grad.tolist()),
                ("masked", np.ma.masked_array(x, mask=x < -3), grad)]
    if _installed("pandas"):
        import pandas as pd
        operands.append(("pandas", pd.Series(x), pd.Series(grad)))
    if _installed("xarray"):
        import xarray as xr
        operands.append(("xarray", xr.DataArray(x), xr.DataArray(grad)))
    if _installed("array_api_strict"):
        import array_api_strict as xps
        operands.append(("array-api-strict", xps.asarray(x), xps.asarray(grad)))
    if _installed("dask"):
        import dask.array as da
        operands.append(("dask", da.from_array(x, chunks=128), da.from_array(grad, chunks=128)))
    record("scalar", leaky.leaky_relu(-2.0 - index, 0.25))
    for name, xs, gs in operands:
        slope = SLOPES[index % len(SLOPES)]
        record(f"{name} forward", leaky.leaky_relu(xs, slope))
        y, mask = leaky.leaky_relu_with_mask(xs, slope)
        record(f"{name} forward_mask", y, mask)
        record(f"{name} backward", leaky.leaky_relu_backward(gs, mask, slope))


def _work(index, shared, shared_out, shared_layer):
    """What one thread does; returns its results as (label, arrays)."""
    results = []

    def record(label, *arrays):
        results.append((label, tuple(_to_numpy(a) for a in arrays)))

    _first_calls(index, record)
    for round_ in range(ROUNDS):
        for (dtype, n), (x, grad) in shared.items():
            if (dtype, n) == SHARED_LAYER_INPUT:
                continue
            slope = SLOPES[(index + round_) % len(SLOPES)]
            mine = _data(dtype, n, 1000 * index + round_)
            tag = f"{dtype} n={n} round {round_}"
            for where, values in (("shared", x), ("private", mine)):
                record(f"{tag} {where} forward", leaky.leaky_relu(values, slope))
                y, mask = leaky.leaky_relu_with_mask(values, slope)
                yp, bits = leaky.leaky_relu_with_mask(values, slope, packed=True)
                record(f"{tag} {where} forward_mask", y, mask, yp, bits)
                record(f"{tag} {where} backward", leaky.leaky_relu_backward(grad, mask, slope),
                       leaky.leaky_relu_backward(grad, bits, slope))
                layer = leaky.LeakyReLU(slope, packed=round_ % 2 == 0)
                record(f"{tag} {where} layer", layer(values), layer.backward(grad))
            row = shared_out[dtype][n][index]  # this thread's row of a shared output
            leaky.leaky_relu(x, slope, out=row)
            record(f"{tag} shared out", row)
            leaky.leaky_relu(mine, slope, out=mine)  # in place, private
            record(f"{tag} in place", mine)
            # One layer shared by every thread, always on the same input:
            # each forward stores the same mask, so backward is the same for all.
            layer_x, layer_grad = shared[SHARED_LAYER_INPUT]
            record(f"{tag} shared layer", shared_layer(layer_x),
                   shared_layer.backward(layer_grad))
    return results


def _outputs(shared):
    out = {}
    for (dtype, n) in shared:
        if (dtype, n) == SHARED_LAYER_INPUT:
            continue
        out.setdefault(dtype, {})[n] = np.zeros((THREADS, n), dtype=dtype)
    return out


def run_together(meddle=False):
    """Run _work in THREADS threads released by one barrier; return their
    results by thread index.  ``meddle``: one more thread changes the
    parallel threshold all the while (the bits must not change)."""
    shared = _shared_inputs()
    shared_out, shared_layer = _outputs(shared), leaky.LeakyReLU(0.1)
    _backends.clear_cache()
    barrier = threading.Barrier(THREADS + meddle)
    results, errors, done = [None] * THREADS, [], threading.Event()

    def worker(index):
        try:
            barrier.wait()
            results[index] = _work(index, shared, shared_out, shared_layer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append((index, exc))

    def meddler():
        barrier.wait()
        previous = kernels.get_parallel_threshold()
        try:
            while not done.is_set():
                for value in (1, 4096, previous):
                    kernels.set_parallel_threshold(value)
        finally:
            kernels.set_parallel_threshold(previous)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    extra = [threading.Thread(target=meddler)] if meddle else []
    for thread in threads + extra:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    done.set()
    for thread in extra:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads + extra), "a thread hung"
    return results


def run_alone():
    """The same work, one thread after another, from this thread."""
    shared = _shared_inputs()
    shared_out, shared_layer = _outputs(shared), leaky.LeakyReLU(0.1)
    return [_work(k, shared, shared_out, shared_layer) for k in range(THREADS)]


def assert_same_results(together, alone):
    assert len(together) == len(alone) == THREADS
    for index, (got, want) in enumerate(zip(together, alone)):
        assert [label for label, _ in got] == [label for label, _ in want]
        for (label, arrays), (_, expected) in zip(got, want):
            for a, b in zip(arrays, expected, strict=True):
                assert (a.dtype, a.shape) == (b.dtype, b.shape), (index, label)
                assert a.tobytes() == b.tobytes(), f"thread {index}: {label} differs"


def test_eight_threads_at_once_match_one_thread():
    assert_same_results(run_together(), run_alone())


def test_threshold_changes_while_eight_threads_compute():
    before = kernels.get_parallel_threshold()
    assert_same_results(run_together(meddle=True), run_alone())
    assert kernels.get_parallel_threshold() == before


def test_the_comparison_can_fail():
    """A run that differs in one bit of one result is caught."""
    alone = run_alone()
    broken = [[(label, tuple(a.copy() for a in arrays)) for label, arrays in run]
              for run in alone]
    label, arrays = broken[5][-1]
    arrays[0].view(np.uint8).reshape(-1)[-1] ^= 1
    with pytest.raises(AssertionError, match="thread 5"):
        assert_same_results(broken, alone)


def test_concurrent_set_parallel_threshold_returns_each_value_once():
    """Each setter gets back the value it replaced: no two see the same one."""
    before = kernels.get_parallel_threshold()
    barrier, seen = threading.Barrier(THREADS), []

    def setter(k):
        barrier.wait()
        for j in range(200):
            seen.append(kernels.set_parallel_threshold(10_000 + 1000 * k + j + 1))

    threads = [threading.Thread(target=setter, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = kernels.set_parallel_threshold(before)
    assert sorted(seen + [last]) == sorted([before] + [10_000 + 1000 * k + j + 1
                                                       for k in range(THREADS)
                                                       for j in range(200)])


_FRESH_PROCESS = """
import sys
sys.path.insert(0, {tests!r})
import leaky, test_threads as t
together = t.run_together()
t.assert_same_results(together, t.run_alone())
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
print("ok", "gil" if gil else "no-gil")
"""


def test_first_calls_in_a_fresh_process():
    """Lazy imports (array_api_compat, the backends) first happen in the 8
    threads, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c",
                           _FRESH_PROCESS.format(tests=str(HERE))],
                          capture_output=True, text=True, timeout=900, cwd=HERE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("ok"), done.stdout


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"),
                    reason="not a free-threaded CPython build")
def test_import_leaves_the_gil_off_without_a_warning():
    """Every kernel variant this CPU runs declares that it needs no GIL."""
    code = ("import sys, leaky, leaky._cpu as c\n"
            "for name in c.supported_variants(): c.load(name)\n"
            "import leaky.ufuncs, leaky._backends.numpy\n"
            "print(sys._is_gil_enabled())")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                          capture_output=True, text=True, timeout=300, cwd=HERE, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "False", done.stdout + done.stderr
    assert "GIL" not in done.stderr, done.stderr
