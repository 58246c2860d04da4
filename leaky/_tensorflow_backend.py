"""TensorFlow backend: ``tf.Tensor`` and ``tf.Variable`` in, ``tf.Tensor`` out.

Imported only when a TensorFlow tensor arrives.  Everything is TensorFlow
ops, so it runs eagerly, inside ``tf.function`` and under
``jit_compile=True`` (XLA), on the tensor's device:

* values follow the contract: float32 and float64 in their own precision,
  float16 and bfloat16 computed in float32 and rounded once (``tf.cast``
  rounds to nearest even), the input's own bits where ``x > 0``;
* the gradient is a ``tf.custom_gradient`` that uses the mask ``x > 0``
  (the slope at ``x == 0``), and is itself differentiable (second order);
* TensorFlow tensors are immutable, so ``out=`` is refused;
* packed masks (``packed=True``, one bit an element) are packed and
  unpacked with TensorFlow's own integer and bitwise ops.

TensorFlow's CPU kernels and XLA flush float32, float64 and bfloat16
subnormals to zero, so there (and only there) results differ from leaky's
NumPy path: a subnormal input gives 0, and even ``x > 0`` is False for it.
"""

import numpy as np
import tensorflow as tf

from . import _contract

__all__ = ["forward", "forward_with_mask", "forward_packed", "backward"]


def _refuse_out(out):
    if out is not None:
        raise TypeError("out= is not supported for TensorFlow tensors, which are "
                        "immutable; use the returned tensor instead")


def _as_result_dtype(x, slope, what):
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
    _refuse_out(out)
    return _leaky(_as_result_dtype(x, slope, "x"), slope)


def forward_with_mask(x, slope, out=None):
    _refuse_out(out)
    x = _as_result_dtype(x, slope, "x")
    return _leaky(x, slope), x > 0


def _pack(keep):
    """``keep`` packed 8 to a byte in C order, little bit order."""
    flat = tf.reshape(tf.cast(keep, tf.uint8), [-1])
    flat = tf.pad(flat, [[0, (8 - tf.size(flat) % 8) % 8]])
    weights = tf.constant(_contract.BIT_WEIGHTS, dtype=tf.uint8)
    return tf.reduce_sum(tf.reshape(flat, [-1, 8]) * weights, axis=1)


def _unpack(bits, shape):
    """Packed bits as a bool tensor of ``shape``."""
    weights = tf.constant(_contract.BIT_WEIGHTS, dtype=tf.uint8)
    every = tf.bitwise.bitwise_and(tf.reshape(bits, [-1, 1]), weights) != 0
    return tf.reshape(tf.reshape(every, [-1])[:shape.num_elements()], shape)


def forward_packed(x, slope, out=None):
    _refuse_out(out)
    x = _as_result_dtype(x, slope, "x")
    return _leaky(x, slope), _pack(x > 0)


def backward(grad, mask, slope, out=None):
    _refuse_out(out)
    mask = tf.convert_to_tensor(mask)
    _contract.check_mask(mask, grad.shape)
    if _contract.is_packed(mask):
        mask = _unpack(mask, grad.shape)
    return _gradient(_as_result_dtype(grad, slope, "grad_output"), mask, slope)
