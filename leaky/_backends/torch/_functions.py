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
Function with a custom ``jvp``, so they have none: forward-mode AD needs
the C++ operators (torch says so: "You must implement the jvp function").
"""

import torch

from ... import _packing
from . import _aten

__all__ = ["BiasAct", "BiasActGrad", "LeakyReLUInPlace"]


class BiasAct(torch.autograd.Function):
    """bias_act's ``(y, mask)`` of the reference chain, saving only the mask:
    its bits, or (``packed`` False, no clamp) the bool mask of the
    activation; the bias's gradient is x's summed over every other dim."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, b, dim, act, alpha, gain, clamp, packed):
        run = _aten.bias_act_packed if packed else _aten.bias_act_parts
        return run(x, b, dim, act, alpha, gain, clamp)[:2]

    @staticmethod
    def setup_context(ctx, inputs, output):
        mask = output[1]
        ctx.set_materialize_grads(False)  # no zeros for the mask's gradient
        ctx.mark_non_differentiable(mask)
        ctx.save_for_backward(mask)
        ctx.dim, ctx.rule, ctx.has_bias = inputs[2], inputs[3:7], inputs[1] is not None

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        if grad_y is None:
            return (None,) * 8
        (mask,) = ctx.saved_tensors
        dx = BiasActGrad.apply(grad_y, mask, *ctx.rule)
        db = dx.sum([k for k in range(dx.dim()) if k != ctx.dim]) if ctx.has_bias else None
        return (dx, db) + (None,) * 6


class BiasActGrad(torch.autograd.Function):
    """bias_act's derivative on its mask, linear in the gradient: its own
    derivative (double backward, R1)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, mask, act, alpha, gain, clamp):
        return _aten.bias_act_backward(grad, mask, act, alpha, gain, clamp)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.rule = inputs[2:]

    @staticmethod
    def backward(ctx, grad_grad):
        (mask,) = ctx.saved_tensors
        return (BiasActGrad.apply(grad_grad, mask, *ctx.rule),) + (None,) * 5


class LeakyReLUInPlace(torch.autograd.Function):
    """``x`` overwritten with leaky ReLU; returns ``(x, bits)`` and saves the
    bits of ``x > 0`` taken before the overwrite, so any slope works."""

    @staticmethod
    def forward(x, slope):
        y, bits = _aten.forward_packed(x, slope)
        x.copy_(y)
        return x, bits

    @staticmethod
    def setup_context(ctx, inputs, output):
        bits = output[1]
        ctx.mark_dirty(inputs[0])
        ctx.mark_non_differentiable(bits)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(bits)
        ctx.slope = inputs[1]

    @staticmethod
    def vmap(info, in_dims, x, slope):
        """Each sample packs its own bits, as :class:`BiasActGrad` reads
        them per sample (torch's generated rule cannot write in place)."""
        samples = x.movedim(in_dims[0], 0)
        y, mask = _aten.forward_with_mask(samples, slope)
        samples.copy_(y)
        rows = mask.reshape(samples.shape[0], -1)
        return (x, _packing.pack_rows(_aten.BIT_OPS, rows, rows.device)), (in_dims[0], 0)

    @staticmethod
    def backward(ctx, grad_x, grad_bits):
        if grad_x is None:
            return None, None
        (bits,) = ctx.saved_tensors
        return BiasActGrad.apply(grad_x, bits, *_aten.leaky(ctx.slope)), None
