"""TensorFlow backend: ``tf.Tensor`` and ``tf.Variable`` in, ``tf.Tensor`` out.

Imported only when a TensorFlow tensor arrives.  Everything is TensorFlow
ops, so it runs eagerly, inside ``tf.function`` and under
``jit_compile=True`` (XLA), on the tensor's device:

* values follow the contract: float32 and float64 in their own precision,
  float16 and bfloat16 computed in float32 and rounded once (``tf.cast``
  rounds to nearest even), the input's own bits where ``x > 0``;
* the gradient is a ``tf.custom_gradient`` that uses the mask ``x > 0``
  (the slope at ``x == 0``), and is itself differentiable (second order);
* TensorFlow tensors are immutable, so ``out=`` is refused (see
  ``CAPABILITIES``);
* packed masks (``packed=True``, one bit an element) are packed and
  unpacked by :mod:`leaky._packing` over TensorFlow's own integer and
  bitwise ops (:data:`_BIT_OPS`).

TensorFlow's CPU kernels and XLA flush float32, float64 and bfloat16
subnormals to zero, so there (and only there) results differ from leaky's
NumPy path: a subnormal input gives 0, and even ``x > 0`` is False for it.
"""

from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from .. import _checks
from .. import _contract
from .. import _packing
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "forward", "forward_with_mask", "forward_packed", "backward"]

CAPABILITIES = Capabilities(
    library="TensorFlow", out=False,
    why_not={"out": "TensorFlow tensors are immutable"})


def _promoted(x, slope, what):
    """``x`` as a tensor of its result dtype (bool and integers promote)."""
    if isinstance(x, (tf.RaggedTensor, tf.SparseTensor)):
        raise TypeError(f"leaky_relu got {what} as a {type(x).__name__}: only dense "
                        "TensorFlow tensors are supported")
    if not isinstance(x, tf.Tensor):  # a tf.Variable
        x = tf.convert_to_tensor(x)
    name = _contract.checked_result_name(x.dtype, slope, what)
    if x.dtype.name != name:
        x = tf.cast(x, name)
    return x


def _slope_tensor(slope, compute):
    """The slope as a scalar tensor of the compute dtype.  From a NumPy
    scalar: TensorFlow caches constants made from Python floats by value, and
    -0.0 == 0.0, so ``tf.constant(-0.0)`` can return a cached +0.0."""
    return tf.constant(np.asarray(slope, dtype=compute))


def _select(keep, values, slope):
    """``values if keep else values * slope``, rounded once to the dtype."""
    compute = _contract.compute_dtype_name(values.dtype.name)
    if compute == values.dtype.name:
        return tf.where(keep, values, values * _slope_tensor(slope, compute))
    product = tf.cast(values, compute) * _slope_tensor(slope, compute)
    return tf.where(keep, values, tf.cast(product, values.dtype))


def _gradient(grad, mask, slope):
    """``grad if mask else grad * slope``; linear in ``grad``, so its own
    gradient is the same function (second-order gradients)."""

    @tf.custom_gradient
    def gradient(grad):
        return _select(mask, grad, slope), lambda upstream: _gradient(upstream, mask, slope)

    return gradient(grad)


def _values(x, slope):
    """Leaky ReLU's values.  For float32, TensorFlow's own fused kernel
    computes exactly the contract (a select, the slope cast to float32).
    The other dtypes take the select above: the kernel's ``alpha`` is a
    float32 attribute (too coarse for float64), and it rounds the slope to
    float16 or bfloat16 where the contract computes in float32."""
    if x.dtype == tf.float32:
        return tf.nn.leaky_relu(x, alpha=slope)
    return _select(x > 0, x, slope)


try:  # whether any GradientTape could record this op
    from tensorflow.python.eager.record import could_possibly_record as _taped
except ImportError:  # pragma: no cover - a TensorFlow without it
    def _taped():
        return True


def _leaky(x, slope):
    """Leaky ReLU whose gradient uses the mask, not the input.  Eagerly and
    with no tape recording, the custom gradient (about 200 µs of Python per
    call) has nothing to do and is skipped."""
    if tf.executing_eagerly() and not _taped():
        return _values(x, slope)

    @tf.custom_gradient
    def leaky(x):
        mask = x > 0
        return _values(x, slope), lambda upstream: _gradient(upstream, mask, slope)

    return leaky(x)


def forward(x, slope, out=None):
    return _leaky(_promoted(x, slope, "x"), slope)


def forward_with_mask(x, slope, out=None):
    x = _promoted(x, slope, "x")
    return _leaky(x, slope), x > 0


#: The array-API calls :mod:`leaky._packing` needs, in TensorFlow ops.
_BIT_OPS = SimpleNamespace(
    uint8=tf.uint8,
    astype=tf.cast,
    reshape=tf.reshape,
    concat=lambda arrays, axis: tf.concat(arrays, axis),
    zeros=lambda shape, dtype, device=None: tf.zeros(shape, dtype),
    arange=lambda size, device=None: tf.range(size, dtype=tf.int64),
    take=lambda array, indices, axis: tf.gather(array, indices, axis=axis),
    bitwise_or=tf.bitwise.bitwise_or,
    bitwise_and=lambda a, b: tf.bitwise.bitwise_and(a, tf.cast(b, a.dtype)),
    bitwise_left_shift=lambda a, k: tf.bitwise.left_shift(a, tf.cast(k, a.dtype)),
    bitwise_right_shift=lambda a, k: tf.bitwise.right_shift(a, tf.cast(k, a.dtype)),
)


def forward_packed(x, slope, out=None):
    x = _promoted(x, slope, "x")
    return _leaky(x, slope), _packing.pack(_BIT_OPS, x > 0)


def backward(grad, mask, slope, out=None):
    mask = tf.convert_to_tensor(mask)
    _checks.check_mask(mask, grad.shape)
    if _packing.is_packed(mask):
        mask = _packing.unpack(_BIT_OPS, mask, grad.shape)
    return _gradient(_promoted(grad, slope, "grad_output"), mask, slope)
