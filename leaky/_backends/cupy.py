"""CuPy backend: ``ElementwiseKernel``s for forward, forward+mask, backward.

Imported only when a CuPy array (or a CUDA tensor, via the torch backend)
arrives, so ``import leaky`` never imports CuPy.  Kernels are created once
per device (``cupy.memoize``) and launch on the current stream.  Validation
comes from :mod:`leaky._contract`, like every other backend.
"""

import threading

import cupy
import numpy as np

from .. import _bias_act
from .. import _checks
from .. import _contract
from .. import _packing
from .._cuda_source import KERNELS, PACKED_BLOCK, PACKED_KERNELS, PACKED_SOURCE, packed_grid
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "backward", "bias_act", "compute_backward",
           "compute_bias_act", "compute_bias_act_backward", "compute_forward",
           "compute_forward_packed", "compute_forward_with_mask", "forward", "forward_packed",
           "forward_with_mask"]

CAPABILITIES = Capabilities(library="CuPy", bias_act=True)

# (T, C) of the packed kernels' templates, by array dtype name.
_CUDA_TYPES = {"float16": ("__half", "float"), "float32": ("float", "float"),
               "float64": ("double", "double")}


# The memoized kernels are made under one lock, so threads that call at once
# share one kernel object (and one compilation) per device.
_MEMO_LOCK = threading.Lock()


@cupy.memoize(for_each_device=True)
def _new_kernel(name):
    spec = KERNELS[name]
    return cupy.ElementwiseKernel(spec["in_params"], spec["out_params"],
                                  spec["operation"], name)


@cupy.memoize(for_each_device=True)
def _new_packed_module():
    names = [f"{kernel}<{t}, {c}>" for kernel in PACKED_KERNELS for t, c in _CUDA_TYPES.values()]
    return cupy.RawModule(code=PACKED_SOURCE, options=("-std=c++14",), name_expressions=names)


def _kernel(name):
    with _MEMO_LOCK:
        return _new_kernel(name)


def _packed_module():
    with _MEMO_LOCK:
        return _new_packed_module()


def _packed_kernel(kernel, dtype):
    t, c = _CUDA_TYPES[dtype.name]
    return _packed_module().get_function(f"{kernel}<{t}, {c}>")


def _launch_packed(kernel, arrays, n, slope, dtype):
    """One thread an element; the kernels take ``(*arrays, n, slope)``."""
    _packed_kernel(kernel, dtype)((packed_grid(n),), (PACKED_BLOCK,),
                                  (*arrays, np.int64(n), _slope_scalar(slope, dtype)))


def _slope_scalar(slope, dtype):
    """The slope as a NumPy scalar of the compute dtype: this types ``C``."""
    return np.dtype(_contract.compute_dtype_name(dtype.name)).type(slope)


def _detach_input(arr, outputs):
    """A copy of ``arr`` if it overlaps an output other than exactly in place."""
    for out in outputs:
        same_view = (out.data.ptr == arr.data.ptr and out.strides == arr.strides
                     and out.dtype == arr.dtype)
        if not same_view and cupy.may_share_memory(arr, out):
            return arr.copy()
    return arr


def _values(x, dtype):
    return x if x.dtype == dtype else x.astype(dtype)


def _output(out, like, dtype, name):
    if out is None:
        return cupy.empty_like(like, dtype=dtype)
    return _checks.check_out(out, like.shape, dtype, name, cupy.ndarray)


# Validated operands in (also used for torch CUDA tensors through DLPack).

def compute_forward(x, y, slope):
    x = _values(_detach_input(x, (y,)), y.dtype)
    _kernel("leaky_relu_forward")(x, _slope_scalar(slope, y.dtype), y)


def compute_forward_with_mask(x, y, mask, slope):
    x = _values(_detach_input(x, (y, mask)), y.dtype)
    _kernel("leaky_relu_forward_mask")(x, _slope_scalar(slope, y.dtype), y, mask)


def compute_backward(grad, mask, grad_in, slope):
    grad = _values(_detach_input(grad, (grad_in,)), grad_in.dtype)
    mask = _detach_input(mask, (grad_in,))
    _kernel("leaky_relu_backward")(grad, mask, _slope_scalar(slope, grad_in.dtype), grad_in)


def compute_forward_packed(x, y, bits, slope):
    """``y`` and ``bits`` from ``x``: all C-contiguous, ``y`` of x's shape
    (``x`` itself allowed), ``bits`` uint8 of ``ceil(x.size / 8)``."""
    x = _values(_detach_input(x, (y, bits)), y.dtype)
    _launch_packed("leaky_relu_forward_bits", (x, y, bits), x.size, slope, y.dtype)


def compute_backward_packed(grad, bits, grad_in, slope):
    """``grad_in`` (C-contiguous) from ``grad`` and packed ``bits``."""
    grad = cupy.ascontiguousarray(_values(_detach_input(grad, (grad_in,)), grad_in.dtype))
    bits = cupy.ascontiguousarray(bits).ravel()
    _launch_packed("leaky_relu_backward_bits", (grad, bits, grad_in), grad.size, slope,
                   grad_in.dtype)


def compute_bias_act(x, b, y, bits, inner, spec):
    """bias_act of C-contiguous ``x`` into ``y`` (x's dtype; ``x`` itself
    allowed), ``b`` None or of x's dtype, its bits into ``bits`` (uint8,
    ``spec.planes`` planes of ceil(x.size / 8)) unless None.  Leaky ReLU
    itself runs leaky_relu's kernels (without bits, on any layout)."""
    if spec.leaky_relu and b is None:
        if bits is None:
            return compute_forward(x, y, spec.alpha)
        return compute_forward_packed(x, y, bits, spec.alpha)
    x = _detach_input(x, (y,) if bits is None else (y, bits))
    c = np.dtype(_contract.compute_dtype_name(y.dtype.name)).type
    null = np.uint64(0)
    _packed_kernel("bias_act_forward_bits", y.dtype)(
        (packed_grid(x.size),), (PACKED_BLOCK,),
        (x, null if b is None else cupy.ascontiguousarray(b), y, null if bits is None else bits,
         np.int64(x.size), np.int64(0 if b is None else b.size), np.int64(inner),
         np.int32(spec.code), c(spec.alpha), c(spec.gain), c(spec.clamp)))


def compute_bias_act_backward(grad, bits, grad_in, spec):
    """``grad_in`` (C-contiguous) from ``grad`` and the forward's ``bits``."""
    if spec.leaky_relu:
        return compute_backward_packed(grad, bits, grad_in, spec.alpha)
    grad = cupy.ascontiguousarray(_detach_input(grad, (grad_in,)))
    c = np.dtype(_contract.compute_dtype_name(grad_in.dtype.name)).type
    _packed_kernel("bias_act_backward_bits", grad_in.dtype)(
        (packed_grid(grad.size),), (PACKED_BLOCK,),
        (grad, cupy.ascontiguousarray(bits).ravel(), grad_in, np.int64(grad.size),
         np.int32(spec.code), c(spec.alpha), c(spec.gain), c(spec.clamp)))


def _c_contiguous_output(out, shape, dtype, name):
    """``out`` if the raw kernels can write it, else a fresh array (copied in after)."""
    if out is not None:
        _checks.check_out(out, shape, dtype, name, cupy.ndarray)
        if out.flags.c_contiguous:
            return out
    return cupy.empty(shape, dtype=dtype)


# Entry points.

def forward(x, slope, out=None):
    dtype = _contract.checked_numpy_dtype(x.dtype, slope)
    y = _output(_checks.split_single_out(out), x, dtype, "out")
    compute_forward(x, y, slope)
    return y


def forward_with_mask(x, slope, out=None):
    dtype = _contract.checked_numpy_dtype(x.dtype, slope)
    y_out, mask_out = _checks.split_out_pair(out)
    y = _output(y_out, x, dtype, "out[0]")
    mask = _output(mask_out, x, np.dtype(bool), "out[1]")
    if cupy.may_share_memory(y, mask):
        raise ValueError("the two arrays in out must not overlap")
    compute_forward_with_mask(x, y, mask, slope)
    return y, mask


def forward_packed(x, slope, out=None):
    dtype = _contract.checked_numpy_dtype(x.dtype, slope)
    y_out, bits_out = _checks.split_out_pair(out)
    nbytes = _packing.packed_size(x.size)
    y = _c_contiguous_output(y_out, x.shape, dtype, "out[0]")
    bits = _c_contiguous_output(bits_out, (nbytes,), np.dtype(np.uint8), "out[1]")
    if cupy.may_share_memory(y, bits) or cupy.may_share_memory(x, bits):
        raise ValueError("out[1] (the packed bits) must not overlap x or out[0]")
    compute_forward_packed(cupy.ascontiguousarray(x), y, bits, slope)
    for given, result in ((y_out, y), (bits_out, bits)):
        if given is not None and given is not result:
            given[...] = result
    return (y if y_out is None else y_out), (bits if bits_out is None else bits_out)


def backward(grad, mask, slope, out=None):
    dtype = _contract.checked_numpy_dtype(grad.dtype, slope, "grad_output")
    _checks.check_mask(mask, grad.shape)
    out = _checks.split_single_out(out)
    if _packing.is_packed(mask):
        grad_in = _c_contiguous_output(out, grad.shape, dtype, "out")
        compute_backward_packed(grad, mask, grad_in, slope)
        if out is not None and out is not grad_in:
            out[...] = grad_in
        return grad_in if out is None else out
    grad_in = _output(out, grad, dtype, "out")
    compute_backward(grad, mask, grad_in, slope)
    return grad_in


def bias_act(x, b, dim, spec):
    dtype = _contract.checked_numpy_dtype(x.dtype, 0.0)
    _bias_act.check_fits(spec, dtype.name)
    if b is not None:
        _bias_act.check_bias(x.shape, dtype, b.shape, b.dtype, dim)
    x = cupy.ascontiguousarray(_values(x, dtype))
    y = cupy.empty_like(x)
    compute_bias_act(x, b, y, None, int(np.prod(x.shape[dim + 1:], dtype=np.int64)), spec)
    return y
