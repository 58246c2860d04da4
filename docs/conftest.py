"""The pages' examples run as doctests (pytest, from the repository root).
A page whose examples import a library that is not installed skips, saying
which, so the suite also runs with only the core test dependencies (as on a
Python that torch or TensorFlow has no wheels for)."""

import importlib.util
import pathlib
import re

import pytest

HERE = pathlib.Path(__file__).parent
# The top-level module of each import in an example; for leaky.torch and
# leaky.keras, the framework they import.
IMPORTED = re.compile(r"^>>> (?:import|from) (?:leaky\.)?(\w+)", re.MULTILINE)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.parent != HERE or item.path.suffix != ".rst":
            continue
        missing = sorted({name for name in IMPORTED.findall(item.path.read_text())
                          if importlib.util.find_spec(name) is None})
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"its examples import {', '.join(missing)}, not installed"))
