"""leaky for MLX: ``mlx.nn.leaky_relu``'s signature and a drop-in
``mlx.nn.LeakyReLU``, on leaky's MLX backend.

>>> import mlx.core as mx
>>> import leaky.mlx
>>> leaky.mlx.leaky_relu(mx.array([-2.0, 0.0, 3.0]), 0.1)
array([-0.2, 0, 3], dtype=float32)
>>> layer = leaky.mlx.LeakyReLU(0.2)
>>> layer
LeakyReLU()
>>> mx.grad(lambda x: layer(x).sum())(mx.array([-1.0, 0.0, 1.0]))  # the slope at 0
array([0.2, 0.2, 1], dtype=float32)

Both are a select, ``x if x > 0 else negative_slope * x``: right for every
finite slope, where ``mlx.nn``'s ``maximum(negative_slope * x, x)`` is right
only for slopes in [0, 1], and with the slope as the gradient at 0 (MLX's
own gives 1 there).  Importing this module imports MLX; ``import leaky``
alone does not.
"""

import mlx.core as mx
import mlx.nn

from . import _api
from . import _contract

__all__ = ["LeakyReLU", "leaky_relu"]


def leaky_relu(x, negative_slope=_contract.DEFAULT_SLOPE):
    """``mlx.nn.leaky_relu``, with leaky's semantics.

    Parameters
    ----------
    x : mlx.core.array
        float16, bfloat16, float32 or float64 keep their dtype; bool and
        integers promote as ``mx.sin`` promotes them.
    negative_slope : float, optional
        Any finite real number.  Default 0.01.

    Returns
    -------
    mlx.core.array
        ``x if x > 0 else negative_slope * x``, lazily, on ``x``'s stream.
        ``mx.grad``, ``mx.vjp``, ``mx.jvp``, ``mx.vmap`` and ``mx.compile``
        compose with it, to any order; its derivative is 1 where ``x > 0``
        and ``negative_slope`` elsewhere (at 0 and at NaN too).

    Raises
    ------
    TypeError
        If ``x`` is not an MLX array, or as :func:`leaky.leaky_relu`.
    ValueError
        As :func:`leaky.leaky_relu`.
    """
    if not isinstance(x, mx.array):
        raise TypeError(f"leaky.mlx.leaky_relu takes an mlx.core.array, got "
                        f"{type(x).__name__}; convert it with mx.array(x)")
    return _api.leaky_relu(x, negative_slope)


class LeakyReLU(mlx.nn.LeakyReLU):
    """``mlx.nn.LeakyReLU`` with leaky's semantics: a drop-in, with the same
    constructor, state and repr, and an instance of ``mlx.nn.LeakyReLU``.

    Parameters
    ----------
    negative_slope : float, optional
        Any finite real number.  Default 0.01.
    """

    def __call__(self, x):
        return leaky_relu(x, self._negative_slope)
