"""Dask backend: the backend of the chunks, run chunk by chunk, lazily.

The router hands :func:`around` the backend of a Dask array's chunks (from
its ``_meta``): NumPy's for a NumPy-backed array, CuPy's for a CuPy-backed
one.  Chunks are kept as they are.  Forward+mask computes each chunk once
and splits the pair lazily.  What is shipped to workers is module-level
functions and the chunk backend's own, so it pickles to a
``dask.distributed`` cluster.  Packed bits and ``out=`` are refused (see
``CAPABILITIES``).
"""

import operator

import dask.array as da
import numpy as np
from dask.array.utils import meta_from_array

from .. import _bias_act
from .. import _checks
from .. import _contract
from ._protocol import Capabilities

__all__ = ["CAPABILITIES", "DaskBackend", "around", "inner"]

CAPABILITIES = Capabilities(
    library="Dask", out=False, packed=False, wraps=True, bias_act=True,
    why_not={
        "out": "Dask arrays are lazy and cannot be written into",
        "packed": "each bit's place depends on the element's position in the whole "
                  "array, which a chunk does not know; use the bool mask "
                  "(packed=False), which keeps the chunks",
    })


class DaskBackend:
    """The protocol of :mod:`._protocol` for Dask arrays whose chunks the
    backend ``chunks`` runs."""

    CAPABILITIES = CAPABILITIES

    def __init__(self, chunks):
        self.chunks = chunks

    def __repr__(self):
        return f"DaskBackend(chunks={self.chunks.__name__})"

    def forward(self, x, slope, out=None):
        dtype = _contract.checked_numpy_dtype(x.dtype, slope)
        return da.map_blocks(self.chunks.forward, x, slope, dtype=dtype,
                             meta=meta_from_array(x, dtype=dtype), token="leaky_relu")

    def forward_with_mask(self, x, slope, out=None):
        dtype = _contract.checked_numpy_dtype(x.dtype, slope)
        # Each chunk's (y, mask) is one object, which Dask splits lazily.
        pairs = da.map_blocks(self.chunks.forward_with_mask, x, slope,
                              dtype=object, meta=np.empty((0,) * x.ndim, dtype=object),
                              token="leaky_relu_with_mask")
        y = pairs.map_blocks(operator.itemgetter(0), dtype=dtype,
                             meta=meta_from_array(x, dtype=dtype))
        mask = pairs.map_blocks(operator.itemgetter(1), dtype=bool,
                                meta=meta_from_array(x, dtype=bool))
        return y, mask

    def backward(self, grad, mask, slope, out=None):
        dtype = _contract.checked_numpy_dtype(grad.dtype, slope, "grad_output")
        _checks.check_mask(mask, grad.shape)
        mask = mask.rechunk(grad.chunks)  # the gradient's chunks decide
        return da.map_blocks(self.chunks.backward, grad, mask, slope, dtype=dtype,
                             meta=meta_from_array(grad, dtype=dtype),
                             token="leaky_relu_backward")


    def bias_act(self, x, b, dim, spec):
        """Chunk by chunk, each with the slice of ``b`` its chunks along
        ``dim`` cover (``b`` rechunked to match)."""
        dtype = _contract.checked_numpy_dtype(x.dtype, 0.0)
        if b is None:
            return da.map_blocks(_bias_act_chunk, x, None, self.chunks, dim, spec, dtype=dtype,
                                 meta=meta_from_array(x, dtype=dtype), token="bias_act")
        _bias_act.check_bias(x.shape, dtype, b.shape, b.dtype, dim)
        shape = tuple(-1 if k == dim else 1 for k in range(x.ndim))
        chunks = tuple(x.chunks[dim] if k == dim else (1,) for k in range(x.ndim))
        b = da.asarray(b).reshape(shape).rechunk(chunks)
        return da.map_blocks(_bias_act_chunk, x, b, self.chunks, dim, spec, dtype=dtype,
                             meta=meta_from_array(x, dtype=dtype), token="bias_act")


def _bias_act_chunk(x, b, chunks, dim, spec):
    return chunks.bias_act(x, None if b is None else b.reshape(-1), dim, spec)


def inner(x):
    """What the chunks of a Dask array are: its ``_meta``, an empty chunk."""
    return x._meta


#: The Dask backend over a chunk backend (the router keeps one per chunk backend).
around = DaskBackend
