"""CuPy backend: ``ElementwiseKernel``s for forward, forward+mask, backward.

Imported only when a CuPy array (or a CUDA tensor, via the torch backend)
arrives, so ``import leaky`` never imports CuPy.  Kernels are created once
per device (``cupy.memoize``) and launch on the current stream.  Validation
comes from :mod:`leaky._contract`, like every other backend.
"""

import cupy
import numpy as np

from . import _contract
from ._cuda_source import KERNELS

__all__ = ["forward", "forward_with_mask", "backward", "compute_forward",
           "compute_forward_with_mask", "compute_backward"]


@cupy.memoize(for_each_device=True)
def _kernel(name):
    spec = KERNELS[name]
    return cupy.ElementwiseKernel(spec["in_params"], spec["out_params"],
                                  spec["operation"], name)


def _slope_scalar(slope, dtype):
    """The slope as a NumPy scalar of the compute dtype: this types ``C``."""
    return np.dtype(_contract.compute_dtype_name(dtype.name)).type(slope)


def _result_dtype(x, slope, what="x"):
    return np.dtype(_contract.checked_result_name(x.dtype, slope, what))


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
    return _contract.check_out(out, like.shape, dtype, name, cupy.ndarray)


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


# Entry points.

def forward(x, slope, out=None):
    dtype = _result_dtype(x, slope)
    y = _output(_contract.split_single_out(out), x, dtype, "out")
    compute_forward(x, y, slope)
    return y


def forward_with_mask(x, slope, out=None):
    dtype = _result_dtype(x, slope)
    y_out, mask_out = _contract.split_out_pair(out)
    y = _output(y_out, x, dtype, "out[0]")
    mask = _output(mask_out, x, np.dtype(bool), "out[1]")
    if cupy.may_share_memory(y, mask):
        raise ValueError("the two arrays in out must not overlap")
    compute_forward_with_mask(x, y, mask, slope)
    return y, mask


def backward(grad, mask, slope, out=None):
    dtype = _result_dtype(grad, slope, "grad_output")
    _contract.check_mask(mask, grad.shape)
    grad_in = _output(_contract.split_single_out(out), grad, dtype, "out")
    compute_backward(grad, mask, grad_in, slope)
    return grad_in
