r"""The ``torch.autograd.Function``\ s: what ``torch.compile`` traces,
and what runs where the C++ operators cannot be had.

Their forward and backward are the aten decomposition (:mod:`._aten`), so
inductor fuses them with their neighbours as it fuses torch's own
``leaky_relu``; they save what leaky's operators save, the packed bits.
:class:`BiasAct` returns and saves bias_act's ``(y, mask)`` (leaky_relu is
its plain case, :func:`._aten.leaky`); :class:`LeakyReLUInPlace` writes
``y`` into ``x`` and marks it dirty, so autograd rebases ``x``'s history
on it as on torch's own in-place ops (no ``copy_`` node adds a ``+0`` to a
gradient's signed zeros).  Their derivative, :class:`BiasActGrad`, is
linear in the gradient: its own derivative.  Dynamo does not trace a
Function with a custom ``jvp``, so forward-mode AD needs the C++ operators.
"""

import torch

from ... import _packing
from . import _aten

__all__ = ["BiasAct", "BiasActGrad", "LeakyReLUInPlace"]


class BiasAct(torch.autograd.Function):
    """bias_act's ``(y, mask)`` of the reference chain, saving only the mask
    (``mask`` "bool": the activation's, without a clamp; "packed": bits
    in C order; "internal": bits in the graph's own layout); the bias's
    gradient is x's summed over every other dim."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, b, dim, act, alpha, gain, clamp, mask):
        if mask == "bool":
            return _aten.bias_act_parts(x, b, dim, act, alpha, gain, clamp)[:2]
        return _aten.bias_act_packed(x, b, dim, act, alpha, gain, clamp, mask == "internal")

    @staticmethod
    def setup_context(ctx, inputs, output):
        mask = output[1]
        ctx.set_materialize_grads(False)  # no zeros for the mask's gradient
        ctx.mark_non_differentiable(mask)
        ctx.save_for_backward(mask)
        ctx.dim, ctx.has_bias = inputs[2], inputs[1] is not None
        ctx.rule = (*inputs[3:7], inputs[7] == "internal")

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        if grad_y is None:
            return (None,) * 8
        (mask,) = ctx.saved_tensors
        dx = BiasActGrad.apply(grad_y, mask, *ctx.rule)
        db = dx.sum([k for k in range(dx.dim()) if k != ctx.dim]) if ctx.has_bias else None
        return (dx, db) + (None,) * 6


class BiasActGrad(torch.autograd.Function):
    """bias_act's derivative on its mask (bits in the graph's own layout if
    ``internal``), linear in the gradient: its own derivative (double
    backward, R1)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, mask, act, alpha, gain, clamp, internal):
        return _aten.bias_act_backward(grad, mask, act, alpha, gain, clamp, internal)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.rule = inputs[2:]

    @staticmethod
    def backward(ctx, grad_grad):
        (mask,) = ctx.saved_tensors
        return (BiasActGrad.apply(grad_grad, mask, *ctx.rule),) + (None,) * 6


class LeakyReLUInPlace(torch.autograd.Function):
    """``x`` overwritten with leaky ReLU; returns ``(x, bits)``.  With a
    slope >= 0, ``y > 0`` exactly where ``x > 0``: the result is saved, as
    torch's ``leaky_relu_`` saves it (the next layer keeps it anyway), and
    the bits are empty.  Else the bits of ``x > 0`` before the overwrite."""

    @staticmethod
    def forward(x, slope):
        if slope >= 0:  # the result is the mask
            x.copy_(_aten.forward(x, slope))
            return x, x.new_empty(0, dtype=torch.uint8)
        y, bits = _aten.forward_packed(x, slope)
        x.copy_(y)
        return x, bits

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.mark_dirty(inputs[0])
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(output[1] if inputs[1] < 0 else output[0])
        ctx.slope = inputs[1]

    @staticmethod
    def vmap(info, in_dims, x, slope):
        """Bits packed per sample, as :class:`BiasActGrad` reads them
        (torch's generated rule cannot write in place)."""
        samples = x.movedim(in_dims[0], 0)
        y, mask = _aten.forward_with_mask(samples, slope)
        samples.copy_(y)
        rows = mask.reshape(samples.shape[0], -1)
        return (x, _packing.pack_rows(_aten.BIT_OPS, rows, rows.device)), (in_dims[0], 0)

    @staticmethod
    def backward(ctx, grad_x, grad_bits):
        if grad_x is None:
            return None, None
        (saved,) = ctx.saved_tensors
        mask = saved if ctx.slope < 0 else saved > 0
        return BiasActGrad.apply(grad_x, mask, *_aten.leaky(ctx.slope), False), None
