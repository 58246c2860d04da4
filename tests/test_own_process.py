"""The test files helpers.OWN_PROCESS names, each in a pytest process of its
own: what they load cannot share a process with what the rest of the suite
loads (see conftest.py).  A file whose tests all skip there skips here, with
its reasons."""

import os
import re
import subprocess
import sys

import pytest

from helpers import OWN_PROCESS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name", sorted(OWN_PROCESS))
def test_file_passes_in_a_process_of_its_own(name):
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--no-header", os.path.join("tests", name)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    tail = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    summary = done.stdout.strip().splitlines()[-1]
    if not re.search(r"\d+ passed", summary):
        reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
        assert reasons, tail
        pytest.skip(f"{name}: " + "; ".join(reasons))
    print(name, summary)
