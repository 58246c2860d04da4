"""``python -m leaky``: build info, backends, self-check, quick benchmark.

Exits with status 1 if the self-check finds any mismatch.
"""

import argparse
import importlib.util
import os
import platform
import sys
import sysconfig

import numpy as np

from . import __version__, _build_config, _cpu, _gpu_check
from ._cpu import kernels as _kernels
from ._bench import format_rows, quick_benchmark
from ._selfcheck import SLOPES, checked_dtypes, run_selfcheck

OPTIONAL_BACKENDS = ("torch", "tensorflow", "keras", "jax", "dask", "cupy", "array_api_strict",
                     "pandas", "xarray", "ml_dtypes")


def _gil_line():
    """Whether the GIL is on, and why (a free-threaded build, ``PYTHON_GIL``)."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil_on = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    build = "free-threaded build" if free_threaded else "build with the GIL"
    forced = f", PYTHON_GIL={os.environ['PYTHON_GIL']}" if "PYTHON_GIL" in os.environ else ""
    return f"GIL: {'on' if gil_on else 'off'} ({build}{forced})"


def _build_info():
    return [
        f"leaky {__version__} (numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()})",
        f"compiler: {_build_config.COMPILER}, buildtype {_build_config.BUILDTYPE} "
        f"(-O{_build_config.OPTIMIZATION})",
        f"kernel flags: {_build_config.KERNEL_C_ARGS}",
        f"kernel variant: {_cpu.active_variant()} (CPU runs: "
        f"{', '.join(_cpu.supported_variants())}; force one with {_cpu.ENV_VARIABLE}), "
        f"float16 conversion in {_kernels.half_conversion()}, "
        f"packed masks with {_kernels.packing()} code",
        f"OpenMP: {'yes' if _kernels.openmp_enabled() else 'no'}, "
        f"threads: {_kernels.max_threads()}, "
        f"parallel from {_kernels.get_parallel_threshold()} elements",
        _gil_line(),
    ]


def _backends():
    found = [name for name in OPTIONAL_BACKENDS if importlib.util.find_spec(name)]
    missing = [name for name in OPTIONAL_BACKENDS if name not in found]
    return [f"backends importable: {', '.join(found) or 'none'}"
            + (f" (not installed: {', '.join(missing)})" if missing else "")]


def _torch_operators():
    """Whether leaky's C++ torch operators are built for the installed
    torch (asking builds nothing)."""
    if importlib.util.find_spec("torch") is None:
        return []
    from . import _torch_build
    return [f"torch operators: {_torch_build.state()}"]


def _build_torch_operators():
    """``--build-torch-ops``: build them now (a Docker image, say); 0 if built."""
    from . import _torch_build
    try:
        path = _torch_build.build()
    except Exception as exc:
        print(f"leaky: the torch operators could not be built: {exc}", file=sys.stderr)
        return 1
    print(f"torch operators: built for this torch: {path}")
    return 0


def _report(name, failures, passed_line):
    """Print a self-check's verdict; True if it passed."""
    if failures:
        print(f"{name}: FAILED ({len(failures)} mismatches)")
        print("\n".join(f"  {f}" for f in failures))
        return False
    print(f"{name}: passed ({passed_line})")
    return True


def _gpu_section():
    """The GPU's line, and its self-check where one is visible; True if
    nothing failed."""
    visible, line = _gpu_check.gpu_status()
    print(line)
    if not visible:
        return True
    checked, failures = _gpu_check.run_gpu_selfcheck()
    return _report("GPU self-check", failures,
                   f"{' and '.join(checked)} against the CPU reference: the same special "
                   "values, slopes and layouts; NaN by position")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m leaky", description=__doc__)
    parser.add_argument("--no-bench", action="store_true", help="skip the benchmark")
    parser.add_argument("--build-torch-ops", action="store_true",
                        help="build the C++ torch operators for the installed torch, and exit")
    args = parser.parse_args(argv)
    if args.build_torch_ops:
        return _build_torch_operators()

    print("\n".join(_build_info() + _backends() + _torch_operators()))
    dtypes = ", ".join(dtype.name for dtype in checked_dtypes())
    passed = _report("self-check", run_selfcheck(),
                     f"{dtypes}; special values, {len(SLOPES)} slopes, contiguous and "
                     "reversed; forward, mask, packed mask, backward from both")
    passed = _gpu_section() and passed
    if not passed:
        return 1
    if not args.no_bench:
        print("\nquick benchmark, float32, best of 5 (higher speed-up = leaky faster):")
        print(format_rows(quick_benchmark()))
        gpu_rows = _gpu_check.gpu_benchmark()
        if gpu_rows:
            print("\nGPU benchmark, float32, n = 1e8, best of 5:")
            print(_gpu_check.format_gpu_rows(gpu_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
