"""The NumPy backend: leaky's ufuncs (:mod:`leaky.ufuncs`).

NumPy arrays, NumPy and Python scalars, lists, and any object that
implements ``__array_ufunc__`` (pandas, xarray, ``numpy.ma``) come here, and
NumPy's ufunc machinery does everything it does for ``np.multiply``:
broadcasting, overlap between inputs and outputs, casting into ``out``,
``where=``, layout, scalar results, and handing the call to a container's
``__array_ufunc__`` so that it keeps its type and metadata.

What stays here is what only leaky knows:

* a slope too large for the float32 arithmetic of a float16/bfloat16/float32
  result is refused (the ufunc takes the slope as float64);
* backward's mask must have the gradient's exact shape (a ufunc would
  broadcast it);
* a container whose ``__array_ufunc__`` takes only single-output ufuncs
  (a dask array inside xarray) gets forward+mask as two single-output
  ufuncs, so it stays lazy;
* packed masks (one bit an element) are not a ufunc's business: plain
  C-contiguous arrays take the kernels' packed fast paths (in
  :mod:`leaky._api`, the entry point that owns them), and anything else
  goes through the ufuncs and ``np.packbits`` / ``np.unpackbits``.
"""

import numpy as np

from .. import _bias_act
from .. import _checks
from .. import _contract
from .. import _packing
from .. import ufuncs as _ufuncs
from .._cpu import kernels as _kernels
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "backward", "bias_act", "forward", "forward_packed",
           "forward_with_mask"]

CAPABILITIES = Capabilities(library="NumPy", ufunc_keywords=True, bias_act=True)


def _check_out_library(x, out, name="out"):
    """``out=`` of a NumPy call: NumPy arrays, or objects that take part in
    ufuncs (``__array_ufunc__``); an array of another library (torch, JAX)
    is named, instead of NumPy's "return arrays must be of ArrayType"."""
    outs = out if isinstance(out, tuple) else (out,)
    for k, o in enumerate(outs):
        if o is None or isinstance(o, np.ndarray) or hasattr(o, "__array_ufunc__") \
                or not (hasattr(o, "shape") and hasattr(o, "dtype")):
            continue  # NumPy's own rules and errors (a list is no out= either)
        which = f"{name}[{k}]" if isinstance(out, tuple) else name
        raise TypeError(
            f"{which} is {_contract.describe_array(o)} but x is "
            f"{_contract.describe_array(x)}: out= must come from the same array library as x")


def _holds_several_arrays(x):
    """An xarray Dataset: one array per data variable, no single shape or dtype."""
    return hasattr(x, "data_vars")


def _dtypes(x, keywords):
    """The dtypes the values of ``x`` have (one per variable of a Dataset)."""
    if keywords.get("dtype") is not None:
        return [keywords["dtype"]]
    if _holds_several_arrays(x):
        return [v.dtype for v in x.data_vars.values()]
    dtype = getattr(x, "dtype", None)
    return [np.asarray(x).dtype if dtype is None else dtype]


def _check_slope_fits(x, slope, keywords):
    """Refuse a slope that would overflow the result's compute dtype."""
    if _contract.fits_every_dtype(slope):
        return
    for dtype in _dtypes(x, keywords):
        # Every operation's result dtype is the forward's for the same values.
        loop = _ufuncs.leaky_relu.resolve_dtypes((np.dtype(dtype), np.dtype(np.float64), None))
        _contract.slope_for_dtype(slope, loop[-1])


def _sizes(a):
    """What must match between a gradient and its mask: the shape, or a
    Dataset's length along each named dimension."""
    return a.sizes if _holds_several_arrays(a) else np.shape(a)


def _refuse_packed_dataset(x):
    if _holds_several_arrays(x):
        _packing.refuse_packed(
            "xarray Dataset", "packed bits are one array in C order, and a Dataset holds "
            "one array per variable; pack each variable (ds[name]) instead")


def forward(x, slope, out=None, **keywords):
    """Leaky ReLU of ``x``; ``slope`` is already validated."""
    _check_out_library(x, out)
    _check_slope_fits(x, slope, keywords)
    return _ufuncs.leaky_relu(x, slope, out=out, **keywords)


def _refused_by_container(exc):
    """NumPy's error when every ``__array_ufunc__`` returned NotImplemented."""
    return "returned NotImplemented from __array_ufunc__" in str(exc)


def forward_with_mask(x, slope, out=None, **keywords):
    """Leaky ReLU and the gradient mask ``x > 0``, in one pass."""
    _check_out_library(x, out)
    _check_slope_fits(x, slope, keywords)
    if out is not None:
        return _ufuncs.leaky_relu_with_mask(x, slope, out=out, **keywords)
    try:
        return _ufuncs.leaky_relu_with_mask(x, slope, **keywords)
    except TypeError as exc:
        # Dask (say, under an xarray DataArray) runs single-output ufuncs
        # lazily but refuses any other multi-output one: give it two.
        if type(x) is np.ndarray or not _refused_by_container(exc):
            raise
    return (_ufuncs.leaky_relu(x, slope, **keywords),
            np.greater(x, 0, **{k: v for k, v in keywords.items() if k != "dtype"}))


def _refuse_overlap(bits_out, *arrays):
    for other in arrays:
        if other is not None and np.may_share_memory(bits_out, other):
            raise ValueError("out[1] (the packed bits) must not overlap x or out[0]")


def forward_packed(x, slope, out=None):
    """Leaky ReLU and ``x > 0`` packed 8 to a byte, in C order."""
    y_out, bits_out = _checks.split_out_pair(out)
    _check_out_library(x, out)
    _refuse_packed_dataset(x)
    if bits_out is not None:
        _checks.check_out(bits_out, (_packing.packed_size(np.size(x)),), np.dtype(np.uint8),
                          "out[1]")
        _refuse_overlap(bits_out, x, y_out)
    y, mask = forward_with_mask(x, slope, (y_out, None))
    bits = np.packbits(np.asarray(mask, dtype=bool), axis=None, bitorder="little")
    if bits_out is None:
        return y, bits
    bits_out[...] = bits
    return y, bits_out


def _unpacked(bits, shape):
    """A packed mask as a bool array of ``shape``."""
    size = int(np.prod(shape))
    return np.unpackbits(bits, count=size, bitorder="little").view(bool).reshape(shape)


def backward(grad, mask, slope, out=None, **keywords):
    """``grad if mask else grad * slope``; ``mask`` bool or packed bits."""
    _check_out_library(grad, out)
    if _packing.is_packed(mask):
        _refuse_packed_dataset(grad)
        _packing.check_bits(mask, np.size(grad))
        mask = _unpacked(np.asarray(mask), np.shape(grad))
    # A bool mask has the gradient's exact shape (a ufunc would broadcast it).
    _checks.check_same_shape(_sizes(grad), _sizes(mask), "grad_output", "mask")
    _check_slope_fits(grad, slope, keywords)
    return _ufuncs.leaky_relu_backward(grad, mask, slope, out=out, **keywords)


def bias_act(x, b, dim, spec):
    """StyleGAN's bias + activation + gain + clamp in one pass of the
    kernels (``src/leaky_bias_act.h``), into a new C-order array."""
    x = np.asarray(x)
    name = _contract.checked_result_name(x.dtype, 0.0)
    _bias_act.check_fits(spec, name)
    dtype = np.dtype(_contract.numpy_bfloat16() if name == "bfloat16" else name)
    values = np.ascontiguousarray(x, dtype=dtype)
    if b is not None:
        b = np.asarray(b)
        _bias_act.check_bias(x.shape, dtype, b.shape, b.dtype, dim)
        b = np.ascontiguousarray(b)
    inner = int(np.prod(x.shape[dim + 1:], dtype=np.int64))
    y = np.empty_like(values)
    _kernels.bias_act_forward(values, y, b, None, spec.code, spec.alpha, spec.gain, spec.clamp,
                              inner)
    return y if y.ndim else y[()]
