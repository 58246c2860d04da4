"""Which torch operator library leaky uses, and how it was had.

The C++ library (``csrc/leaky_ops.cpp``) is compiled against the torch that
is installed, the first time ``leaky.torch`` is imported with that torch,
into a cache keyed by everything the build depends on: the sources, torch's
version and git revision and C++ ABI, Python's version and the machine.  A
build for one torch is never loaded into another: another torch has another
key, so it gets its own build (as DeepSpeed's ``op_builder`` and
stylegan2-ada's ``custom_ops`` do).  The install order of leaky and torch
does not matter, and nothing is downloaded.

Where it cannot be built (no C++ compiler or ninja, a failed build) leaky
uses its Python library (:mod:`._python_ops`), with the same schemas and
bits, more slowly, and says why once, with a :class:`PythonOperatorsWarning`.

``LEAKY_TORCH_OPS`` chooses: ``auto`` (the default: C++ if it can be had),
``cpp`` (C++ or an error), ``python``.  ``LEAKY_CACHE_DIR`` moves the cache
(default ``$XDG_CACHE_HOME/leaky``, else ``~/.cache/leaky``).
"""

import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import os
import pathlib
import platform
import shutil
import sys
import warnings

import torch

from ... import _build_config
from ..._cpu import kernels as _kernels
from . import _python_ops

__all__ = ["ENV_VARIABLE", "Library", "PythonOperatorsWarning", "load"]

ENV_VARIABLE = "LEAKY_TORCH_OPS"
_HERE = pathlib.Path(__file__).parent


class PythonOperatorsWarning(UserWarning):
    """leaky.torch runs its Python operators: correct, and slower."""


@dataclasses.dataclass(frozen=True)
class Library:
    """The operator library in use."""
    kind: str            # "C++" or "Python"
    module: object       # has register(), direct_forward(), ...
    how: str             # how it was built, or why the C++ one is not used


def _sources():
    """The C++ source and the folder holding the kernel table header (beside
    it in an installed package, in ``src/`` of a source tree)."""
    source = _HERE / "csrc" / "leaky_ops.cpp"
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


def _missing_tool():
    """Why a build cannot even start, or None."""
    compiler = os.environ.get("CXX", "c++")
    if shutil.which(compiler) is None:
        return f"no C++ compiler ({compiler!r} is not on PATH)"
    if shutil.which("ninja") is None:
        return "ninja is not installed (pip install ninja)"
    return None


def _import_built(name, folder):
    """The built library from the cache, or None if it is not there, or
    another process is still building it (torch's builder holds a ``lock``
    file in the folder meanwhile; :func:`_build` waits for it)."""
    if (folder / "lock").exists():
        return None
    path = folder / f"{name}{importlib.machinery.EXTENSION_SUFFIXES[-1]}"
    if not path.is_file():
        path = folder / f"{name}.so"  # what torch.utils.cpp_extension writes
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def _build(name, source, include, folder):
    """Compile the library into ``folder`` (the compiler's output is kept
    from the console; an error carries it)."""
    reason = _missing_tool()
    if reason is not None:
        raise _CannotBuild(reason)
    from torch.utils import cpp_extension
    folder.mkdir(parents=True, exist_ok=True)
    return cpp_extension.load(
        name=name, sources=[str(source)], extra_include_paths=[str(include)],
        extra_cflags=["-O2"], build_directory=str(folder), verbose=False)


class _CannotBuild(RuntimeError):
    """A tool the build needs is missing."""


def _load_cpp():
    """The C++ library: from the cache, else built into it first."""
    source, include = _sources()
    key = _build_key(source, include)
    name = f"leaky_torch_ops_{key}"
    folder = _cache_root() / f"torch-{torch.__version__}" / key
    module = _import_built(name, folder) or _build(name, source, include, folder)
    module.set_kernel_table(_kernels.kernel_table_capsule())
    module.set_parameter_type(torch.nn.Parameter)
    return Library("C++", module, f"C++, built against torch {torch.__version__} "
                                  f"(git {torch.version.git_version[:10]}), cached in {folder}")


def _python(reason):
    _python_ops.register()
    return Library("Python", _python_ops, f"Python ({reason})")


def _first_error(message):
    """The compiler's first error line, else the message's last line."""
    lines = message.strip().splitlines() or [""]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines[-1:])[0].strip()[:300]


def load():
    """The operator library this process uses, registered (once)."""
    choice = os.environ.get(ENV_VARIABLE, "auto").strip().lower() or "auto"
    if choice not in ("auto", "cpp", "python"):
        raise ValueError(f"{ENV_VARIABLE}={choice!r}: expected auto, cpp or python")
    if choice == "python":
        return _python(f"{ENV_VARIABLE}=python")
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
    warnings.warn(f"leaky.torch uses its Python operators, which are correct but slower: "
                  f"{reason}", PythonOperatorsWarning, stacklevel=3)
    return _python(reason)
