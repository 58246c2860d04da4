"""The CUDA kernels of leaky's operators (the dispatcher's CUDA key).

CUDA tensors go to the CuPy kernels (:mod:`leaky._backends.cupy`) through
DLPack, on torch's current stream, or, where CuPy is missing or lacks the
dtype, to the reference path in torch's own ops (:mod:`._aten`).  Every
function returns fresh tensors of the contract's dtype and leaves its
inputs alone, except :func:`inplace`.  ``tests/test_gpu.py`` runs them on
a GPU, ``tests/test_gpu_source.py`` checks them on the host.
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
    """The CuPy backend if these tensors (None: none) can use it, else None."""
    if not all(t is None or t.dtype in _CUPY_DTYPES for t in tensors):
        return None
    try:
        from .. import cupy
    except ImportError:
        return None
    return cupy


def _on_torch_stream(func, *tensors, **kwargs):
    """Run ``func`` on CuPy views of ``tensors`` (None stays None), on
    torch's current stream."""
    import cupy
    stream = torch.cuda.current_stream(tensors[0].device)
    with cupy.cuda.Device(tensors[0].device.index), \
            cupy.cuda.ExternalStream(stream.cuda_stream):
        func(*(t if t is None else cupy.from_dlpack(t.detach()) for t in tensors), **kwargs)


def _values(x, slope, what="x"):
    """``x`` in its result dtype (checked), in its own layout: the
    elementwise kernels take any strides; the packed ones ask for C order."""
    dtype = _aten.output_dtype(x, slope, what)
    return x if x.dtype == dtype else x.to(dtype)


def backward(grad, mask, slope):
    _checks.check_mask(mask, grad.shape)
    if mask.dtype is torch.uint8:
        return bias_act_backward(grad, mask, *_aten.leaky(slope))
    grad = _values(grad, slope, "grad_output")
    gpu = _cupy_for(grad, mask)
    if gpu is None:
        return _aten.backward(grad, mask, slope)
    grad_in = torch.empty_like(grad)
    _on_torch_stream(gpu.compute_backward, grad, mask, grad_in, slope=slope)
    return grad_in


def inplace(x, slope):
    _aten.check_inplace(x, slope)
    x.copy_(bias_act(x, None, 0, *_aten.leaky(slope)))


def bias_act_packed(x, b, dim, act, alpha, gain, clamp, with_bits=True):
    """y (and its bits, unless not ``with_bits``): the fused kernel reads x
    in C order; leaky ReLU itself (no bits) takes it as it lies."""
    spec = _bias_act_contract.Spec("", act, alpha, gain, clamp)
    x = _values(x, alpha)
    if with_bits or b is not None or not spec.leaky_relu:
        x = x.contiguous()
    gpu = _cupy_for(x, b)
    if gpu is None:
        run = _aten.bias_act_packed if with_bits else _aten.bias_act
        return run(x, b, dim, act, alpha, gain, clamp)
    y = torch.empty_like(x)
    bits = torch.empty((spec.planes * _packing.packed_size(x.numel()),), dtype=torch.uint8,
                       device=x.device) if with_bits else None
    _on_torch_stream(gpu.compute_bias_act, x, None if b is None else b.contiguous(), y, bits,
                     inner=math.prod(x.shape[dim + 1:]), spec=spec)
    return (y, bits) if with_bits else y


def bias_act(x, b, dim, act, alpha, gain, clamp):
    return bias_act_packed(x, b, dim, act, alpha, gain, clamp, with_bits=False)


def bias_act_backward(grad, bits, act, alpha, gain, clamp):
    grad = _values(grad, alpha, "grad_output").contiguous()
    gpu = _cupy_for(grad, bits)
    if gpu is None:
        return _aten.bias_act_backward(grad, bits, act, alpha, gain, clamp)
    grad_in = torch.empty_like(grad)
    _on_torch_stream(gpu.compute_bias_act_backward, grad, bits.contiguous(), grad_in,
                     spec=_bias_act_contract.Spec("", act, alpha, gain, clamp))
    return grad_in


#: The CUDA kernel of each operator.
KERNELS = {"leaky_relu_backward": backward, "leaky_relu_": inplace,
           "bias_act": bias_act, "bias_act_packed": bias_act_packed,
           "bias_act_backward": bias_act_backward}
