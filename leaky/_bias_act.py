"""bias_act's contract: StyleGAN's fused bias + activation + gain + clamp,
``clamp(gain * act(x + b), -clamp, clamp)``, written once for every backend.

The activations are data, as in StyleGAN's ``bias_act.activation_funcs``:
each has a default ``alpha`` and ``gain``, and a code the kernels know
(``src/leaky_kernel_table.h``, ``enum leaky_act``).  ``alpha`` is
``lrelu``'s slope (``linear`` and ``relu`` ignore it, as StyleGAN does);
``gain`` multiplies only when it is not 1; a ``clamp`` below 0 (StyleGAN's
``None``) is no clamp.  :func:`resolve` turns a call's arguments into a
:class:`Spec`; :func:`check_bias` checks ``b`` against ``x``.
"""

import dataclasses
import math
import numbers

from . import _contract

__all__ = ["ACTIVATIONS", "Activation", "Spec", "check_bias", "check_dim", "check_fits", "resolve"]


@dataclasses.dataclass(frozen=True)
class Activation:
    code: int      # enum leaky_act
    alpha: float   # StyleGAN's def_alpha
    gain: float    # StyleGAN's def_gain


#: StyleGAN's activations that this op computes, by name.
ACTIVATIONS = {
    "linear": Activation(code=0, alpha=0.0, gain=1.0),
    "relu": Activation(code=1, alpha=0.0, gain=math.sqrt(2)),
    "lrelu": Activation(code=2, alpha=0.2, gain=math.sqrt(2)),
}


@dataclasses.dataclass(frozen=True)
class Spec:
    """One call's activation and numbers, defaults applied."""
    act: str
    code: int
    alpha: float
    gain: float
    clamp: float  # < 0: none

    @property
    def clamped(self):
        return self.clamp >= 0

    def with_numbers(self, number):
        """This spec with ``number(value)`` for alpha, gain and clamp."""
        return dataclasses.replace(self, alpha=number(self.alpha), gain=number(self.gain),
                                   clamp=number(self.clamp))

    @property
    def leaky_relu(self):
        """Whether this is leaky ReLU itself (lrelu, gain 1, no clamp): with
        no bias, the leaky_relu kernels' own operation."""
        return self.code == ACTIVATIONS["lrelu"].code and self.gain == 1 and not self.clamped

    @property
    def planes(self):
        """Bit planes the derivative needs: the activation's, and the clamp's."""
        return 2 if self.clamped else 1


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not _contract.is_finite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def resolve(act="linear", alpha=None, gain=None, clamp=None):
    """The :class:`Spec` of a call: StyleGAN's defaults for ``act``, and
    every number checked (finite; ``clamp`` None or a number, < 0 meaning
    none).

    Raises
    ------
    ValueError
        For an unknown ``act`` (the message lists the known ones), or a
        NaN or infinite ``alpha``, ``gain`` or ``clamp``.
    TypeError
        For a number that is not a real number.
    """
    if not isinstance(act, str) or act not in ACTIVATIONS:
        raise ValueError(f"act must be one of {', '.join(map(repr, ACTIVATIONS))}, got {act!r}")
    default = ACTIVATIONS[act]
    alpha = default.alpha if alpha is None else _number(alpha, "alpha")
    gain = default.gain if gain is None else _number(gain, "gain")
    clamp = -1.0 if clamp is None else _number(clamp, "clamp")
    return Spec(act, default.code, alpha, gain, -1.0 if clamp < 0 else clamp)


def check_dim(ndim, dim):
    """``dim`` as an index in ``[0, ndim)`` (negative ones count from the end)."""
    if isinstance(dim, bool) or not isinstance(dim, int) and not hasattr(dim, "__index__"):
        raise TypeError(f"dim must be an integer, got {type(dim).__name__}")
    dim = int(dim)
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim={dim} is out of range for x with {ndim} dimensions")
    return dim % ndim


def check_bias(x_shape, x_dtype, b_shape, b_dtype, dim):
    """Refuse a bias that is not one value per index of ``x`` along ``dim``
    in ``x``'s dtype (as StyleGAN asserts, with the numbers named)."""
    if len(b_shape) != 1 or b_shape[0] != x_shape[dim]:
        raise ValueError(f"b must have shape ({x_shape[dim]},): one value per index of x "
                         f"(shape {tuple(x_shape)}) along dim={dim}; got shape {tuple(b_shape)}")
    if _contract.dtype_name(b_dtype) != _contract.dtype_name(x_dtype):
        raise TypeError(f"b has dtype {_contract.dtype_name(b_dtype)} but x has "
                        f"{_contract.dtype_name(x_dtype)}: they must be the same")


def check_fits(spec, dtype_name):
    """alpha, gain and clamp hold in the precision ``dtype_name`` is
    computed in (float32 for the 16-bit types): a larger one would silently
    become infinite."""
    compute = _contract.compute_dtype_name(dtype_name)
    for name in ("alpha", "gain", "clamp"):
        value = getattr(spec, name)
        if abs(value) > _contract.SLOPE_LIMITS[compute]:
            raise ValueError(f"{name}={value!r} overflows {compute}, the precision a "
                             f"{dtype_name} input is computed in")
