"""leaky's kernels on tensors, from Python: what the Python operators
(:mod:`._python_ops`) and the CUDA kernels of either operator library run.

* CPU tensors go to the Cython kernels by address, through the kernel
  table's ``run`` (``src/leaky_kernel_table.h``), as the C++ operators'
  CPU kernels do, and with the same layout rules: each operand one flat
  range (a dense tensor as it lies, else a contiguous copy).  Outputs come
  from ``torch.empty_like``; no NumPy view of any tensor is taken, because
  torch makes a storage that NumPy views unresizable, the caller's input's
  included.
* CUDA tensors go to the CuPy kernels through DLPack, on torch's current
  stream, or to torch's own ops where CuPy is missing.

Every function returns fresh tensors of the contract's dtype and leaves
its inputs alone, except :func:`inplace`.  The slope is already checked.
"""

import torch

from ... import _checks
from ... import _contract
from ... import _packing
from ..._cpu import kernels as _kernels
from . import _aten

__all__ = ["backward", "check_inplace", "forward", "forward_packed", "forward_with_mask",
           "inplace", "output_dtype"]

_KINDS = {torch.float16: "float16", torch.float32: "float32", torch.float64: "float64",
          torch.bfloat16: "bfloat16"}
_FLOAT_DTYPES = frozenset((torch.float16, torch.float32, torch.float64))


def output_dtype(t, slope=0.0, what="x"):
    """Floats keep their dtype; bool and integers promote as ``torch.sin``
    does (to torch's default float).  Checks the slope first (finite, as
    every public function does), then that it fits the result's precision:
    operators called directly get the same errors as the public API."""
    slope = _contract.validate_slope(slope)
    default = _contract.dtype_name(torch.get_default_dtype())
    return getattr(torch, _contract.checked_result_name(t.dtype, slope, what, default))


def _is_dense(t):
    """Non-overlapping and dense: some order of its dimensions is contiguous,
    so its elements fill one range (torch's own test is not in Python)."""
    expected = 1
    for size, stride in sorted(zip(t.shape, t.stride()), key=lambda dim: dim[1]):
        if size != 1:
            if stride != expected:
                return t.numel() == 0
            expected *= size
    return True


def _flat(t):
    """``t``'s values as one flat range: ``t`` itself if dense, else a copy."""
    if t.is_neg():
        t = t.resolve_neg()
    return t if _is_dense(t) else t.contiguous()


def _run(op, first, *others, slope):
    """The kernel table's ``op`` over flat operands (``first`` sets the kind)."""
    _kernels.run_on_addresses(_KINDS[first.dtype], op,
                              tuple(t.data_ptr() for t in (first, *others)),
                              first.numel(), slope)


def _laid_out_like(t, like):
    """``t`` (contiguous) in ``like``'s layout when that is dense."""
    if like.is_contiguous() or not _is_dense(like):
        return t
    return torch.empty_like(like).copy_(t)


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
        x = _flat(x)
        y = torch.empty_like(x)
        _run("forward", x, y, slope=slope)
        return y
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
        x = _flat(x)
        y, mask = torch.empty_like(x), torch.empty_like(x, dtype=torch.bool)
        _run("forward_mask", x, y, mask, slope=slope)
        return y, mask
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
        values = _flat(x)
        dense = values.contiguous()
        bits = torch.empty(_packing.packed_size(dense.numel()), dtype=torch.uint8)
        y = torch.empty_like(dense)
        _run("forward_bits", dense, y, bits, slope=slope)
        return _laid_out_like(y, values), bits
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
        if grad.is_cpu:
            values = _flat(grad)
            dense = values.contiguous()
            grad_in = torch.empty_like(dense)
            _run("backward_bits", dense, mask.contiguous(), grad_in, slope=slope)
            return _laid_out_like(grad_in, values)
        mask = _packing.unpack(_aten.BIT_OPS, mask, grad.shape, mask.device)
    if grad.is_cpu:
        grad = _flat(grad)
        if mask.stride() != grad.stride() or not _is_dense(mask):
            mask = torch.empty_like(grad, dtype=torch.bool).copy_(mask)
        grad_in = torch.empty_like(grad)
        _run("backward", grad, mask, grad_in, slope=slope)
        return grad_in
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
    if x.is_cpu and _is_dense(x) and not x.is_neg() \
            and not torch._C._is_cow_tensor(x):
        _run("forward", x, x, slope=slope)
        return
    x.copy_(forward(x, slope))
