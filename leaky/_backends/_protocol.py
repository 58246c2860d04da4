"""The protocol every backend follows, and its capabilities as data.

A backend is a module (or, for Dask, an object wrapping the backend of its
chunks) with:

``CAPABILITIES``
    A :class:`Capabilities`: what the backend can do.  The public functions
    and the layer read it before calling the backend, so a call a backend
    cannot serve is refused in one place, with the backend's reason.
``forward(x, slope, out=None, **keywords) -> y``
``forward_with_mask(x, slope, out=None, **keywords) -> (y, mask)``
``forward_packed(x, slope, out=None) -> (y, bits)``
``backward(grad, mask, slope, out=None, **keywords) -> grad_in``
``bias_act(x, b, dim, spec) -> y``
    StyleGAN's fused bias + activation + gain + clamp, where ``bias_act``
    says so: ``spec`` a :class:`leaky._bias_act.Spec`, ``dim`` checked
    against ``x``'s dimensions, ``b`` None or an array the backend checks
    with :func:`leaky._bias_act.check_bias`.
    ``slope`` is validated (:func:`leaky._contract.validate_slope`), a
    Python float or, where ``traced_slope`` says so, a traced JAX scalar.
    ``out`` is given only where ``out`` says so, NumPy's ufunc ``keywords``
    only where ``ufunc_keywords`` does, and ``forward_packed`` (or a packed
    ``mask``) only where ``packed`` does.  Each function checks the rest of
    the contract (dtype, shape, ``out=`` arrays) before it writes anything.
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

__all__ = ["Backend", "Capabilities", "refuse"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; ``why_not`` says why it cannot, for errors.

    Attributes
    ----------
    library : str
        The array library, as error messages name it ("Dask", "TensorFlow").
    ufunc_keywords : bool
        Takes NumPy's ufunc keywords (``where=``, ``casting=``, ...).
    out : bool
        Writes results into ``out=`` arrays.
    packed : bool
        Produces and reads packed masks (one bit an element).
    traced_slope : bool
        Takes a traced JAX scalar as the slope.
    bias_act : bool
        Computes :func:`leaky.bias_act`.
    wraps : bool
        Wraps arrays of another library (Dask's chunks, a Lucid tensor's
        data): the backend module's ``inner(x)`` is such an array, and
        ``around(backend)`` makes the wrapper over that array's backend,
        which the router keeps, one per backend.
    why_not : mapping of str to str
        For each capability the backend lacks, the reason, in words.
    """

    library: str
    ufunc_keywords: bool = False
    out: bool = True
    packed: bool = True
    traced_slope: bool = False
    bias_act: bool = False
    wraps: bool = False
    why_not: Mapping[str, str] = field(default_factory=dict)


class Backend(Protocol):
    """What the router hands the public functions (see the module docstring)."""

    CAPABILITIES: Capabilities

    def forward(self, x: Any, slope: float, out: Any = None, **keywords: Any) -> Any: ...

    def forward_with_mask(self, x: Any, slope: float, out: Any = None,
                          **keywords: Any) -> Any: ...

    def forward_packed(self, x: Any, slope: float, out: Any = None) -> Any: ...

    def backward(self, grad: Any, mask: Any, slope: float, out: Any = None,
                 **keywords: Any) -> Any: ...

    def bias_act(self, x: Any, b: Any, dim: int, spec: Any) -> Any: ...


_REFUSALS = {
    "out": "out= is not supported for {library} arrays: {why}; use the returned array instead",
    "packed": "packed masks are not supported for {library} arrays: {why}",
    "traced_slope": "negative_slope is a traced JAX value, but x is {operand}: {why}",
    "bias_act": "bias_act is not supported for {library} arrays yet: {why}",
}


_DEFAULT_WHY = {"traced_slope": "a traced slope needs x from JAX too",
                "bias_act": "it is computed for NumPy, torch, CuPy, JAX, Dask and "
                            "array-API arrays"}


def refuse(capabilities, capability, operand=""):
    """Raise the TypeError for a call that needs ``capability``, which the
    backend lacks."""
    why = capabilities.why_not.get(capability) or _DEFAULT_WHY.get(
        capability, "the backend cannot do it")
    raise TypeError(_REFUSALS[capability].format(
        library=capabilities.library, why=why, operand=operand))
