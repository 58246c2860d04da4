"""A stateful layer: forward keeps the mask packed, one bit per element."""

import math

import numpy as np

from . import _api
from . import _backends
from . import _checks
from . import _contract

__all__ = ["LeakyReLU"]


def _shape(array):
    shape = getattr(array, "shape", None)
    return tuple(np.shape(array) if shape is None else shape)


class LeakyReLU:
    """Leaky ReLU layer that remembers its gradient mask.

    Calling the layer runs :func:`leaky.leaky_relu_with_mask` and keeps only
    the mask, never the input: packed, one bit per element (1/32 of a
    float32 input), or the bool mask (one byte) with ``packed=False`` and
    for Dask arrays, which cannot pack.  :meth:`backward` turns an upstream
    gradient into the input gradient; both masks give the same bits.

    Parameters
    ----------
    negative_slope : float, optional
        Slope for ``x <= 0``; any finite real number.  Default 0.01.  It is
        validated here, at construction.
    packed : bool, optional
        Keep the mask packed (default True).

    Attributes
    ----------
    negative_slope : float
        The slope.  Assigning to it validates the new value.

    Raises
    ------
    TypeError, ValueError
        If ``negative_slope`` is not a finite real number.

    Examples
    --------
    >>> import numpy as np
    >>> import leaky
    >>> layer = leaky.LeakyReLU(0.1)
    >>> layer
    LeakyReLU(negative_slope=0.1)
    >>> layer(np.array([-1.0, 2.0]))
    array([-0.1,  2. ])
    >>> layer.backward(np.array([1.0, 1.0]))
    array([0.1, 1. ])
    """

    def __init__(self, negative_slope=_contract.DEFAULT_SLOPE, packed=True):
        self.negative_slope = negative_slope
        self.packed = bool(packed)
        # (mask, shape) of the last forward, stored and read as one object:
        # a layer called from several threads at once backpropagates
        # through one whole forward (whichever stored last), never a mask of
        # one call with the shape of another.  One layer a thread is the
        # usual way.
        self._saved = None

    @property
    def negative_slope(self):
        return self._negative_slope

    @negative_slope.setter
    def negative_slope(self, value):
        self._negative_slope = _contract.validate_slope(value)

    def __call__(self, x):
        """Forward pass: return ``leaky_relu(x)`` and keep the mask.

        Examples
        --------
        >>> import numpy as np
        >>> import leaky
        >>> leaky.LeakyReLU(0.5)(np.array([-2.0, 2.0]))
        array([-1.,  2.])
        """
        packed = self.packed and _backends.backend_for(x).CAPABILITIES.packed
        y, mask = _api.leaky_relu_with_mask(x, self._negative_slope, packed=packed)
        self._saved = (mask, _shape(y))
        return y

    @property
    def _mask(self):
        """The last forward's mask, or None before the first call."""
        saved = self._saved
        return None if saved is None else saved[0]

    @property
    def saved_nbytes(self):
        """Bytes the layer keeps for backward: one per byte of mask, bool
        or packed (0 before the first call)."""
        mask = self._mask
        return 0 if mask is None else math.prod(_shape(mask))

    def backward(self, grad_output):
        """Input gradient for ``grad_output``, from the last forward's mask.

        Raises
        ------
        RuntimeError
            If the layer has not been called yet.

        Examples
        --------
        >>> import numpy as np
        >>> import leaky
        >>> layer = leaky.LeakyReLU(0.5)
        >>> _ = layer(np.array([-2.0, 0.0, 2.0]))
        >>> layer.backward(np.array([4.0, 4.0, 4.0]))  # the slope at 0
        array([2., 2., 4.])
        """
        saved = self._saved
        if saved is None:
            raise RuntimeError("LeakyReLU.backward called before any forward pass")
        mask, shape = saved
        _checks.check_same_shape(_shape(grad_output), shape, "grad_output",
                                   "the last forward's input")
        return _api.leaky_relu_backward(grad_output, mask, self._negative_slope)

    def __repr__(self):
        packed = "" if self.packed else ", packed=False"
        return f"{type(self).__name__}(negative_slope={self._negative_slope!r}{packed})"
