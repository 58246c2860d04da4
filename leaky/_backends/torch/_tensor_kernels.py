"""leaky's kernels on tensors, from Python: what the Python operators
(:mod:`._python_ops`) and the CUDA kernels of either operator library run.

* CPU tensors go zero-copy to the Cython kernels through NumPy views
  (bfloat16 through ``ml_dtypes``, else torch's own op); the kernels' C fast
  paths take plain contiguous arrays, NumPy's ufuncs the rest.
* CUDA tensors go to the CuPy kernels through DLPack, on torch's current
  stream, or to torch's own ops where CuPy is missing.

Every function returns fresh tensors of the contract's dtype and leaves
its inputs alone, except :func:`inplace`.  The slope is already checked.
"""

import numpy as np
import torch

from ... import _checks
from ... import _contract
from ... import _packing
from ... import ufuncs
from ..._cpu import kernels as _kernels
from . import _aten

__all__ = ["backward", "check_inplace", "forward", "forward_packed", "forward_with_mask",
           "inplace", "output_dtype"]

_NUMPY_DTYPES = {torch.float16: np.float16, torch.float32: np.float32,
                 torch.float64: np.float64, torch.bool: np.bool_, torch.uint8: np.uint8}
_FLOAT_DTYPES = frozenset((torch.float16, torch.float32, torch.float64))


def output_dtype(t, slope=0.0, what="x"):
    """Floats keep their dtype; bool and integers promote as ``torch.sin``
    does (to torch's default float).  Checks the slope first (finite, as
    every public function does), then that it fits the result's precision:
    operators called directly get the same errors as the public API."""
    slope = _contract.validate_slope(slope)
    default = _contract.dtype_name(torch.get_default_dtype())
    return getattr(torch, _contract.checked_result_name(t.dtype, slope, what, default))


def _numpy_view(t):
    """A NumPy view of a CPU tensor of a kernel dtype (or bool/uint8), or None."""
    t = t.detach()
    if t.is_neg():
        t = t.resolve_neg()
    if t.dtype is torch.bfloat16:
        bf16 = _contract.numpy_bfloat16()
        return None if bf16 is None else t.view(torch.int16).numpy().view(bf16)
    return t.numpy() if t.dtype in _NUMPY_DTYPES else None


def _tensor(a):
    """A tensor sharing a NumPy array's memory (ml_dtypes' bfloat16 by its bits)."""
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def _cupy_backend_for(*tensors):
    """The CuPy backend if these CUDA tensors can use it, else None."""
    if not all(t.is_cuda and t.dtype in _FLOAT_DTYPES | {torch.bool, torch.uint8}
               for t in tensors):
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
    """``x`` in its result dtype, without autograd history."""
    dtype = output_dtype(x, slope, what)
    x = x.detach()
    return x if x.dtype == dtype else x.to(dtype)


def forward(x, slope):
    """``x if x > 0 else slope * x``."""
    x = _values(x, slope)
    if x.is_cpu:
        source = _numpy_view(x)
        if source is not None:
            y = _kernels.forward_fast(source, slope, None)
            return _tensor(ufuncs.leaky_relu(source, slope) if y is None else y)
    gpu = _cupy_backend_for(x)
    if gpu is not None:
        y = torch.empty_like(x)
        _on_torch_stream(gpu.compute_forward, x, y, slope=slope)
        return y
    return _torch_forward(x, slope)


def forward_with_mask(x, slope):
    """``(y, x > 0)``."""
    x = _values(x, slope)
    if x.is_cpu:
        source = _numpy_view(x)
        if source is not None:
            pair = _kernels.forward_mask_fast(source, slope)
            if pair is None:
                pair = ufuncs.leaky_relu_with_mask(source, slope)
            return _tensor(np.asarray(pair[0])), _tensor(np.asarray(pair[1]))
    gpu = _cupy_backend_for(x)
    if gpu is not None:
        y, mask = torch.empty_like(x), torch.empty_like(x, dtype=torch.bool)
        _on_torch_stream(gpu.compute_forward_with_mask, x, y, mask, slope=slope)
        return y, mask
    return _torch_forward(x, slope), x > 0


def _torch_forward(x, slope):
    """torch's own op, which computes the contract (half types in float32)."""
    return torch.nn.functional.leaky_relu(x, slope)


def forward_packed(x, slope):
    """``(y, bits)``: ``x > 0`` packed 8 to a byte, in C order."""
    x = _values(x, slope)
    if x.is_cpu:
        source = _numpy_view(x)
        if source is not None and source.flags.c_contiguous:
            pair = _kernels.forward_bits_fast(source, slope, None, None)
            if pair is not None:
                return _tensor(pair[0]), _tensor(pair[1])
    gpu = _cupy_backend_for(x)
    if gpu is not None:
        x = x.contiguous()
        y = torch.empty_like(x)
        bits = torch.empty(_packing.packed_size(x.numel()), dtype=torch.uint8, device=x.device)
        _on_torch_stream(gpu.compute_forward_packed, x, y, bits, slope=slope)
        return y, bits
    y, mask = forward_with_mask(x, slope)
    return y, _packing.pack(_aten.BIT_OPS, mask, mask.device)


def backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool, or packed bits."""
    _checks.check_mask(mask, grad.shape)
    grad = _values(grad, slope, "grad_output")
    if mask.dtype is torch.uint8:
        gpu = _cupy_backend_for(grad, mask)
        if gpu is not None:
            grad_in = torch.empty(grad.shape, dtype=grad.dtype, device=grad.device)
            _on_torch_stream(gpu.compute_backward_packed, grad.contiguous(), mask.contiguous(),
                             grad_in, slope=slope)
            return grad_in
        if grad.is_cpu and grad.is_contiguous():
            source, bits = _numpy_view(grad), _numpy_view(mask.contiguous())
            if source is not None:
                grad_in = _kernels.backward_bits_fast(source, bits.reshape(-1), slope, None)
                if grad_in is not None:
                    return _tensor(grad_in)
        mask = _packing.unpack(_aten.BIT_OPS, mask, grad.shape, mask.device)
    if grad.is_cpu:
        source, keep = _numpy_view(grad), _numpy_view(mask)
        if source is not None:
            grad_in = _kernels.backward_fast(source, keep, slope)
            if grad_in is None:
                grad_in = ufuncs.leaky_relu_backward(source, keep, slope)
            return _tensor(np.asarray(grad_in))
    gpu = _cupy_backend_for(grad, mask)
    if gpu is not None:
        grad_in = torch.empty_like(grad)
        _on_torch_stream(gpu.compute_backward, grad, mask, grad_in, slope=slope)
        return grad_in
    # aten's backward keeps grad where its second operand is > 0: the mask.
    return torch.ops.aten.leaky_relu_backward(grad, mask.to(grad.dtype), slope, False)


def check_inplace(x, slope):
    """In place needs ``x`` to hold its own result: a floating tensor."""
    dtype = output_dtype(x, slope)
    if dtype != x.dtype:
        raise TypeError(f"leaky_relu in place needs a floating tensor, got {x.dtype}: "
                        f"the result is {dtype}")


def inplace(x, slope):
    """Leaky ReLU written into ``x`` (no autograd, no version bump here)."""
    check_inplace(x, slope)
    if x.is_cpu and x.dtype in _FLOAT_DTYPES and not x.is_neg() \
            and not torch._C._is_cow_tensor(x):
        view = _numpy_view(x)
        if _kernels.forward_fast(view, slope, view) is not None:
            return
    x.copy_(forward(x, slope))
