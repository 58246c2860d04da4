"""The CUDA kernels of leaky's operators (the dispatcher's CUDA key).

CUDA tensors go to the CuPy kernels (:mod:`leaky._backends.cupy`) through
DLPack, on torch's current stream, or, where CuPy is missing or lacks the
dtype, to the reference path in torch's own ops (:mod:`._aten`), the one
that exporters record and that runs without a compiler.  Every function returns fresh tensors of the contract's dtype and
leaves its inputs alone, except :func:`inplace`.

Checked on the host only (``tests/test_gpu_source.py``) unless a GPU is
lent: ``tests/test_gpu.py`` runs them there.
"""

import math

import torch

from ... import _bias_act as _bias_act_contract
from ... import _checks
from ... import _packing
from . import _aten

__all__ = ["KERNELS"]

_CUPY_DTYPES = frozenset((torch.float16, torch.float32, torch.float64, torch.bool, torch.uint8))


def _cupy_for(*tensors):
    """The CuPy backend if these tensors can use it, else None."""
    if not all(t.dtype in _CUPY_DTYPES for t in tensors):
        return None
    try:
        from .. import cupy
    except ImportError:
        return None
    return cupy


def _on_torch_stream(func, *tensors, **kwargs):
    """Run ``func`` on CuPy views of ``tensors``, on torch's current stream."""
    import cupy
    stream = torch.cuda.current_stream(tensors[0].device)
    with cupy.cuda.Device(tensors[0].device.index), \
            cupy.cuda.ExternalStream(stream.cuda_stream):
        func(*(cupy.from_dlpack(t.detach()) for t in tensors), **kwargs)


def _values(x, slope, what="x"):
    """``x`` in its result dtype (checked), in its own layout: the
    elementwise kernels take any strides; the packed ones ask for C order."""
    dtype = _aten.output_dtype(x, slope, what)
    return x if x.dtype == dtype else x.to(dtype)


def forward(x, slope):
    x = _values(x, slope)
    gpu = _cupy_for(x)
    if gpu is None:
        return _aten.forward(x, slope)
    y = torch.empty_like(x)
    _on_torch_stream(gpu.compute_forward, x, y, slope=slope)
    return y


def forward_with_mask(x, slope):
    x = _values(x, slope)
    gpu = _cupy_for(x)
    if gpu is None:
        return _aten.forward_with_mask(x, slope)
    y, mask = torch.empty_like(x), torch.empty_like(x, dtype=torch.bool)
    _on_torch_stream(gpu.compute_forward_with_mask, x, y, mask, slope=slope)
    return y, mask


def forward_packed(x, slope):
    x = _values(x, slope).contiguous()
    gpu = _cupy_for(x)
    if gpu is None:
        return _aten.forward_packed(x, slope)
    y = torch.empty_like(x)
    bits = torch.empty(_packing.packed_size(x.numel()), dtype=torch.uint8, device=x.device)
    _on_torch_stream(gpu.compute_forward_packed, x, y, bits, slope=slope)
    return y, bits


def backward(grad, mask, slope):
    _checks.check_mask(mask, grad.shape)
    grad = _values(grad, slope, "grad_output")
    gpu = _cupy_for(grad, mask)
    if gpu is None:
        return _aten.backward(grad, mask, slope)
    if mask.dtype is torch.uint8:  # bits are in C order: so is the gradient
        grad, mask = grad.contiguous(), mask.contiguous()
        compute = gpu.compute_backward_packed
    else:
        compute = gpu.compute_backward
    grad_in = torch.empty_like(grad)
    _on_torch_stream(compute, grad, mask, grad_in, slope=slope)
    return grad_in


def inplace(x, slope):
    _aten.check_inplace(x, slope)
    x.copy_(forward(x, slope))


def _bias_act(x, b, dim, act, alpha, gain, clamp, with_bits):
    """y (and its bits) of x made C-contiguous, by the CuPy kernel."""
    x = _values(x, alpha).contiguous()
    gpu = _cupy_for(x) if b is None else _cupy_for(x, b)
    if gpu is None:
        if with_bits:
            return _aten.bias_act_packed(x, b, dim, act, alpha, gain, clamp)
        return _aten.bias_act(x, b, dim, act, alpha, gain, clamp)
    spec = _bias_act_contract.Spec("", act, alpha, gain, clamp)
    inner = math.prod(x.shape[dim + 1:])
    y = torch.empty_like(x)
    bits = torch.empty((spec.planes, _packing.packed_size(x.numel())), dtype=torch.uint8,
                       device=x.device) if with_bits else None

    def run(x, y, *rest):
        bias = rest[-1] if b is not None else None
        gpu.compute_bias_act(x, bias, y, rest[0] if with_bits else None, inner, spec)

    _on_torch_stream(run, x, y, *([bits] if with_bits else []),
                     *([b.contiguous()] if b is not None else []))
    return (y, bits) if with_bits else y


def bias_act(x, b, dim, act, alpha, gain, clamp):
    return _bias_act(x, b, dim, act, alpha, gain, clamp, with_bits=False)


def bias_act_packed(x, b, dim, act, alpha, gain, clamp):
    return _bias_act(x, b, dim, act, alpha, gain, clamp, with_bits=True)


def bias_act_backward(grad, bits, act, alpha, gain, clamp):
    grad = _values(grad, alpha, "grad_output").contiguous()
    gpu = _cupy_for(grad, bits)
    if gpu is None:
        return _aten.bias_act_backward(grad, bits, act, alpha, gain, clamp)
    spec = _bias_act_contract.Spec("", act, alpha, gain, clamp)
    grad_in = torch.empty_like(grad)
    _on_torch_stream(lambda g, b, out: gpu.compute_bias_act_backward(g, b, out, spec),
                     grad, bits.contiguous(), grad_in)
    return grad_in


#: The CUDA kernel of each operator.
KERNELS = {"leaky_relu": forward, "leaky_relu_with_mask": forward_with_mask,
           "leaky_relu_packed": forward_packed, "leaky_relu_backward": backward,
           "leaky_relu_": inplace, "bias_act": bias_act, "bias_act_packed": bias_act_packed,
           "bias_act_backward": bias_act_backward}
