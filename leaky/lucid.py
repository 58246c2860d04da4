"""leaky for Lucid: ``lucid.nn.functional.leaky_relu``'s signature and a
drop-in ``lucid.nn.LeakyReLU``, as Lucid operations over leaky's kernels
(device "cpu") or its MLX backend (device "gpu").

``import leaky.lucid`` imports neither Lucid nor MLX: :func:`leaky_relu`
imports Lucid when called, and ``leaky.lucid.LeakyReLU``, a subclass of
``lucid.nn.LeakyReLU``, is made when first looked up.
"""

import functools

from . import _api
from . import _contract

__all__ = ["LeakyReLU", "leaky_relu"]


def leaky_relu(input_, negative_slope=_contract.DEFAULT_SLOPE):
    """``lucid.nn.functional.leaky_relu``, with leaky's semantics.

    Parameters
    ----------
    input_ : lucid.Tensor
        On device "cpu" or "gpu".
    negative_slope : float, optional
        Any finite real number.  Default 0.01.

    Returns
    -------
    lucid.Tensor
        ``input_ if input_ > 0 else negative_slope * input_`` on
        ``input_``'s device.  Where ``input_`` requires grad, the result
        joins Lucid's autograd graph, keeping one bit an element for the
        backward; the gradient is 1 where ``input_ > 0`` and
        ``negative_slope`` elsewhere (at 0 too, as Lucid's own).

    Raises
    ------
    TypeError
        If ``input_`` is not a Lucid tensor, or as :func:`leaky.leaky_relu`.
    ValueError
        As :func:`leaky.leaky_relu`.
    """
    import lucid

    if not isinstance(input_, lucid.Tensor):
        raise TypeError(f"leaky.lucid.leaky_relu takes a lucid.Tensor, got "
                        f"{type(input_).__name__}")
    return _api.leaky_relu(input_, negative_slope)


@functools.cache
def _layer_class():
    import lucid.nn

    class LeakyReLU(lucid.nn.LeakyReLU):
        """``lucid.nn.LeakyReLU`` with leaky's semantics: a drop-in, with the
        same constructor, state and repr, and an instance of
        ``lucid.nn.LeakyReLU``.

        Parameters
        ----------
        negative_slope : float, optional
            Any finite real number.  Default 0.01.
        """

        __module__ = __name__

        def forward(self, input_):
            return leaky_relu(input_, self.negative_slope)

    return LeakyReLU


def __getattr__(name):
    if name == "LeakyReLU":
        return _layer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
