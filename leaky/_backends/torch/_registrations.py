"""What the C++ operators get from Python: fake kernels (FakeTensor, meta,
``torch.compile``, ``torch.export``), vmap rules, decompositions (what
exporters such as ``torch.onnx`` turn a ``torch.ops.leaky`` call into),
and the CUDA kernels (:mod:`._cuda`); the C++ library names this module
(``set_python_module``).
"""

import functools

import torch
from torch._decomp import register_decomposition

from ... import _checks
from ... import _packing
from . import _aten
from . import _cuda

__all__ = ["register"]

@functools.cache
def register():
    """Register everything (once)."""
    for name, fake in _FAKES.items():
        torch.library.register_fake(f"leaky::{name}", fake)
    for name, rule in _VMAP_RULES.items():
        torch.library.register_vmap(f"leaky::{name}", rule)
    for name, decomposition in _DECOMPOSITIONS.items():
        register_decomposition(getattr(torch.ops.leaky, name).default)(decomposition)
    for name, kernel in _cuda.KERNELS.items():
        torch.library.register_kernel(f"leaky::{name}", "cuda", kernel)


# ------------------------------------------------------------------ fakes --

def _fake_backward(grad_output, mask, negative_slope):
    _checks.check_mask(mask, grad_output.shape)
    return _fake_bias_act_backward(grad_output, mask, *_aten.leaky(negative_slope))


def _fake_inplace(x, negative_slope):
    _aten.check_inplace(x, negative_slope)


def _fake_bias_act(x, b, dim, act, alpha, gain, clamp):
    return torch.empty_like(x, dtype=_aten.output_dtype(x, alpha))


def _fake_bias_act_packed(x, b, dim, act, alpha, gain, clamp):
    size = (2 if clamp >= 0 else 1) * _packing.packed_size(x.numel())
    return _fake_bias_act(x, b, dim, act, alpha, gain, clamp), x.new_empty(size, dtype=torch.uint8)


def _fake_bias_act_backward(grad_output, bits, act, alpha, gain, clamp):
    return torch.empty_like(grad_output, dtype=_aten.output_dtype(grad_output, alpha,
                                                                  "grad_output"))


_FAKES = {"leaky_relu_backward": _fake_backward, "leaky_relu_": _fake_inplace,
          "bias_act": _fake_bias_act, "bias_act_packed": _fake_bias_act_packed,
          "bias_act_backward": _fake_bias_act_backward}


# ------------------------------------------------------------------- vmap --

def _batch_first(t, dim, size):
    """``t`` with its vmap batch dimension first (broadcast if it has none)."""
    return t.movedim(dim, 0) if dim is not None else t.expand(size, *t.shape)


def _vmap_backward(info, in_dims, grad_output, mask, negative_slope):
    return _vmap_bias_act_backward(info, in_dims, grad_output, mask, *_aten.leaky(negative_slope))


def _vmap_inplace(info, in_dims, x, negative_slope):
    """Elementwise: in place on the batched tensor as it lies."""
    torch.ops.leaky.leaky_relu_(x, negative_slope)
    return None, None


def _batched_bias_act_input(info, in_dims, x, b, dim):
    """``(x, b, dtype)``: x batch first; a bias per sample added to it in the
    compute precision (the chain's first step), the result to be rounded
    to ``dtype`` (None: as the operator returns it)."""
    x = _batch_first(x, in_dims[0], info.batch_size)
    if b is None or in_dims[1] is None:
        return x, b, None
    dtype = _aten.output_dtype(x, 0.0)
    compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    shape = [info.batch_size] + [-1 if k == dim else 1 for k in range(x.dim() - 1)]
    return x.to(compute) + b.movedim(in_dims[1], 0).to(compute).reshape(shape), None, dtype


def _vmap_bias_act(info, in_dims, x, b, dim, act, alpha, gain, clamp):
    x, b, dtype = _batched_bias_act_input(info, in_dims, x, b, dim)
    y = torch.ops.leaky.bias_act(x, b, dim + 1, act, alpha, gain, clamp)
    return (y if dtype is None else y.to(dtype)), 0


def _vmap_bias_act_packed(info, in_dims, x, b, dim, act, alpha, gain, clamp):
    """Each sample packs its own bits: ``(batch, planes * ceil(sample size / 8))``."""
    x, b, dtype = _batched_bias_act_input(info, in_dims, x, b, dim)
    y, pos, inside = _aten.bias_act_parts(x, b, dim + 1, act, alpha, gain, clamp)
    masks = torch.stack([pos] if inside is None else [pos, inside], 1)
    rows = masks.reshape(masks.shape[0] * masks.shape[1], -1)
    bits = _packing.pack_rows(_aten.BIT_OPS, rows, rows.device)
    return (y if dtype is None else y.to(dtype), bits.reshape(masks.shape[0], -1)), (0, 0)


def _vmap_bias_act_backward(info, in_dims, grad, mask, act, alpha, gain, clamp):
    """Packed bits are each sample's own (as :func:`_vmap_bias_act_packed`
    makes them); unbatched bits or bool masks serve every sample."""
    grad = _batch_first(grad, in_dims[0], info.batch_size)
    if mask.dtype is torch.bool:
        mask = _batch_first(mask, in_dims[1], info.batch_size)
        return _aten.bias_act_grad(grad, mask, None, act, alpha, gain), 0
    planes = 2 if clamp >= 0 else 1
    bits = (mask.reshape(1, planes, -1).expand(info.batch_size, planes, -1)
            if in_dims[1] is None else mask.movedim(in_dims[1], 0))
    masks = _packing.unpack_rows(_aten.BIT_OPS, bits.reshape(info.batch_size * planes, -1),
                                 grad[0].numel(), bits.device)
    masks = masks.reshape(info.batch_size, planes, *grad.shape[1:])
    inside = masks[:, 1] if planes == 2 else None
    return _aten.bias_act_grad(grad, masks[:, 0], inside, act, alpha, gain), 0


_VMAP_RULES = {"leaky_relu_backward": _vmap_backward, "leaky_relu_": _vmap_inplace,
               "bias_act": _vmap_bias_act, "bias_act_packed": _vmap_bias_act_packed,
               "bias_act_backward": _vmap_bias_act_backward}


# --------------------------------------------------------- decompositions --

_DECOMPOSITIONS = {"leaky_relu_backward": _aten.backward,
                   "bias_act": _aten.bias_act, "bias_act_packed": _aten.bias_act_packed,
                   "bias_act_backward": _aten.bias_act_backward}
