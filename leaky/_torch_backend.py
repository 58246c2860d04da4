"""PyTorch backend.

* CPU tensors of a dtype NumPy has go zero-copy to the Cython kernels
  (``Tensor.numpy()`` shares memory, whatever the strides) and come back
  zero-copy: the result is allocated by NumPy and wrapped by
  ``torch.from_numpy``.
* CUDA tensors of float16/32/64 go zero-copy through DLPack to the CuPy
  kernels when CuPy is installed, on torch's current stream.
* Other tensors (bfloat16, CUDA without CuPy, ...) use torch's own kernels,
  which have the same semantics (``F.leaky_relu``;
  ``aten.leaky_relu_backward`` driven by the mask).
* Tensors that require grad go through :class:`LeakyReLUFunction`, whose
  forward saves only the bool mask and whose backward is
  :func:`leaky.leaky_relu_backward` (itself differentiable, so double
  backward works).
"""

import numpy as np
import torch

from . import _contract
from . import ufuncs
from ._cpu import kernels as _kernels

__all__ = ["forward", "forward_with_mask", "backward", "LeakyReLUFunction"]

_NUMPY_DTYPES = {torch.float16, torch.float32, torch.float64, torch.bool,
                 torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64}


def _result_dtype(t, slope, what="x"):
    return getattr(torch, _contract.checked_result_name(t.dtype, slope, what))


def _on_kernels(*tensors):
    """Dense CPU tensors of a dtype NumPy has: zero-copy to the kernels."""
    return all(t.is_cpu and t.dtype in _NUMPY_DTYPES and not t.is_sparse for t in tensors)


_NUMPY_DTYPE_OF = {torch.float16: np.float16, torch.float32: np.float32,
                   torch.float64: np.float64, torch.bool: np.bool_}


def _new_output(like, dtype):
    """A new tensor laid out like ``like``.  On the CPU NumPy allocates it
    (``torch.from_numpy`` shares the memory): NumPy's allocator asks the
    kernel for huge pages on large arrays, which saves page faults."""
    if dtype in _NUMPY_DTYPE_OF and _on_kernels(like):
        return torch.from_numpy(np.empty_like(_as_numpy(like), dtype=_NUMPY_DTYPE_OF[dtype]))
    return torch.empty_like(like, dtype=dtype)


def _output(out, like, dtype, name):
    if out is None:
        return _new_output(like, dtype)
    _contract.check_out(out, like.shape, dtype, name, torch.Tensor)
    if out.requires_grad and torch.is_grad_enabled():
        raise ValueError(f"{name} requires grad: out= does not support autograd, as in torch")
    return out


def _records_grad(*tensors):
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


_CUDA_DTYPES = frozenset(_NUMPY_DTYPE_OF)  # the dtypes the CuPy kernels take


def _cupy_backend_for(*tensors):
    """The CuPy backend if these CUDA tensors can use it, else None."""
    if not all(t.is_cuda and t.dtype in _CUDA_DTYPES for t in tensors):
        return None
    try:
        from . import _cupy_backend
    except ImportError:
        return None
    return _cupy_backend


def _on_torch_stream(func, *tensors, **kwargs):
    """Run ``func`` on CuPy views of ``tensors``, on torch's current stream."""
    import cupy
    stream = torch.cuda.current_stream(tensors[0].device)
    with cupy.cuda.Device(tensors[0].device.index), \
            cupy.cuda.ExternalStream(stream.cuda_stream):
        func(*(cupy.from_dlpack(t.detach()) for t in tensors), **kwargs)


def _as_numpy(t):
    """A NumPy view of a CPU tensor's memory (no copy)."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


# ------------------------------------------------------------ without grad --

def _plain_forward(x, slope, y, mask):
    """Write Leaky ReLU of ``x`` into ``y`` (and ``x > 0`` into ``mask``)."""
    if _on_kernels(x, y) and (mask is None or _on_kernels(mask)):
        if mask is None:
            ufuncs.leaky_relu(_as_numpy(x), slope, out=_as_numpy(y))
        else:
            ufuncs.leaky_relu_with_mask(_as_numpy(x), slope,
                                        out=(_as_numpy(y), _as_numpy(mask)))
        return
    gpu = _cupy_backend_for(x, y) if mask is None else _cupy_backend_for(x, y, mask)
    if gpu is not None:
        if mask is None:
            _on_torch_stream(gpu.compute_forward, x, y, slope=slope)
        else:
            _on_torch_stream(gpu.compute_forward_with_mask, x, y, mask, slope=slope)
        return
    source = x.detach().to(y.dtype)
    result = torch.nn.functional.leaky_relu(source, slope)
    if mask is not None:
        mask.copy_(source > 0)
    y.copy_(result)


def _plain_backward(grad, mask, slope, grad_in):
    if _on_kernels(grad, mask, grad_in):
        ufuncs.leaky_relu_backward(_as_numpy(grad), _as_numpy(mask), slope,
                                   out=_as_numpy(grad_in))
        return
    gpu = _cupy_backend_for(grad, mask, grad_in)
    if gpu is not None:
        _on_torch_stream(gpu.compute_backward, grad, mask, grad_in, slope=slope)
        return
    source = grad.detach().to(grad_in.dtype)
    # aten's backward keeps grad where its second operand is > 0: the mask.
    grad_in.copy_(torch.ops.aten.leaky_relu_backward(source, mask.to(source.dtype), slope, False))


# --------------------------------------------------------------- autograd --

class LeakyReLUFunction(torch.autograd.Function):
    """Forward saves the 1-byte mask, never the input."""

    @staticmethod
    def forward(ctx, x, slope):
        y = _new_output(x, x.dtype)
        mask = _new_output(x, torch.bool)
        _plain_forward(x, slope, y, mask)
        ctx.save_for_backward(mask)
        ctx.slope = slope
        ctx.mark_non_differentiable(mask)
        return y, mask

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        (mask,) = ctx.saved_tensors
        return LeakyReLUBackwardFunction.apply(grad_y, mask, ctx.slope), None


class LeakyReLUBackwardFunction(torch.autograd.Function):
    """``grad if mask else grad * slope``: linear in ``grad``, so its own
    gradient is the same function (double backward)."""

    @staticmethod
    def forward(ctx, grad, mask, slope):
        ctx.save_for_backward(mask)
        ctx.slope = slope
        grad_in = _new_output(grad, grad.dtype)
        _plain_backward(grad, mask, slope, grad_in)
        return grad_in

    @staticmethod
    def backward(ctx, grad_grad_in):
        (mask,) = ctx.saved_tensors
        return LeakyReLUBackwardFunction.apply(grad_grad_in, mask, ctx.slope), None, None


# ------------------------------------------------------------ entry points --

_FAST_DTYPES = frozenset((torch.float16, torch.float32, torch.float64))


def _forward_fast(x, slope):
    """The plainest call, a dense CPU float tensor outside autograd, through
    the kernels' C fast path: the result it gives is the ufunc's, and the
    fixed cost of a call drops from about 8 to 3 microseconds.  None for
    anything else."""
    if (x.dtype in _FAST_DTYPES and x.is_cpu and x.layout is torch.strided
            and not x.is_neg() and not _records_grad(x)):
        y = _kernels.forward_fast(x.numpy(), slope, None)
        if y is not None:
            return torch.from_numpy(y)
    return None


def forward(x, slope, out=None, **keywords):
    if out is None and not keywords:
        y = _forward_fast(x, slope)
        if y is not None:
            return y
    _contract.refuse_ufunc_keywords(keywords, x)
    dtype = _result_dtype(x, slope)
    out = _contract.split_single_out(out)
    if out is None and _records_grad(x):
        return LeakyReLUFunction.apply(x, slope)[0]
    y = _output(out, x, dtype, "out")
    _plain_forward(x, slope, y, None)
    return y


def forward_with_mask(x, slope, out=None, **keywords):
    _contract.refuse_ufunc_keywords(keywords, x)
    dtype = _result_dtype(x, slope)
    y_out, mask_out = _contract.split_out_pair(out)
    if y_out is None and mask_out is None and _records_grad(x):
        return LeakyReLUFunction.apply(x, slope)
    y = _output(y_out, x, dtype, "out[0]")
    mask = _output(mask_out, x, torch.bool, "out[1]")
    _plain_forward(x, slope, y, mask)
    return y, mask


def backward(grad, mask, slope, out=None, **keywords):
    _contract.refuse_ufunc_keywords(keywords, grad)
    dtype = _result_dtype(grad, slope, "grad_output")
    _contract.check_mask(mask, grad.shape)
    out = _contract.split_single_out(out)
    if out is None and _records_grad(grad):
        return LeakyReLUBackwardFunction.apply(grad, mask, slope)
    grad_in = _output(out, grad, dtype, "out")
    _plain_backward(grad, mask, slope, grad_in)
    return grad_in
