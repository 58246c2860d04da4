"""leaky's operators written in aten ops: the decomposition, and the
contract's checks of a tensor.

torch.compile runs these (through :mod:`._functions`), so inductor fuses
them with their neighbours as it fuses torch's own ``leaky_relu``;
exporters record them, and ``torch.onnx`` and
``ExportedProgram.run_decompositions`` use them as the operators'
decompositions; without the C++ operators they are what runs.  The math is
torch's reference for ``F.leaky_relu`` (``torch._refs``), a select, with
float16/bfloat16 computed in float32 and rounded once.  Packed bits are
laid out by :mod:`leaky._packing`.
"""

from types import SimpleNamespace

import torch

from ... import _bias_act as _bias_act_contract
from ... import _contract
from ... import _packing

__all__ = ["BIT_OPS", "backward", "bias_act", "bias_act_backward", "bias_act_grad",
           "bias_act_packed", "bias_act_parts", "check_bias_act", "check_inplace", "check_tensor",
           "forward", "forward_packed", "forward_with_mask", "leaky", "output_dtype"]

_HALF = (torch.float16, torch.bfloat16)


def check_tensor(x, what="x"):
    """Refuse, naming it, a tensor no kernel of leaky's serves."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_nested:
        raise TypeError(f"leaky_relu got a nested tensor as {what}: only dense tensors "
                        "are supported")
    if x.layout is not torch.strided:
        raise TypeError(f"leaky_relu got {what} with layout {x.layout}: only dense "
                        "(torch.strided) tensors are supported")
    if x.is_quantized:
        raise TypeError(f"leaky_relu got {what} with quantized dtype {x.dtype}: "
                        "dequantize it first")


def output_dtype(t, slope=0.0, what="x"):
    """The contract's result dtype for ``t``: floats keep theirs, bool and
    integers promote as ``torch.sin`` does (to torch's default float).
    Checks the slope first (finite), then that it fits the result's
    precision, in the order every public function checks them."""
    slope = _contract.validate_slope(slope)
    default = _contract.dtype_name(torch.get_default_dtype())
    return getattr(torch, _contract.checked_result_name(t.dtype, slope, what, default))


def check_inplace(x, slope):
    """In place needs ``x`` to hold its own result: a floating tensor."""
    dtype = output_dtype(x, slope)
    if dtype != x.dtype:
        raise TypeError(f"leaky_relu in place needs a floating tensor, got {x.dtype}: "
                        f"the result is {dtype}")


def check_bias_act(x, b, dim, spec):
    """bias_act's checks of its tensors (the contract: leaky._bias_act);
    returns ``dim`` as an index."""
    check_tensor(x)
    dim = _bias_act_contract.check_dim(x.dim(), dim)
    dtype = output_dtype(x, spec.alpha)
    _bias_act_contract.check_fits(spec, _contract.dtype_name(dtype))
    if b is not None:
        check_tensor(b, "b")
        _bias_act_contract.check_bias(x.shape, dtype, b.shape, b.dtype, dim)
        if b.device != x.device:
            raise TypeError(f"b is on {b.device} but x is on {x.device}: they must be on "
                            "the same device")
    return dim


def _result(x):
    """``x`` in its result dtype: bool and integers as ``torch.sin`` promotes."""
    if x.dtype.is_floating_point:
        return x
    return x.to(torch.get_default_dtype())


#: The array-API calls :mod:`leaky._packing` needs, in aten ops, all of
#: which inductor fuses and vectorizes (shifts and ORs, a sum over 8, a gather).
BIT_OPS = SimpleNamespace(
    uint8=torch.uint8, astype=torch.Tensor.to, reshape=torch.reshape, concat=torch.cat,
    zeros=torch.zeros, arange=torch.arange,
    sum=lambda x, axis, dtype: torch.sum(x, dim=axis, dtype=dtype),
    take=lambda x, indices, axis: torch.index_select(x, axis, indices), bitwise_or=torch.bitwise_or,
    bitwise_and=torch.bitwise_and, bitwise_left_shift=torch.bitwise_left_shift,
    bitwise_right_shift=torch.bitwise_right_shift, moveaxis=torch.movedim)


# ---------------------------------------------------------------- bias_act --
# StyleGAN's reference chain (x + b, the activation, * gain, clamp), each
# step in the compute precision and rounded once at the end, as leaky's
# kernels (src/leaky_bias_act.h) and StyleGAN's CUDA kernel compute it; the
# act codes are the kernels' (leaky._bias_act.ACTIVATIONS).
_LINEAR, _RELU, _LRELU = 0, 1, 2


def bias_act_parts(x, b, dim, act, alpha, gain, clamp):
    """``(y, pos, inside)``: the result and the two bit planes' masks
    (``inside`` None without a clamp)."""
    x = _result(x)
    v = x.to(torch.float32) if x.dtype in _HALF else x
    if b is not None:
        v = v + b.to(v.dtype).reshape([-1 if k == dim else 1 for k in range(v.dim())])
    if act == _LRELU:
        pos = v > 0
        v = torch.where(pos, v, v * alpha)
    elif act == _RELU:
        v = torch.relu(v)
        pos = ~(v <= 0)  # what relu's backward reads
    else:
        pos = torch.ones_like(v, dtype=torch.bool)
    if gain != 1:
        v = v * gain
    inside = None
    if clamp >= 0:
        inside = (v >= -clamp) & (v <= clamp)
        v = v.clamp(-clamp, clamp)
    return v.to(x.dtype), pos, inside


def bias_act(x, b, dim, act, alpha, gain, clamp):
    return bias_act_parts(x, b, dim, act, alpha, gain, clamp)[0]


def bias_act_packed(x, b, dim, act, alpha, gain, clamp, internal=False):
    """The result and its bits: uint8, the planes (the activation's, then
    the clamp's) one after another, in C order, or (``internal``: bits no
    caller sees) in :func:`leaky._packing.pack_internal`'s layout."""
    y, pos, inside = bias_act_parts(x, b, dim, act, alpha, gain, clamp)
    pack = _packing.pack_internal if internal else _packing.pack
    bits = [pack(BIT_OPS, p, p.device) for p in ([pos] if inside is None else [pos, inside])]
    return y, bits[0] if len(bits) == 1 else torch.cat(bits)


def bias_act_grad(grad, pos, inside, act, alpha, gain):
    """The chain's backward on the masks (``inside`` None: no clamp): the
    clamp's, ``* gain``, then the activation's (``src/leaky_bias_act.h``
    says why in this order); in the compute precision, rounded once."""
    grad = _result(grad)
    v = grad.to(torch.float32) if grad.dtype in _HALF else grad
    if inside is not None:
        v = torch.where(inside, v, torch.zeros_like(v))
    if gain != 1:
        v = v * gain
    v = torch.where(pos, v, v * alpha if act == _LRELU else torch.zeros_like(v))
    return v.to(grad.dtype)


def bias_act_backward(grad, mask, act, alpha, gain, clamp, internal=False):
    """:func:`bias_act_grad` on the forward's bits (``internal``: in
    :func:`leaky._packing.pack_internal`'s layout), or on its bool mask
    (``pos``, without a clamp)."""
    if mask.dtype == torch.bool:
        return bias_act_grad(grad, mask, None, act, alpha, gain)
    unpack = _packing.unpack_internal if internal else _packing.unpack
    planes = [unpack(BIT_OPS, p, grad.shape, grad.device)
              for p in mask.reshape(2 if clamp >= 0 else 1, -1)]
    return bias_act_grad(grad, planes[0], planes[1] if clamp >= 0 else None, act, alpha, gain)


# -------------------------------------------------------------- leaky_relu --
# bias_act's plain case: lrelu with the slope, no bias, gain 1, no clamp.

def leaky(slope):
    """bias_act's ``(act, alpha, gain, clamp)`` that leaky_relu is."""
    return _LRELU, slope, 1.0, -1.0


def forward(x, slope):
    return bias_act(x, None, 0, *leaky(slope))


def forward_with_mask(x, slope):
    return bias_act_parts(x, None, 0, *leaky(slope))[:2]


def forward_packed(x, slope):
    return bias_act_packed(x, None, 0, *leaky(slope))


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    return bias_act_backward(grad, mask, *leaky(slope))
