"""The NumPy backend: validated arrays in, Cython kernels, arrays out.

This module turns a call into kernel operands and nothing else: the rules
(slope, dtype, ``out=``, mask) come from :mod:`leaky._contract`, the loops
from the compiled ``_kernels`` module.  It takes care of what the kernels
assume:

* operands are native-endian, aligned, of a kernel dtype (float16/32/64);
  other inputs (integers, bool, byte-swapped or unaligned arrays) are
  converted straight into the output buffer, which is then computed in place,
  so no temporary is made;
* the output follows the input's memory layout (``order='K'``);
* an input that overlaps an output in any way other than being the very same
  view is copied first, so the result is as if the input had been read
  before anything was written (NumPy's rule).
"""

import numpy as np

from . import _contract
from ._cpu import kernels as _kernels

__all__ = ["as_array", "forward", "forward_with_mask", "backward", "compute_forward",
           "compute_forward_with_mask", "compute_backward"]


def as_array(x, name="x"):
    """``x`` as an ndarray, refusing what NumPy can only hold as objects."""
    if type(x) is np.ndarray:
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "OSUVMm":
        raise TypeError(
            f"leaky_relu got {name} of type {type(x).__name__} with dtype "
            f"{arr.dtype}; expected a real floating, integer or bool array")
    return arr


def _is_kernel_ready(arr):
    """Whether ``arr`` can be handed to the kernels as it is."""
    return arr.dtype in _contract.KERNEL_DTYPES and arr.dtype.isnative and arr.flags.aligned


def _same_view(a, b):
    """Exactly the same elements in the same order: safe to compute in place."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.shape == b.shape)


def _detach_input(arr, outputs, may_overlap=True):
    """``arr``, or a copy of it if it overlaps an output other than in place."""
    if not may_overlap:
        return arr
    for out in outputs:
        if np.may_share_memory(arr, out) and not (
                arr.dtype == out.dtype and _same_view(arr, out)):
            return arr.copy(order="K")
    return arr


def _check_outputs_disjoint(a, b):
    if np.may_share_memory(a, b):
        raise ValueError("the two arrays in out must not overlap")


def _output(out, like, dtype, name):
    """The validated ``out`` array, or a new one laid out like ``like``."""
    if out is None:
        return np.empty_like(like, dtype=dtype)
    return _contract.check_out(out, like.shape, dtype, name)


def _kernel_output(out):
    """An aligned array the kernel may write, standing in for ``out``."""
    return out if out.flags.aligned else np.empty_like(out)


def _values_in(arr, target):
    """``arr`` ready for the kernel, converting into ``target`` if needed."""
    if _is_kernel_ready(arr):
        return arr
    np.copyto(target, arr, casting="unsafe")
    return target


def _scalar_or_array(result, x, out):
    """A NumPy scalar for a 0-d input without ``out``, as ufuncs return."""
    if out is None and x.ndim == 0:
        return result[()]
    return result


# ------------------------------------------------- validated operands in --
# These write into outputs that the caller has already validated (the
# torch backend calls them on zero-copy views of its tensors).

def compute_forward(x, y, slope, may_overlap=True):
    """Write Leaky ReLU of ``x`` into ``y``."""
    target = _kernel_output(y)
    values = _values_in(_detach_input(x, (target,), may_overlap), target)
    _kernels.forward(values, target, slope)
    if target is not y:
        np.copyto(y, target)


def compute_forward_with_mask(x, y, mask, slope, may_overlap=True):
    """Write Leaky ReLU of ``x`` into ``y`` and ``x > 0`` into ``mask``."""
    target = _kernel_output(y)
    values = _values_in(_detach_input(x, (target, mask), may_overlap), target)
    _kernels.forward_with_mask(values, target, mask, slope)
    if target is not y:
        np.copyto(y, target)


def compute_backward(grad, mask, grad_in, slope, may_overlap=True):
    """Write ``grad if mask else grad * slope`` into ``grad_in``."""
    target = _kernel_output(grad_in)
    mask = _detach_input(mask, (target,), may_overlap)
    values = _values_in(_detach_input(grad, (target,), may_overlap), target)
    _kernels.backward(values, mask, target, slope)
    if target is not grad_in:
        np.copyto(grad_in, target)


# ------------------------------------------------------------ entry points --

def forward(x, slope, out=None):
    """Leaky ReLU of a NumPy array ``x``; ``slope`` is already validated."""
    x = as_array(x)
    dtype = _contract.result_dtype(x.dtype)
    _contract.slope_for_dtype(slope, dtype)
    out = _contract.split_single_out(out)
    y = _output(out, x, dtype, "out")
    compute_forward(x, y, slope, may_overlap=out is not None)
    return _scalar_or_array(y, x, out)


def forward_with_mask(x, slope, out=None):
    """Leaky ReLU and the gradient mask ``x > 0`` of a NumPy array ``x``."""
    x = as_array(x)
    dtype = _contract.result_dtype(x.dtype)
    _contract.slope_for_dtype(slope, dtype)
    y_out, mask_out = _contract.split_out_pair(out)
    y = _output(y_out, x, dtype, "out[0]")
    mask = _output(mask_out, x, _contract.BOOL, "out[1]")
    _check_outputs_disjoint(y, mask)
    compute_forward_with_mask(x, y, mask, slope, may_overlap=out is not None)
    if out is None and x.ndim == 0:
        return y[()], mask[()]
    return y, mask


def backward(grad, mask, slope, out=None):
    """``grad if mask else grad * slope`` for NumPy arrays."""
    grad, mask = as_array(grad, "grad_output"), as_array(mask, "mask")
    dtype = _contract.result_dtype(grad.dtype, what="grad_output")
    _contract.slope_for_dtype(slope, dtype)
    _contract.check_mask(mask, grad.shape)
    out = _contract.split_single_out(out)
    grad_in = _output(out, grad, dtype, "out")
    compute_backward(grad, mask, grad_in, slope, may_overlap=out is not None)
    return _scalar_or_array(grad_in, grad, out)
