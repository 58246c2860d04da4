r"""The ``torch.autograd.Function``\ s: what ``torch.compile`` traces,
and what runs where the C++ operators cannot be had.

Their forward and backward are the aten decomposition (:mod:`._aten`), so
inductor fuses them with their neighbours as it fuses torch's own
``leaky_relu``, and no leaky kernel is called as an extern.  They make the
backward save what leaky's operators save, the packed bits (one bit an
element), where aten's own derivative of ``where`` would keep a bool mask.

:class:`LeakyReLU` returns ``(y, mask)``, the mask packed if asked, and
saves it; :class:`LeakyReLUInPlace` writes ``y`` into ``x`` and marks it
dirty, so autograd rebases ``x``'s history on it as on torch's own
in-place ops (no ``copy_`` node adds a ``+0`` to a gradient's signed
zeros).  Their derivative, :class:`LeakyReLUGrad`, is linear in the
gradient, so its own derivative is itself (double backward).
:class:`BiasAct` and :class:`BiasActGrad` are the same for bias_act.  Dynamo does
not trace a Function with a custom ``jvp``, so they have none: forward-mode
AD needs the C++ operators (torch says so: "You must implement the jvp
function").
"""

import torch

from ... import _packing
from . import _aten

__all__ = ["BiasAct", "BiasActGrad", "LeakyReLU", "LeakyReLUGrad", "LeakyReLUInPlace"]


class LeakyReLU(torch.autograd.Function):
    """``(y, mask)`` of the decomposition, saving only the mask."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, slope, packed):
        return (_aten.forward_packed if packed else _aten.forward_with_mask)(x, slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        mask = output[1]
        ctx.set_materialize_grads(False)  # no zeros for the mask's gradient
        ctx.mark_non_differentiable(mask)
        ctx.save_for_backward(mask)
        ctx.slope = inputs[1]

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        if grad_y is None:
            return None, None, None
        (mask,) = ctx.saved_tensors
        return LeakyReLUGrad.apply(grad_y, mask, ctx.slope), None, None


class LeakyReLUGrad(torch.autograd.Function):
    """``grad if mask else grad * slope`` (``mask`` bool or packed bits)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, mask, slope):
        return _aten.backward(grad, mask, slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.slope = inputs[2]

    @staticmethod
    def backward(ctx, grad_grad_input):
        (mask,) = ctx.saved_tensors
        return LeakyReLUGrad.apply(grad_grad_input, mask, ctx.slope), None, None


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
        """Each sample packs its own bits, as :class:`LeakyReLUGrad` reads
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
        return LeakyReLUGrad.apply(grad_x, bits, ctx.slope), None


class BiasAct(torch.autograd.Function):
    """bias_act's ``(y, bits)`` of the reference chain, saving only the bits;
    the bias's gradient is x's summed over every other dimension."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, b, dim, act, alpha, gain, clamp):
        return _aten.bias_act_packed(x, b, dim, act, alpha, gain, clamp)

    @staticmethod
    def setup_context(ctx, inputs, output):
        bits = output[1]
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(bits)
        ctx.save_for_backward(bits)
        ctx.dim, ctx.rule, ctx.has_bias = inputs[2], inputs[3:], inputs[1] is not None

    @staticmethod
    def backward(ctx, grad_y, grad_bits):
        if grad_y is None:
            return (None,) * 7
        (bits,) = ctx.saved_tensors
        dx = BiasActGrad.apply(grad_y, bits, *ctx.rule)
        db = dx.sum([k for k in range(dx.dim()) if k != ctx.dim]) if ctx.has_bias else None
        return dx, db, None, None, None, None, None


class BiasActGrad(torch.autograd.Function):
    """bias_act's derivative on its bits, linear in the gradient: its own
    derivative (double backward, R1)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, bits, act, alpha, gain, clamp):
        return _aten.bias_act_backward(grad, bits, act, alpha, gain, clamp)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.rule = inputs[2:]

    @staticmethod
    def backward(ctx, grad_grad):
        (bits,) = ctx.saved_tensors
        return BiasActGrad.apply(grad_grad, bits, *ctx.rule), None, None, None, None, None
