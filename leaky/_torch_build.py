"""leaky's C++ torch operators: where they are built, whether they are, and
the build itself.

The C++ library (``_backends/torch/csrc/leaky_ops.cpp``) is compiled against
the torch that is installed, the first time ``leaky.torch`` is imported
with that torch (or ahead of time: ``python -m leaky --build-torch-ops``),
into a cache keyed by everything the build depends on: the sources, torch's
version, git revision and C++ ABI, Python's version and the machine.  A
build for one torch is never loaded into another.  Nothing is downloaded.

One build at a time per key: an OS file lock (``fcntl.flock``, or
``msvcrt.locking`` on Windows), which dies with its process, so a build
killed half-way (Ctrl-C, the OOM killer, a CI timeout) leaves nothing that
blocks the next one; torch's own lock file inside the folder, which would
(it spins on a stale file), is removed by whoever holds ours.  A second
process waits for the first and loads what it built.

Where it cannot be built (no C++ compiler or ninja, a failed build) leaky
computes with torch's own ops (``_backends/torch/_aten.py``: same bits,
slower, no TorchScript or forward-mode AD) and says why once, with an
:class:`AtenFallbackWarning`: the "aten" fallback, by one name everywhere
(``Library.kind``, the warning, ``LEAKY_TORCH_OPS=aten``).
``LEAKY_TORCH_OPS`` chooses: ``auto`` (the default), ``cpp`` (C++ or an
error), ``aten``.  ``LEAKY_CACHE_DIR``
moves the cache (default ``$XDG_CACHE_HOME/leaky``, else ``~/.cache/leaky``).
This module imports torch, and never the torch backend.
"""

import contextlib
import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import os
import pathlib
import platform
import shutil
import sys
import time
import warnings

import torch

from . import _build_config
from ._cpu import kernels as _kernels

__all__ = ["ENV_VARIABLE", "AtenFallbackWarning", "Library", "build", "load", "state"]

ENV_VARIABLE = "LEAKY_TORCH_OPS"
_CSRC = pathlib.Path(__file__).parent / "_backends" / "torch" / "csrc"
#: How long a process waits for another's build before it gives up.
LOCK_TIMEOUT_S = 900


class AtenFallbackWarning(UserWarning):
    """leaky.torch computes with torch's own ops: correct, and slower."""


@dataclasses.dataclass(frozen=True)
class Library:
    """The operator library in use."""
    kind: str       # "C++", or "aten" (torch's own ops, no leaky operators)
    how: str        # how it was built, or why the C++ one is not used
    module: object = None  # the C++ module: its entries to the operators


def _sources():
    """The C++ source and the folder holding the kernel table header (beside
    it in an installed package, in ``src/`` of a source tree)."""
    source = _CSRC / "leaky_ops.cpp"
    for folder in (source.parent, pathlib.Path(_build_config.SOURCE_ROOT) / "src"):
        if (folder / "leaky_kernel_table.h").is_file():
            return source, folder
    raise FileNotFoundError("leaky_kernel_table.h is neither beside leaky_ops.cpp nor in "
                            f"{_build_config.SOURCE_ROOT}/src")


def _build_key(source, include):
    digest = hashlib.sha256()
    for part in (source.read_bytes(), (include / "leaky_kernel_table.h").read_bytes()):
        digest.update(part)
    for fact in (_build_config.VERSION, torch.__version__, torch.version.git_version,
                 str(torch._C._GLIBCXX_USE_CXX11_ABI), sys.version, platform.machine()):
        digest.update(fact.encode())
    return digest.hexdigest()[:16]


def _cache_root():
    if os.environ.get("LEAKY_CACHE_DIR"):
        return pathlib.Path(os.environ["LEAKY_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (pathlib.Path(xdg) if xdg else pathlib.Path.home() / ".cache") / "leaky"


def _where():
    """(module name, build folder, source, include folder) for this torch."""
    source, include = _sources()
    key = _build_key(source, include)
    return f"leaky_torch_ops_{key}", _cache_root() / f"torch-{torch.__version__}" / key, \
        source, include


def _built_file(name, folder):
    """The finished library in ``folder``, or None (a build that was killed
    half-way may have left a part of one, but never the ``built`` mark)."""
    if not (folder / "built").is_file():
        return None
    for path in (folder / f"{name}{importlib.machinery.EXTENSION_SUFFIXES[-1]}",
                 folder / f"{name}.so"):  # what torch.utils.cpp_extension writes
        if path.is_file():
            return path
    return None


def _missing_tool():
    """Why a build cannot even start, or None."""
    compiler = os.environ.get("CXX", "c++")
    if shutil.which(compiler) is None:
        return f"no C++ compiler ({compiler!r} is not on PATH)"
    if shutil.which("ninja") is None:
        return "ninja is not installed (pip install ninja)"
    return None


class _CannotBuild(RuntimeError):
    """A tool the build needs is missing."""


def _try_lock(handle):
    if sys.platform == "win32":
        import msvcrt
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def _locked(folder):
    """Hold the build lock of ``folder`` (a file beside it); the OS releases
    it if this process dies."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "a+") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                _try_lock(handle)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another process has been building {folder} for "
                                       f"{LOCK_TIMEOUT_S} s") from None
                time.sleep(0.2)
        yield  # closing the file releases the lock


def _compile(name, folder, source, include):
    """Compile the library into ``folder``, saying so on stderr."""
    reason = _missing_tool()
    if reason is not None:
        raise _CannotBuild(reason)
    from torch.utils import cpp_extension
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lock").unlink(missing_ok=True)  # torch's, left by a build that was killed
    print(f"leaky: compiling its torch operators for torch {torch.__version__} into {folder} "
          "(once per torch version; about a minute on two cores) ...", file=sys.stderr,
          flush=True)
    start = time.monotonic()
    sys.modules[name] = cpp_extension.load(
        name=name, sources=[str(source)], extra_include_paths=[str(include)],
        extra_cflags=["-O2"], build_directory=str(folder), verbose=False)
    (folder / "built").touch()
    print(f"leaky: built in {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)


def _import(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def build():
    """Build the C++ operators for this torch unless they are built; return
    the built file's path."""
    name, folder, source, include = _where()
    with _locked(folder):
        if _built_file(name, folder) is None:
            _compile(name, folder, source, include)
        return _built_file(name, folder)


def state():
    """One line: whether the C++ operators are built for this torch, where."""
    name, folder, _, _ = _where()
    path = _built_file(name, folder)
    if path is not None:
        return f"C++, built for torch {torch.__version__}: {path}"
    return (f"not built yet for torch {torch.__version__}: the first `import leaky.torch` "
            "compiles them (about a minute), or now: python -m leaky --build-torch-ops")


def _load_cpp():
    path = build()
    name = path.name.split(".")[0]
    module = sys.modules.get(name) or _import(name, path)
    module.set_kernel_table(_kernels.kernel_table_capsule())
    return Library("C++", f"C++, built against torch {torch.__version__} "
                          f"(git {torch.version.git_version[:10]}), cached in {path.parent}",
                   module)


def _first_error(message):
    """The compiler's first error line, else the message's last line."""
    lines = message.strip().splitlines() or [""]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines[-1:])[0].strip()[:300]


def load():
    """The operator library this process uses, loaded (once)."""
    choice = os.environ.get(ENV_VARIABLE, "auto").strip().lower() or "auto"
    if choice not in ("auto", "cpp", "aten"):
        raise ValueError(f"{ENV_VARIABLE}={choice!r}: expected auto, cpp or aten")
    if choice == "aten":
        return Library("aten", f"torch's own ops ({ENV_VARIABLE}=aten)")
    try:
        return _load_cpp()
    except _CannotBuild as exc:
        reason = str(exc)
        if choice == "cpp":
            raise RuntimeError(f"{ENV_VARIABLE}=cpp, but the C++ operators cannot be "
                               f"built: {reason}") from None
    except Exception as exc:  # a failed build: say why, then fall back
        if choice == "cpp":
            raise
        reason = f"the C++ build failed: {type(exc).__name__}: {_first_error(str(exc))}"
    warnings.warn(f"leaky.torch computes with torch's own ops (no TorchScript or forward-mode "
                  f"AD, slower) because its C++ operators cannot be had: {reason}",
                  AtenFallbackWarning, stacklevel=3)
    return Library("aten", f"torch's own ops ({reason})")
