"""Dask backend: the kernels run chunk by chunk, and the result stays lazy.

Each chunk goes back through :mod:`leaky` itself, so a NumPy-backed Dask
array runs the Cython kernels and a CuPy-backed one the GPU path.  Chunks are
kept as they are.  Forward+mask computes each chunk once and splits the pair
lazily.  The functions shipped to workers are module-level, so they pickle
to a ``dask.distributed`` cluster.
"""

import operator

import dask.array as da
import numpy as np
from dask.array.utils import meta_from_array

from . import _api
from . import _contract

__all__ = ["forward", "forward_with_mask", "forward_packed", "backward"]

_NO_PACKED = ("each bit's place depends on the element's position in the whole array, "
              "which a chunk does not know; use the bool mask (packed=False), which "
              "keeps the chunks")


def _result_dtype(x, slope, what="x"):
    return np.dtype(_contract.checked_result_name(x.dtype, slope, what))


def _lazy(func, arrays, slope, dtype):
    meta = meta_from_array(arrays[0], dtype=dtype)
    return da.map_blocks(func, *arrays, slope, dtype=dtype, meta=meta,
                         token=func.__name__)


def forward(x, slope, out=None):
    _contract.refuse_out(out, "Dask")
    return _lazy(_api.leaky_relu, (x,), slope, _result_dtype(x, slope))


def _chunk_with_mask(block, slope):
    return _api.leaky_relu_with_mask(block, slope)


def forward_with_mask(x, slope, out=None):
    _contract.refuse_out(out, "Dask")
    dtype = _result_dtype(x, slope)
    pairs = da.map_blocks(_chunk_with_mask, x, slope, dtype=object,
                          meta=np.empty((0,) * x.ndim, dtype=object),
                          token="leaky_relu_with_mask")
    y = pairs.map_blocks(operator.itemgetter(0), dtype=dtype,
                         meta=meta_from_array(x, dtype=dtype))
    mask = pairs.map_blocks(operator.itemgetter(1), dtype=bool,
                            meta=meta_from_array(x, dtype=bool))
    return y, mask


def forward_packed(x, slope, out=None):
    _contract.refuse_packed("Dask", _NO_PACKED)


def backward(grad, mask, slope, out=None):
    _contract.refuse_out(out, "Dask")
    if _contract.is_packed(mask):
        _contract.refuse_packed("Dask", _NO_PACKED)
    _contract.check_mask(mask, grad.shape)
    mask = mask.rechunk(grad.chunks)  # the gradient's chunks decide
    return _lazy(_api.leaky_relu_backward, (grad, mask), slope,
                 _result_dtype(grad, slope, "grad_output"))
