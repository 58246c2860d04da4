"""Doctests that need an optional framework skip where it is not installed.

pytest collects doctests from ``leaky/``, ``README.md`` and ``docs/``
(``testpaths`` in pyproject.toml).  Some modules import a framework when
they are imported (``leaky/torch.py`` imports torch), and some pages'
examples import one (``docs/pytorch.rst``).  Without that framework the
module cannot even be collected and the page's examples cannot run, so
``python -m pytest`` failed wherever one is missing: an arm64 chroot
without torch, TensorFlow, JAX and Keras (issue 25).  The files in
``tests/`` skip such cases with ``pytest.importorskip``; this does the same
for the doctests, one file at a time, naming what is missing.  Where every
framework is installed (CI) nothing changes.

What a file needs is read from its imports: a module's top-level imports
(and those of the packages it is in), a page's ``>>>`` import lines; an
import of ``leaky.torch`` or another leaky module counts what that module
needs.
"""

import ast
import functools
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent
PACKAGE = ROOT / "leaky"

# The optional dependencies some doctest imports; numpy and leaky itself
# are always there, and a missing one of those must fail, not skip.
OPTIONAL = frozenset({"torch", "tensorflow", "keras", "jax", "dask", "pandas",
                      "xarray", "ml_dtypes", "cupy", "array_api_strict", "mlx", "lucid"})


def _modules(statements):
    """Absolute module names the import statements among ``statements`` name."""
    names = set()
    for node in statements:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _needs_of_names(names):
    needs = set()
    for name in names:
        root = name.split(".")[0]
        if root in OPTIONAL:
            needs.add(root)
        elif root == "leaky" and name != "leaky":
            path = PACKAGE.joinpath(*name.split(".")[1:])
            for candidate in (path.with_suffix(".py"), path / "__init__.py"):
                if candidate.is_file():
                    needs |= _needs_of_module(candidate)
    return needs


@functools.cache
def _needs_of_module(path):
    """Optional modules that importing ``path`` (a file under leaky/) imports."""
    needs = set()
    files = [path] + [folder / "__init__.py" for folder in path.parents
                      if folder != PACKAGE and PACKAGE in folder.parents]
    for file in files:
        if file.is_file():
            tree = ast.parse(file.read_text(encoding="utf-8"))
            needs |= _needs_of_names(_modules(tree.body))
    return frozenset(needs)


def _needs_of_text(path):
    """Optional modules the ``>>>`` import lines of a page import."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.strip()
        if code.startswith(">>> "):
            code = code[4:]
            if code.startswith(("import ", "from ")):
                try:
                    names |= _modules(ast.parse(code).body)
                except SyntaxError:
                    pass
    return _needs_of_names(names)


def _missing(file_path):
    if file_path.suffix == ".py" and PACKAGE in file_path.parents:
        needs = _needs_of_module(file_path)
    elif file_path.suffix in (".rst", ".md"):
        needs = _needs_of_text(file_path)
    else:
        return []
    return sorted(name for name in needs if importlib.util.find_spec(name) is None)


class _NeedsMissing(pytest.File):
    """Stands for a doctest file whose imports are missing; collects as skipped."""

    def __init__(self, *, missing, **kwargs):
        super().__init__(**kwargs)
        self.missing = missing

    def collect(self):
        where = self.path.relative_to(ROOT) if ROOT in self.path.parents else self.path
        pytest.skip(f"{where}: its doctests need {', '.join(self.missing)}, not installed")


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    collectors = yield
    if not collectors:
        return collectors
    missing = _missing(pathlib.Path(file_path).resolve())
    if not missing:
        return collectors
    return [_NeedsMissing.from_parent(parent, path=file_path, missing=missing)]
