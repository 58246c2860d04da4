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
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    # Exit status 5: no test ran, as when the file skips as a whole.
    if done.returncode in (0, 5) and re.fullmatch(r"\d+ skipped in .*", summary):
        reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
        pytest.skip(f"{name}: " + "; ".join(reasons))
    assert done.returncode == 0 and re.search(r"\d+ passed", summary), tail
