"""The fallback where no C++ compiler is at hand (torch's own ops inside
leaky's two autograd Functions), run through the torch suites: what such a
machine gets must pass the same tests, or skip them saying why (no
``torch.ops.leaky``: TorchScript, the operators themselves, forward-mode
AD).  Each suite runs in a fresh process with ``LEAKY_TORCH_OPS=aten``;
this process keeps the C++ library."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

SUITES = ["tests/test_torch_ops.py", "tests/test_torch_modes.py", "tests/test_torch.py",
          "tests/test_torch_seams.py"]


@pytest.mark.parametrize("suite", SUITES)
def test_suite_passes_with_torchs_own_ops(suite):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, LEAKY_TORCH_OPS="aten", HYPOTHESIS_PROFILE="dev")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--no-header", suite], cwd=root, env=env, capture_output=True,
                          text=True, timeout=1200)
    tail = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout.splitlines()[-1], tail
