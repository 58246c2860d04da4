"""A stateful layer: forward keeps the 1-byte mask, backward uses it."""

from . import _api
from . import _contract

__all__ = ["LeakyReLU"]


class LeakyReLU:
    """Leaky ReLU layer that remembers its gradient mask.

    Calling the layer runs :func:`leaky.leaky_relu_with_mask` and keeps only
    the bool mask (one byte per element), never the input.
    :meth:`backward` turns an upstream gradient into the input gradient.

    Parameters
    ----------
    negative_slope : float, optional
        Slope for ``x <= 0``; any finite real number.  Default 0.01.  It is
        validated here, at construction.

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

    def __init__(self, negative_slope=_contract.DEFAULT_SLOPE):
        self.negative_slope = negative_slope
        self._mask = None

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
        y, self._mask = _api.leaky_relu_with_mask(x, self._negative_slope)
        return y

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
        if self._mask is None:
            raise RuntimeError("LeakyReLU.backward called before any forward pass")
        return _api.leaky_relu_backward(grad_output, self._mask, self._negative_slope)

    def __repr__(self):
        return f"{type(self).__name__}(negative_slope={self._negative_slope!r})"
