"""``python -m leaky``: the main job runs, self-checks and reports."""

import subprocess
import sys

import leaky
from leaky import __main__ as main_module
from leaky._selfcheck import reference_forward, run_selfcheck

import numpy as np


def test_main_job_runs_and_passes_selfcheck():
    done = subprocess.run([sys.executable, "-m", "leaky", "--no-bench"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"leaky {leaky.__version__}" in done.stdout
    assert "OpenMP:" in done.stdout
    assert "self-check: passed" in done.stdout


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
