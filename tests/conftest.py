"""Hypothesis profiles for the suite; shared helpers live in helpers.py."""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=150, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import pytest

from backends import backend_params, make_backend


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
