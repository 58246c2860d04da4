"""``python -m leaky``: the main job runs, self-checks and reports."""

import subprocess
import sys

import leaky
from leaky import __main__ as main_module
from leaky._selfcheck import reference_forward, run_selfcheck

import numpy as np
import pytest


def test_main_job_runs_and_passes_selfcheck():
    done = subprocess.run([sys.executable, "-m", "leaky", "--no-bench"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"leaky {leaky.__version__}" in done.stdout
    assert "OpenMP:" in done.stdout
    assert "self-check: passed" in done.stdout


@pytest.mark.parametrize("setting", [None, "1"])
def test_main_job_says_whether_the_gil_is_on(setting):
    import os
    env = dict(os.environ)
    env.pop("PYTHON_GIL", None)
    if setting is not None:
        env["PYTHON_GIL"] = setting
    done = subprocess.run([sys.executable, "-m", "leaky", "--no-bench"], capture_output=True,
                          text=True, timeout=300, env=env)
    gil_on = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    line = [text for text in done.stdout.splitlines() if text.startswith("GIL: ")]
    assert line and line[0].startswith(f"GIL: {'on' if gil_on or setting == '1' else 'off'}")
    assert (", PYTHON_GIL=1)" in line[0]) == (setting == "1")


def test_selfcheck_reports_a_broken_kernel(monkeypatch):
    """The self-check must be able to fail: break the kernel, expect failures."""
    from leaky import _api
    real = _api.leaky_relu
    monkeypatch.setattr(_api, "leaky_relu", lambda x, s: np.maximum(real(x, s), s * x))
    with np.errstate(all="ignore"):  # the broken kernel's own overflow
        failures = run_selfcheck()
    assert any(f.startswith("forward ") for f in failures)
    monkeypatch.setattr(main_module, "run_selfcheck", lambda: failures)
    assert main_module.main(["--no-bench"]) == 1


def test_reference_is_the_select():
    x = np.array([-2.0, 0.0, 3.0, np.nan])
    got = reference_forward(x, 1.5)
    np.testing.assert_array_equal(got[:3], [-3.0, 0.0, 3.0])
    assert np.isnan(got[3])


def test_version_is_a_string():
    assert isinstance(leaky.__version__, str) and leaky.__version__.count(".") == 2


# ---------------------------------------------------------------- the GPU --

def test_main_job_says_whether_the_gpu_path_was_verified():
    """Issue 16: without a GPU the output says plainly that the GPU path is
    unverified; with one, it runs the GPU self-check."""
    from leaky import _gpu_check
    visible, _ = _gpu_check.gpu_status()
    done = subprocess.run([sys.executable, "-m", "leaky", "--no-bench"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    if visible:
        assert "GPU self-check: passed" in done.stdout
    else:
        assert "GPU path: unverified (no GPU visible" in done.stdout


def test_gpu_check_logic_on_the_cpu_path():
    """The GPU self-check's comparison, run over the NumPy path (the one
    device this machine has): it passes, and it catches a wrong bit."""
    from leaky import _gpu_check
    dtypes = ("float16", "float32", "float64", "bfloat16")
    assert _gpu_check._check_path("numpy", np.asarray, np.asarray, dtypes) == []

    def flip_last_bit(a):
        a = np.array(a)
        if a.dtype.kind == "f" or a.dtype.name == "bfloat16":
            a.view(np.uint8)[-1] ^= 1
        return a
    failures = _gpu_check._check_path("numpy", np.asarray, flip_last_bit, ("float32",))
    assert failures and all(f.startswith("numpy ") for f in failures)
    assert any("forward " in f for f in failures)


def test_gpu_check_torch_converters_keep_bfloat16_bits():
    """Back from torch, a bfloat16 tensor is ml_dtypes' bfloat16, bit for bit."""
    torch = pytest.importorskip("torch")
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from leaky import _gpu_check
    x = np.array([1.5, -0.0, np.nan, -3.0], dtype=ml_dtypes.bfloat16)
    t = torch.from_numpy(x.view(np.int16).copy()).view(torch.bfloat16)
    _, to_host = _gpu_check._torch_converters(torch)
    np.testing.assert_array_equal(to_host(t).view(np.int16), x.view(np.int16))
