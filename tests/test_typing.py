"""Typing: leaky ships ``py.typed`` and stubs; ``mypy --strict`` passes on a
program that calls every public function, the stubs say what the runtime
does, and a wrong type is caught."""

import ast
import importlib.util
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

import leaky

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "typed_usage.py"


def _mypy(*files):
    pytest.importorskip("mypy")
    env = dict(os.environ, MYPYPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           *map(str, files)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=900)


def _skip_unless_the_example_imports():
    missing = [name for name in ("torch", "keras") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the example imports {', '.join(missing)}, not installed")


def test_mypy_strict_passes_on_the_typed_usage_example():
    _skip_unless_the_example_imports()
    done = _mypy(EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_catches_a_wrong_type(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from typing_extensions import assert_type\n"  # typing's from Python 3.11
        "import numpy as np\n"
        "from numpy.typing import NDArray\n"
        "import leaky\n"
        "x: NDArray[np.float32] = np.zeros(3, dtype=np.float32)\n"
        "assert_type(leaky.leaky_relu(x), NDArray[np.float64])\n"
        "assert_type(leaky.leaky_relu_with_mask(x, packed=True)[1], NDArray[np.bool_])\n")
    done = _mypy(wrong)
    assert done.returncode == 1
    assert done.stdout.count("error:") == 2, done.stdout


def test_the_typed_usage_example_runs(tmp_path):
    _skip_unless_the_example_imports()
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _stub_functions(stub):
    """Parameter names and kinds of each function and method in ``stub``."""
    tree = ast.parse((ROOT / "leaky" / stub).read_text())
    found = {}

    def params(node):
        a = node.args
        return ([(p.arg, "POSITIONAL_ONLY") for p in a.posonlyargs]
                + [(p.arg, "POSITIONAL_OR_KEYWORD") for p in a.args]
                + ([(a.vararg.arg, "VAR_POSITIONAL")] if a.vararg else [])
                + [(p.arg, "KEYWORD_ONLY") for p in a.kwonlyargs]
                + ([(a.kwarg.arg, "VAR_KEYWORD")] if a.kwarg else []))

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = params(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.decorator_list or (
                        isinstance(item, ast.FunctionDef)
                        and any(getattr(d, "id", "") == "overload" for d in item.decorator_list)):
                    found[f"{node.name}.{item.name}"] = params(item)
    return found


def _runtime_params(obj):
    return [(name, p.kind.name) for name, p in inspect.signature(obj).parameters.items()]


@pytest.mark.parametrize("stub, module", [("__init__.pyi", "leaky"),
                                          ("torch.pyi", "leaky.torch"),
                                          ("keras.pyi", "leaky.keras")])
def test_stubs_have_the_runtime_signatures(stub, module):
    if module != "leaky":
        pytest.importorskip(module.split(".")[1])
    runtime = __import__(module, fromlist=["_"])
    stubbed = _stub_functions(stub)
    assert stubbed
    for name, params in stubbed.items():
        owner, _, attr = name.rpartition(".")
        obj = getattr(getattr(runtime, owner), attr) if owner else getattr(runtime, name)
        assert params == _runtime_params(obj), name
    assert set(runtime.__all__) <= {n.split(".")[0] for n in stubbed} | {
        "__version__"} | set(getattr(runtime, "__all__", ()))


def test_the_package_says_it_is_typed():
    here = pathlib.Path(leaky.__file__).parent
    assert (here / "py.typed").is_file()
    for stub in ("__init__.pyi", "ufuncs.pyi", "torch.pyi", "keras.pyi"):
        assert (here / stub).is_file(), stub
