"""Hypothesis profiles for the suite, and what keeps frameworks that cannot
share a process apart; shared helpers live in helpers.py."""

import importlib.util
import os
import sys

from hypothesis import settings

settings.register_profile("ci", max_examples=150, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import pytest

from backends import backend_params, make_backend
from helpers import OWN_PROCESS

# TensorFlow stays out of the suite's process: triton (torch.compile's and
# torch.export's compiler, installed with CUDA builds of torch) segfaults
# when it loads after TensorFlow, as `python -c "import tensorflow; import
# triton"` does (issue 25).  So:
# - the files in helpers.OWN_PROCESS are not collected here; each runs in a
#   child pytest (test_own_process.py), or here when named on the command line;
# - Keras runs on JAX (or torch) here, not on its default TensorFlow backend;
#   test_keras.py runs every backend in a process of its own;
# - a test after which TensorFlow is found in this process fails, so this
#   holds where triton is missing too (CI's CPU torch has none).
collect_ignore = list(OWN_PROCESS)
os.environ["KERAS_BACKEND"] = next(
    (name for name in ("jax", "torch") if importlib.util.find_spec(name)), "numpy")
_tensorflow_check = {"on": True}


def pytest_collection_modifyitems(items):
    # Off where a file of OWN_PROCESS runs in this process on purpose.
    _tensorflow_check["on"] = not any(item.path.name in OWN_PROCESS for item in items)


@pytest.fixture(autouse=True)
def _tensorflow_stays_out_of_this_process():
    yield
    if _tensorflow_check["on"] and "tensorflow" in sys.modules:
        _tensorflow_check["on"] = False  # said once
        pytest.fail("TensorFlow was imported into the suite's process (by this test, an "
                    "earlier one or a test file's import), where triton segfaults beside it: "
                    "put the test in a file named in helpers.OWN_PROCESS (see conftest.py)",
                    pytrace=False)


@pytest.fixture(params=backend_params())
def xp(request):
    """Each installed array library in turn (CuPy only with a GPU)."""
    return make_backend(request.param)


@pytest.fixture
def small_parallel_threshold():
    """Split even small arrays across threads, so thread paths are exercised."""
    from leaky._cpu import kernels

    previous = kernels.set_parallel_threshold(1)
    yield
    kernels.set_parallel_threshold(previous)
