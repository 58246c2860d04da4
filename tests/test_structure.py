"""The package's shape, checked from its source: no import circle, short
files, each rule defined once, backends' capabilities as data, and a README
layout that names every file."""

import ast
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "leaky"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SOURCES}
# Modules the build generates: leaves of the import graph.
GENERATED = {"leaky._build_config"}


def _imported_modules(path):
    """The leaky modules ``path`` imports, at any depth (functions too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES or child in GENERATED else base)
    return {module for module in found if module in MODULES and module != name}


def _cycle(graph):
    """One import cycle in ``graph``, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_no_import_circle():
    graph = {name: _imported_modules(path) for name, path in MODULES.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_dask_wraps_its_chunk_backend_and_never_imports_the_public_api():
    imported = _imported_modules(MODULES["leaky._backends.dask"])
    assert not imported & {"leaky", "leaky._api", "leaky._backends"}, imported


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_file_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_the_torch_backend_with_bias_act_stays_within_1400_lines():
    """leaky_relu is bias_act's plain case there, not a second library."""
    folder = ROOT / "leaky" / "_backends" / "torch"
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".cpp", ".h")]
    assert sum(len(p.read_text().splitlines()) for p in files) <= 1400


def _definitions(pattern):
    """``file:line`` of every place in leaky/'s Python matching ``pattern``."""
    regex = re.compile(pattern)
    places = []
    for path in SOURCES:
        text = path.read_text()
        places += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
                   for m in regex.finditer(text)]
    return places


@pytest.mark.parametrize("pattern", [
    r"def (un)?pack(_rows)?\(",          # the packed-bit layout
    r"def \w*result_dtype\w*\(",          # the output dtype rule
    r"def slope_for_dtype\(",             # the slope-fits rule ...
    r"finfo\([\w.]*float32\)\.max",       # ... and its bound
    r"try:\s+import ml_dtypes",           # the bfloat16 probe
    r"def validate_slope\(",
], ids=["pack/unpack", "result dtype", "slope fits", "float32 bound", "bfloat16 probe",
        "valid slope"])
def test_each_rule_is_defined_once(pattern):
    found = _definitions(pattern)
    if pattern.startswith("def (un)?pack"):
        assert len(found) == 4, found  # pack, pack_rows, unpack, unpack_rows
        assert all(place.startswith("leaky/_packing.py") for place in found), found
    else:
        assert len(found) == 1, found


BACKENDS = ["numpy", "array_api", "tensorflow", "cupy", "dask", "torch"]


@pytest.mark.parametrize("name", BACKENDS)
def test_backends_declare_capabilities_as_data(name):
    """Every backend names a Capabilities instance, in source, and raises no
    "not supported" error of its own: the router refuses from the data."""
    path = PACKAGE / "_backends" / (f"{name}/__init__.py" if name == "torch" else f"{name}.py")
    source = path.read_text()
    assert re.search(r"^CAPABILITIES = Capabilities\(", source, re.MULTILINE)
    assert "is not supported for" not in source and "not supported for" not in source


def test_capabilities_are_read_where_calls_are_routed():
    """The public functions and the layer ask the capabilities; no module
    looks a backend up in sys.modules or by identity."""
    for path in SOURCES:
        source = path.read_text()
        assert "sys.modules.get(\"leaky." not in source, path
        assert "_backend is not" not in source and "backend is not _" not in source, path


def _readme_layout():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set()
    for line in re.findall(r"^- (.*)$", section, re.MULTILINE):
        named.update(re.findall(r"`([^`]+)`", line.split(": ", 1)[0]))
    return named


def _tracked(folder, suffixes):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    done = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:  # git says so (exit 128) outside a checkout, e.g. an sdist
        pytest.skip(f"not a git checkout: {done.stderr.strip()}")
    return {line for line in done.stdout.splitlines()
            if line.endswith(suffixes) and "/_build" not in line}


def test_readme_layout_names_every_file_and_only_files_that_exist():
    listed = _readme_layout()
    files = (_tracked("leaky", (".py", ".pyi", ".typed", ".cpp", ".in"))
             | _tracked("src", (".pyx", ".pyi", ".h")))
    if not files:
        pytest.skip("not a git checkout")
    assert files - listed == set(), "files the README's layout does not name"
    assert {entry for entry in listed
            if "/" in entry and not (ROOT / entry.rstrip("/")).exists()} == set()


def test_import_leaky_imports_no_framework():
    code = ("import sys, leaky\n"
            "print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras', 'cupy', 'dask', "
            "'array_api_compat.torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT / "tests")
    assert done.stdout.strip() == "[]"


def test_test_files_that_do_not_need_torch_collect_without_it():
    """With torch unimportable, every test file still imports: those that
    need torch skip as a whole, the rest run (helpers.py imports torch only
    for the oracle)."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "import pytest\n"
            "sys.exit(pytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', "
            "'tests']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    collected = re.search(r"(\d+) tests? collected", done.stdout)
    assert collected and int(collected.group(1)) > 500, done.stdout[-500:]
