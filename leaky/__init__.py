"""leaky: the fastest and most exact Leaky ReLU for the scientific-Python stack.

``y = x if x > 0 else negative_slope * x``, bit-identical to PyTorch on the CPU,
with the gradient mask ``x > 0`` available from the same pass.
"""

try:
    from . import _cpu  # noqa: F401  (imports the compiled kernels)
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    if not (exc.name or "").startswith(("leaky._kernels", "leaky._build_config")):
        raise
    raise ImportError(
        "leaky's compiled kernels are missing. If you are in the root of a "
        "source checkout, the bare 'leaky/' folder is shadowing the installed "
        "package: install it in editable mode with "
        "'pip install --no-build-isolation -e .' or run from another folder."
    ) from exc

from ._api import bias_act, leaky_relu, leaky_relu_backward, leaky_relu_with_mask
from ._build_config import VERSION as __version__
from ._layer import LeakyReLU

__all__ = [
    "LeakyReLU",
    "__version__",
    "bias_act",
    "leaky_relu",
    "leaky_relu_backward",
    "leaky_relu_with_mask",
]
