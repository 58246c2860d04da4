"""How leaky.torch is built and shipped.  The one-time build of the C++
torch operators, as users meet it (issue 24): it says what it builds on
stderr; a build killed half-way does not block the next; two processes
building at once both finish; it can be built ahead of time and ``python
-m leaky`` reports the state.  The fallback where no compiler is at hand
(``LEAKY_TORCH_OPS=aten``): torch's own ops, the same bits, and the torch
suites passing with it.  And ``import leaky`` alone imports no framework."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from leaky import _torch_build  # noqa: E402

from helpers import needs_cpp_operators  # noqa: E402

needs_cpp = needs_cpp_operators("the C++ operators cannot be built here")

USE_THE_OPERATORS = ("import torch, leaky.torch\n"
                     "from leaky._backends import torch as backend\n"
                     "assert backend.LIBRARY.kind == 'C++', backend.LIBRARY\n"
                     "y = torch.ops.leaky.leaky_relu(torch.tensor([-2.0, 3.0]), 0.5)\n"
                     "assert y.tolist() == [-1.0, 3.0], y\n"
                     "print('ok')\n")


def _start(args, cache):
    env = dict(os.environ, LEAKY_CACHE_DIR=str(cache), LEAKY_TORCH_OPS="auto")
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _finish(process, timeout=900):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out, err


@needs_cpp
def test_killed_build_then_two_processes_at_once_then_reported(tmp_path):
    # 1. A build ahead of time, killed after a few seconds with its compiler.
    first = _start(["-m", "leaky", "--build-torch-ops"], tmp_path)
    deadline = time.monotonic() + 120
    while "compiling" not in (first.stderr.readline() or "") and time.monotonic() < deadline:
        pass
    time.sleep(5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    # 2. Two processes at once: one builds, the other waits for it; both finish.
    started = time.monotonic()
    processes = [_start(["-c", USE_THE_OPERATORS], tmp_path),
                 _start(["-m", "leaky", "--build-torch-ops"], tmp_path)]
    (out_a, err_a), (out_b, err_b) = (_finish(p) for p in processes)
    assert time.monotonic() - started < 600
    assert out_a.strip() == "ok" and "torch operators: built" in out_b
    messages = (err_a + err_b).count("leaky: compiling its torch operators for torch "
                                     f"{torch.__version__} into {tmp_path}")
    assert messages == 1, err_a + err_b
    # 3. The state, reported without building anything.
    out, _ = _finish(_start(["-m", "leaky", "--no-bench"], tmp_path))
    assert f"torch operators: C++, built for torch {torch.__version__}: {tmp_path}" in out


def test_state_before_a_build_says_how_to_build(tmp_path):
    out, err = _finish(_start(["-m", "leaky", "--no-bench"], tmp_path))
    assert "torch operators: not built yet" in out and "--build-torch-ops" in out
    assert "compiling" not in err and not any(tmp_path.iterdir())


def test_a_build_is_keyed_by_the_torch_it_was_built_for(monkeypatch):
    source, include = _torch_build._sources()
    key = _torch_build._build_key(source, include)
    monkeypatch.setattr(torch, "__version__", torch.__version__ + ".other")
    assert _torch_build._build_key(source, include) != key
    monkeypatch.undo()
    monkeypatch.setattr(torch.version, "git_version", "0" * 40)
    assert _torch_build._build_key(source, include) != key


def test_no_compiler_falls_back_saying_why_once(tmp_path):
    code = ("import warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import torch, leaky, leaky.torch\n"
            "    leaky.torch.leaky_relu(torch.ones(2)); leaky.leaky_relu(torch.ones(2))\n"
            "from leaky._backends import torch as backend\n"
            "print(backend.LIBRARY.kind, '|', [str(w.message) for w in caught\n"
            "                                  if 'own ops' in str(w.message)])\n")
    env = dict(os.environ, LEAKY_CACHE_DIR=str(tmp_path), CXX="/nonexistent/c++",
               LEAKY_TORCH_OPS="auto")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("aten |"), done.stdout
    assert done.stdout.count("own ops") == 1 and "no C++ compiler" in done.stdout


def test_fallback_chosen_by_name_needs_no_warning():
    code = ("import warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import leaky.torch, torch\n"
            "    leaky.torch.leaky_relu(torch.ones(2))\n"
            "from leaky._backends import torch as backend\n"
            "print(backend.LIBRARY.how, [str(w.message) for w in caught if 'leaky' in str(w.message)])\n")
    env = dict(os.environ, LEAKY_TORCH_OPS="aten")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "torch's own ops (LEAKY_TORCH_OPS=aten) []", done.stdout


BITS_SCRIPT = textwrap.dedent("""
    import sys, torch, numpy as np
    import leaky, leaky.torch
    from leaky._backends import torch as backend
    print(backend.LIBRARY.kind)
    torch.manual_seed(0)
    results = {}
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        x = torch.randn(257, dtype=torch.float32).to(dtype)
        x[:4] = torch.tensor([0.0, -0.0, float("nan"), float("-inf")])
        g = torch.randn(257, dtype=torch.float32).to(dtype)
        xr = x.clone().requires_grad_()
        y = leaky.torch.leaky_relu(xr, -0.3)
        y.backward(g)
        ym, mask = leaky.leaky_relu_with_mask(x, 0.2)
        yp, bits = leaky.leaky_relu_with_mask(x, 0.2, packed=True)
        inplace = x.clone(); leaky.torch.leaky_relu(inplace, 1.5, inplace=True)
        for name, t in (("y", y), ("grad", xr.grad), ("ym", ym), ("mask", mask), ("yp", yp),
                        ("bits", bits), ("inplace", inplace),
                        ("bwd bits", leaky.leaky_relu_backward(g, bits, 0.2)),
                        ("bwd mask", leaky.leaky_relu_backward(g, mask, 0.2))):
            results[f"{dtype} {name}"] = t.detach().contiguous().view(torch.uint8).numpy()
    np.savez(sys.argv[1], **results)
""")


@needs_cpp
def test_the_fallback_gives_the_cpp_operators_bits(tmp_path):
    runs = {}
    for choice in ("aten", "auto"):
        path = tmp_path / f"{choice}.npz"
        env = dict(os.environ, LEAKY_TORCH_OPS=choice)
        done = subprocess.run([sys.executable, "-c", BITS_SCRIPT, str(path)], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[done.stdout.split()[0]] = np.load(path)
    fallback, cpp = runs["aten"], runs["C++"]
    assert sorted(fallback.files) == sorted(cpp.files)
    for name in cpp.files:
        if "bfloat16" in name and name.split()[-1] in ("y", "ym", "yp", "inplace"):
            continue  # NaN payloads: torch's own differ by position
        np.testing.assert_array_equal(fallback[name], cpp[name], err_msg=name)


# ------------------------------------------------- the no-compiler fallback --
# The fallback where no C++ compiler is at hand (torch's own ops inside
# leaky's two autograd Functions), run through the torch suites: what such a
# machine gets must pass the same tests, or skip them saying why (no
# ``torch.ops.leaky``: TorchScript, the operators themselves, forward-mode
# AD).  Each suite runs in a fresh process with ``LEAKY_TORCH_OPS=aten``;
# this process keeps the C++ library.

# Every torch test file but this one (which runs the others), four child
# pytests; this file's import hygiene test rides along with the last.
SUITES = [("tests/test_torch_operators.py",), ("tests/test_torch_autograd.py",),
          ("tests/test_torch_compile_export.py",),
          ("tests/test_torch_transforms.py", "tests/test_torch_fakes_subclasses.py",
           "tests/test_torch_deployment.py::test_import_leaky_alone_imports_no_framework")]


@pytest.mark.parametrize("suite", SUITES, ids=lambda paths: "+".join(
    path.split("/")[-1].replace(".py", "") for path in paths))
def test_suite_passes_with_torchs_own_ops(suite):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, LEAKY_TORCH_OPS="aten", HYPOTHESIS_PROFILE="dev")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--no-header", *suite], cwd=root, env=env, capture_output=True,
                          text=True, timeout=1200)
    tail = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout.splitlines()[-1], tail


# --------------------------------------------------------- import hygiene --

def test_import_leaky_alone_imports_no_framework():
    code = ("import sys, numpy, leaky; leaky.leaky_relu(numpy.ones(3)); "
            "print([m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
