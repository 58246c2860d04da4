"""Generic array-API backend: JAX (arrays and tracers), CuPy, array-api-strict,
and any other library with ``__array_namespace__``.

Only standard array-API calls are used (``where``, ``astype``, ``>``, ``*``),
so the code traces under ``jax.jit``, differentiates under ``jax.grad`` (the
gradient at 0 is the slope, because ``where`` routes it through ``s * x``),
and never leaves the device.  Values follow the contract: float32/float64
compute in their own precision; float16/bfloat16 in float32, rounded once.
"""

import array_api_compat
import numpy as np

from .. import _bias_act
from .. import _checks
from .. import _contract
from .. import _packing
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "backward", "bias_act", "forward", "forward_with_mask",
           "forward_packed"]

#: A slope may be a traced JAX scalar (passed into ``jit``, ``grad``, ``vmap``).
CAPABILITIES = Capabilities(library="array-API", traced_slope=True, bias_act=True)


def _namespace(*arrays):
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        kinds = " and ".join(_contract.library_name(a) for a in arrays)
        raise TypeError(f"operands come from different array libraries ({kinds}): {exc}") from None


def _host_float(xp, dtype):
    """The float dtype name the library's own ``sin`` gives a bool or
    integer ``dtype`` (JAX: its default float, float32 unless x64 is on),
    or None where its ``sin`` takes floats only (array-api-strict): then
    NumPy's rule applies.  Only asked for bool and integer inputs."""
    try:
        return _contract.dtype_name(xp.sin(xp.zeros((), dtype=dtype)).dtype)
    except TypeError:
        return None


def promoted(xp, x, slope, what="x"):
    """``x`` converted to its result dtype (bool/int promote), and that name."""
    given = _contract.dtype_name(x.dtype)
    host_float = None if given in _contract.FLOAT_NAMES else _host_float(xp, x.dtype)
    name = _contract.checked_result_name(x.dtype, slope, what, host_float)
    if given != name:
        x = xp.astype(x, getattr(xp, name))
    return x, name


def _times_slope(xp, v, slope, name):
    """``v * slope`` in the compute precision of ``name``, rounded once."""
    compute = _contract.compute_dtype_name(name)
    if _contract.is_traced(slope):
        slope = xp.astype(slope, getattr(xp, compute))  # as a Python float is cast
    if compute == name:
        return v * slope  # a Python float takes the array's dtype
    return xp.astype(xp.astype(v, getattr(xp, compute)) * slope, v.dtype)


# Both arms of the select are computed, so the unselected one may overflow;
# like the Cython kernels, stay silent about it (NumPy-backed namespaces such
# as array-api-strict would otherwise warn).
_QUIET = dict(over="ignore", under="ignore", invalid="ignore")


def _leaky(xp, x, slope, what="x"):
    x, name = promoted(xp, x, slope, what)
    keep = x > 0
    with np.errstate(**_QUIET):
        return xp.where(keep, x, _times_slope(xp, x, slope, name)), keep


def forward(x, slope, out=None):
    xp = _namespace(x)
    out = _checks.split_single_out(out)
    y, _ = _leaky(xp, x, slope)
    return _checks.deliver(y, out)


def forward_with_mask(x, slope, out=None):
    xp = _namespace(x)
    y_out, mask_out = _checks.split_out_pair(out)
    y, mask = _leaky(xp, x, slope)
    return _checks.deliver_pair(y, mask, y_out, mask_out)


def forward_packed(x, slope, out=None):
    xp = _namespace(x)
    y_out, bits_out = _checks.split_out_pair(out)
    y, keep = _leaky(xp, x, slope)
    bits = _packing.pack(xp, keep, array_api_compat.device(keep))
    return _checks.deliver_pair(y, bits, y_out, bits_out)


def backward(grad, mask, slope, out=None):
    xp = _namespace(grad, mask)
    _checks.check_mask(mask, grad.shape)
    if _packing.is_packed(mask):
        mask = _packing.unpack(xp, mask, grad.shape, array_api_compat.device(mask))
    out = _checks.split_single_out(out)
    grad, name = promoted(xp, grad, slope, "grad_output")
    with np.errstate(**_QUIET):
        grad_in = xp.where(mask, grad, _times_slope(xp, grad, slope, name))
    return _checks.deliver(grad_in, out)


def _relu(xp, v):
    """torch's relu: ``-0.0`` and NaN kept, negatives +0; the gradient is
    torch's too (0 at both zeros, through ``v * 0`` where ``v == 0``)."""
    zero = xp.zeros_like(v)
    return xp.where((v > 0) | (v != v), v, xp.where(v == 0, v * 0, zero))


def bias_act(x, b, dim, spec):
    """StyleGAN's chain in standard calls, each step in the compute
    precision and rounded once: traceable (``jax.jit``) and differentiable
    to any order by the library's own autodiff (``jax.grad``)."""
    xp = _namespace(x) if b is None else _namespace(x, b)
    x, name = promoted(xp, x, 0.0)
    _bias_act.check_fits(spec, name)
    compute = _contract.compute_dtype_name(name)
    v = x if compute == name else xp.astype(x, getattr(xp, compute))
    if b is not None:
        _bias_act.check_bias(x.shape, x.dtype, b.shape, b.dtype, dim)
        shape = tuple(-1 if k == dim else 1 for k in range(x.ndim))
        v = v + xp.reshape(b if compute == name else xp.astype(b, v.dtype), shape)
    with np.errstate(**_QUIET):
        if spec.act == "lrelu":
            v = xp.where(v > 0, v, v * spec.alpha)
        elif spec.act == "relu":
            v = _relu(xp, v)
        if spec.gain != 1:
            v = v * spec.gain
    if spec.clamped:  # NaN stays NaN; the bounds pass the gradient, as torch's clamp
        v = xp.where(v < -spec.clamp, -spec.clamp, xp.where(v > spec.clamp, spec.clamp, v))
    return v if compute == name else xp.astype(v, x.dtype)
