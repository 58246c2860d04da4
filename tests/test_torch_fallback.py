"""The Python operator library, run through the torch suites: what a machine
without a C++ compiler gets must pass the same tests (issue 17: CI runs
both libraries).  Each suite runs in a fresh process with
``LEAKY_TORCH_OPS=python``; this process keeps the C++ library."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

SUITES = ["tests/test_torch_ops.py", "tests/test_torch_modes.py", "tests/test_torch.py"]


@pytest.mark.parametrize("suite", SUITES)
def test_suite_passes_on_the_python_operators(suite):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, LEAKY_TORCH_OPS="python", HYPOTHESIS_PROFILE="dev")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "--no-header", suite], cwd=root, env=env, capture_output=True,
                          text=True, timeout=1200)
    tail = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout.splitlines()[-1], tail
