"""Runtime CPU dispatch: pick the best compiled kernel variant at import.

The kernels are compiled several times from one source (``src/meson.build``):
``_kernels_baseline`` runs on any CPU of the architecture, ``_kernels_avx2``
and ``_kernels_avx512`` use wider vectors and hardware float16 conversion.
All variants give bit-identical results (``tests/test_cpu_dispatch.py``).

Set ``LEAKY_CPU_VARIANT`` (``baseline``, ``avx2``, ``avx512``) before
importing leaky to force one; a variant this CPU cannot run is refused.
"""

import importlib
import os

from . import _build_config

__all__ = ["ENV_VARIABLE", "active_variant", "kernels", "load", "supported_variants"]

ENV_VARIABLE = "LEAKY_CPU_VARIANT"


def _cpu_features():
    """The CPU's features as NumPy detected them (``np.show_runtime()`` uses them)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # pragma: no cover - a NumPy without the table
        return {}
    return __cpu_features__


def supported_variants():
    """Built variants this CPU can run, baseline first, the best last."""
    features = _cpu_features()
    return [name for name, needs in _build_config.KERNEL_VARIANTS.items()
            if all(features.get(feature, False) for feature in needs)]


def load(name):
    """Import kernel variant ``name``, refusing one this CPU cannot run."""
    if name not in _build_config.KERNEL_VARIANTS:
        raise ValueError(f"unknown kernel variant {name!r}; this build has "
                         f"{', '.join(_build_config.KERNEL_VARIANTS)}")
    if name not in supported_variants():
        needs = ", ".join(_build_config.KERNEL_VARIANTS[name])
        raise ValueError(f"kernel variant {name!r} needs CPU features {needs}, "
                         "which this CPU lacks")
    return importlib.import_module(f"leaky._kernels_{name}")


def _choose():
    forced = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if forced:
        try:
            return load(forced)
        except ValueError as exc:
            raise ImportError(f"{ENV_VARIABLE}={forced}: {exc}") from None
    return load(supported_variants()[-1])


#: The kernel module every call uses.
kernels = _choose()


def active_variant():
    """Name of the variant in use."""
    return kernels.__name__.rsplit("_", 1)[-1]
