"""MLX backend: ``mlx.core.array`` in, ``mlx.core.array`` out, same dtype.

Imported only when an MLX array arrives (or by :mod:`leaky.mlx` and the
Lucid backend).  Everything is MLX ops, so it runs lazily on the array's
stream, on MLX's CPU or Metal backend, and inside ``mx.compile``,
``mx.grad``, ``mx.vjp``, ``mx.jvp`` and ``mx.vmap``:

* values follow the contract: float32 and float64 in their own precision,
  float16 and bfloat16 computed in float32 and rounded once, bool and
  integers promoted as MLX's own ``mx.sin`` promotes them;
* the derivative is one rule, :func:`_gradient`: ``g if x > 0 else g * s``
  (the slope at 0 and at NaN), a linear map of ``g`` given the mask.  It is
  the forward's vector-Jacobian product and its Jacobian-vector product,
  and, being linear, its own derivative, so derivatives of every order
  compose (``mx.custom_function``);
* the formulation is the one MLX runs fastest, chosen per slope
  (:func:`_select`): on MLX's CPU backend ``where`` costs about 25 times a
  ``maximum``, so a slope in [0, 1] computes ``maximum(x * s, x)`` and a
  slope above 1 ``minimum(x * s, x)``, which equal the select bit for bit
  (at a tie, x = ±0, both operands are the same bits).  A negative slope
  (or -0.0) makes the operands of a tie differ in sign; it takes ``where``;
* the functions are compiled once per slope (``mx.compile(shapeless=True)``,
  as ``mlx.nn`` compiles its activations), so each is one fused kernel for
  any shape;
* ``out=`` writes the result into the given array (``out[...] = y``, MLX's
  own assignment);
* packed masks are packed and unpacked by :mod:`leaky._packing` over MLX's
  own integer and bitwise ops (:data:`_BIT_OPS`), unpacked by broadcasting
  rather than a gather, which MLX's CPU backend runs 20 times slower.
"""

import functools
import math
import struct
from types import SimpleNamespace

import mlx.core as mx

from .. import _checks
from .. import _packing
from . import array_api
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "forward", "forward_with_mask", "forward_packed", "backward"]

CAPABILITIES = Capabilities(library="MLX")

_REDUCED = (mx.float16, mx.bfloat16)


def _select(slope):
    """The formulation for ``slope``: 'maximum', 'minimum' or 'where'.

    A zero slope makes ``inf * s`` NaN where the select keeps ``inf``, and a
    negative one (-0.0 too) makes the operands of a tie at x = ±0 differ in
    sign: both take ``where``."""
    if slope == 0 or math.copysign(1.0, slope) < 0:
        return "where"
    return "maximum" if slope <= 1.0 else "minimum"


def _compute_dtype(dtype):
    return mx.float32 if dtype in _REDUCED else dtype


def _times_slope(v, slope):
    """``v * slope`` in the compute precision of ``v``'s dtype, rounded once.
    (A NaN made here, ``-inf * 0`` for a zero slope, has the bits of MLX's
    float32 -> float16/bfloat16 conversion, not PyTorch's.)"""
    return (v.astype(_compute_dtype(v.dtype)) * slope).astype(v.dtype)


def _select_values(x, slope):
    """``x if x > 0 else x * slope``.  A NaN comes out as ``x`` itself:
    MLX's float32 -> float16/bfloat16 conversion changes a NaN's payload
    and sign, which PyTorch's keeps."""
    scaled = _times_slope(x, slope)
    formulation = _select(slope)
    if formulation == "maximum":
        return mx.maximum(x, scaled)  # a NaN operand first: maximum returns it
    if formulation == "minimum":
        return mx.minimum(x, scaled)
    return mx.where(x <= 0, scaled, x)


def _linear(g, keep, slope):
    """``g if keep else g * slope``: the derivative's one rule.  float32 and
    float64 multiply by a factor, 1 or the slope (exact: ``1 + (±0)`` is 1
    and ``0 + s`` is s, for every slope of sign +).
    float16 and bfloat16 select, keeping a NaN's bits as
    :func:`_select_values` does."""
    if g.dtype in _REDUCED or math.copysign(1.0, slope) < 0:
        return mx.where(keep | mx.isnan(g), g, _times_slope(g, slope))
    ones = keep.astype(g.dtype)
    return g * (ones + (1 - ones) * slope)


def _compiled(function, slope):
    """``function`` compiled once for every shape, as ``mlx.nn`` compiles
    its activations; but for the slope -0.0, which ``mx.compile`` folds
    into the constant 0.0 (giving zeros the wrong sign), it runs eagerly."""
    if slope == 0 and math.copysign(1.0, slope) < 0:
        return function
    return mx.compile(function, shapeless=True)


@functools.lru_cache(maxsize=64)
def _rules(slope_bits):
    """The compiled forward and the derivative rule for one slope, keyed by
    its bits (so that 0.0 and -0.0 differ)."""
    (slope,) = struct.unpack("<d", slope_bits)
    values = _compiled(functools.partial(_select_values, slope=slope), slope)
    linear = _compiled(functools.partial(_linear, slope=slope), slope)

    @mx.custom_function
    def gradient(g, keep):
        return linear(g, keep)

    @gradient.vjp
    def _gradient_vjp(primals, cotangent, output):
        g, keep = primals
        return gradient(cotangent, keep), mx.zeros_like(keep)

    @gradient.jvp
    def _gradient_jvp(primals, tangents):
        return gradient(tangents[0], primals[1])

    @gradient.vmap
    def _gradient_vmap(inputs, axes):
        # elementwise: each batched operand's batch axis first, and an
        # unbatched one broadcasts against it
        g, keep = (array if axis is None else mx.moveaxis(array, axis, 0)
                   for array, axis in zip(inputs, axes))
        return gradient(g, keep), 0

    @mx.custom_function
    def leaky(x):
        return values(x)

    @leaky.vjp
    def _leaky_vjp(primals, cotangent, output):
        return gradient(cotangent, _only(primals) > 0)

    @leaky.jvp
    def _leaky_jvp(primals, tangents):
        return gradient(_only(tangents), _only(primals) > 0)

    @leaky.vmap
    def _leaky_vmap(inputs, axes):
        return leaky(_only(inputs)), _only(axes)

    return SimpleNamespace(leaky=leaky, gradient=gradient)


def _only(arguments):
    """The one argument of a one-input function's transform rule: MLX hands
    it over bare, or in a sequence of one."""
    return arguments[0] if isinstance(arguments, (list, tuple)) else arguments


def rules(slope):
    """:func:`_rules` for a validated Python float ``slope``."""
    return _rules(struct.pack("<d", slope))


def _promoted(x, slope, what="x"):
    """``x`` as an MLX array of its result dtype (bool and integers promote
    as ``mx.sin`` does), after the contract's checks: the array-API
    backend's rule, over MLX's namespace."""
    return array_api.promoted(mx, x, slope, what)[0]


def leaky_relu(x, slope):
    """Leaky ReLU of an MLX array of a float dtype; differentiable."""
    return rules(slope).leaky(x)


def forward(x, slope, out=None):
    out = _checks.split_single_out(out)
    return _checks.deliver(leaky_relu(_promoted(x, slope), slope), out)


def forward_with_mask(x, slope, out=None):
    y_out, mask_out = _checks.split_out_pair(out)
    x = _promoted(x, slope)
    return _checks.deliver_pair(leaky_relu(x, slope), x > 0, y_out, mask_out)


#: The array-API calls :mod:`leaky._packing` needs for :func:`~leaky._packing.pack`
#: and :func:`~leaky._packing.unpack_broadcast`, in MLX ops.
_BIT_OPS = SimpleNamespace(
    uint8=mx.uint8,
    asarray=mx.array,
    astype=mx.astype,
    reshape=mx.reshape,
    concat=lambda arrays, axis: mx.concatenate(arrays, axis=axis),
    zeros=lambda shape, dtype, device=None: mx.zeros(shape, dtype=dtype),
    bitwise_or=mx.bitwise_or,
    bitwise_and=mx.bitwise_and,
    bitwise_left_shift=lambda a, k: mx.left_shift(a, mx.array(k, a.dtype)),
)


def forward_packed(x, slope, out=None):
    y_out, bits_out = _checks.split_out_pair(out)
    x = _promoted(x, slope)
    bits = _packing.pack(_BIT_OPS, x > 0)
    return _checks.deliver_pair(leaky_relu(x, slope), bits, y_out, bits_out)


def backward(grad, mask, slope, out=None):
    _checks.check_mask(mask, grad.shape)
    if _packing.is_packed(mask):
        mask = _packing.unpack_broadcast(_BIT_OPS, mask, grad.shape)
    out = _checks.split_single_out(out)
    grad = _promoted(grad, slope, "grad_output")
    return _checks.deliver(rules(slope).gradient(grad, mask), out)
