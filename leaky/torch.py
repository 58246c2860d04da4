"""leaky for PyTorch: ``torch.nn.functional.leaky_relu``'s signature and a
drop-in ``torch.nn.LeakyReLU``, on leaky's operators.

>>> import torch
>>> import leaky.torch
>>> x = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
>>> y = leaky.torch.leaky_relu(x, 0.1)
>>> y
tensor([-0.2000,  0.0000,  3.0000], grad_fn=<LeakyReluBackward>)
>>> y.sum().backward()
>>> x.grad  # the slope at 0, as in torch
tensor([0.1000, 0.1000, 1.0000])
>>> leaky.torch.LeakyReLU(0.2, inplace=True)
LeakyReLU(negative_slope=0.2, inplace=True)

Importing this module imports torch and loads leaky's operators
(``torch.ops.leaky.leaky_relu``, ``leaky_relu_with_mask``,
``leaky_relu_packed``, ``leaky_relu_backward``, ``leaky_relu_``; see
``leaky._backends.torch``); ``import leaky`` alone imports no framework.
Both work in TorchScript (``torch.jit.script`` and ``torch.jit.trace``,
saved and loaded again after ``import leaky.torch``).

Differences from torch, all on purpose:

* ``inplace=True`` works under autograd for any finite slope, zero and
  negative ones included: the mask is saved, not recovered from the output.
* The backward pass keeps one bit per element (the packed mask), not the input.
"""

import torch

from . import _bias_act
from . import _contract
from ._backends import torch as _backend  # noqa: F401  (loads the operators)
from ._backends.torch import _modes

__all__ = ["LeakyReLU", "bias_act", "leaky_relu"]


def leaky_relu(input: torch.Tensor, negative_slope: float = _contract.DEFAULT_SLOPE,
               inplace: bool = False) -> torch.Tensor:
    """``torch.nn.functional.leaky_relu``, on leaky's kernels.

    Parameters
    ----------
    input : torch.Tensor
        A dense tensor: float16, bfloat16, float32 or float64 (bool and
        integers promote as ``torch.sin`` does, out of place only).
    negative_slope : float, optional
        Any finite real number.  Default 0.01.
    inplace : bool, optional
        Write the result into ``input`` and return it.  Under autograd this
        works on non-leaf tensors for any slope (a leaf that requires grad
        gets torch's own error).

    Returns
    -------
    torch.Tensor
        Bit-identical to ``F.leaky_relu(input, negative_slope)`` on the CPU;
        its gradient is the slope at 0, as in torch.

    Raises
    ------
    TypeError
        If ``input`` is not a tensor; for sparse, nested, quantized or
        complex tensors, and other dtypes outside the contract.
    ValueError
        For a NaN or infinite slope.
    """
    if torch.jit.is_scripting():  # TorchScript: the operators themselves
        if inplace:
            torch.ops.leaky.leaky_relu_(input, negative_slope)
            return input
        return torch.ops.leaky.leaky_relu(input, negative_slope)
    return _eager(input, negative_slope, inplace)


@torch.jit.unused
def _eager(input: torch.Tensor, negative_slope: float, inplace: bool) -> torch.Tensor:
    """Everything but TorchScript: the operators, unless a graph is being
    traced (``_backends.torch._modes``)."""
    if not isinstance(input, torch.Tensor):  # as F.leaky_relu says it
        raise TypeError(f"leaky_relu(): argument 'input' (position 1) must be "
                        f"torch.Tensor, not {type(input).__module__}.{type(input).__name__}")
    slope = _contract.validate_slope(negative_slope)  # once a call: _modes takes it as is
    if inplace:
        return _modes.forward_inplace(input, slope)
    return _modes.forward(input, slope)


class LeakyReLU(torch.nn.Module):
    """Drop-in for ``torch.nn.LeakyReLU``: same arguments, ``repr``, no
    parameters or buffers; works in ``nn.Sequential``, with ``state_dict``,
    ``copy.deepcopy``, ``pickle``, ``torch.compile(fullgraph=True)``,
    ``torch.export`` and TorchScript.

    Parameters
    ----------
    negative_slope : float, optional
        Any finite real number.  Default 0.01.
    inplace : bool, optional
        Compute in place (any slope works under autograd).

    Examples
    --------
    >>> import torch
    >>> import leaky.torch
    >>> layer = leaky.torch.LeakyReLU(0.5)
    >>> layer
    LeakyReLU(negative_slope=0.5)
    >>> layer(torch.tensor([-2.0, 2.0]))
    tensor([-1.,  2.])
    """

    __constants__ = ["inplace", "negative_slope"]
    inplace: bool
    negative_slope: float

    def __init__(self, negative_slope: float = _contract.DEFAULT_SLOPE,
                 inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = _contract.validate_slope(negative_slope)
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"


def bias_act(x, b=None, dim=1, act="linear", alpha=None, gain=None, clamp=None, impl="cuda"):
    """StyleGAN2-ADA's and StyleGAN3's ``torch_utils.ops.bias_act.bias_act``:
    the same signature, defaults and results, on leaky's kernels, with no
    plugin to compile.  One line makes a StyleGAN network use it::

        torch_utils.ops.bias_act.bias_act = leaky.torch.bias_act

    Computes ``clamp(gain * act(x + b), -clamp, clamp)`` in one pass on the
    CPU and saves one bit per element for the backward (two with a clamp).
    The derivative is linear in the incoming gradient, so double backward
    (R1 regularisation's ``create_graph=True``) and forward-mode AD compose
    from the same operators.

    Parameters
    ----------
    x : torch.Tensor
        Input: float16, bfloat16, float32 or float64 (bool and integers
        promote as ``torch.sin`` does).
    b : torch.Tensor, optional
        Bias, shape ``(x.shape[dim],)``, x's dtype and device.
    dim : int, optional
        The dimension ``b`` runs along.  Default 1.
    act : {'linear', 'relu', 'lrelu'}, optional
        Default ``'linear'``.
    alpha : float, optional
        ``lrelu``'s negative slope; default 0.2.
    gain : float, optional
        Default ``sqrt(2)`` for ``relu`` and ``lrelu``, 1 for ``linear``.
    clamp : float, optional
        Clamp the result to ``[-clamp, clamp]``; None (or < 0): no clamp.
    impl : {'cuda', 'ref'}, optional
        Accepted for StyleGAN's callers; both compute with leaky.

    Returns
    -------
    torch.Tensor
        float32 and float64: the bits of StyleGAN's reference path (x + b,
        the activation, ``* gain`` when gain != 1, ``clamp``); float16 and
        bfloat16 computed in float32 and rounded once, as its CUDA kernel
        does.

    Raises
    ------
    ValueError
        For an act other than the three (the message lists them), an
        ``impl`` other than the two, NaN or infinite numbers, a ``dim`` out
        of range or a ``b`` of the wrong shape.
    TypeError
        For ``x`` or ``b`` that is not a dense tensor, or a ``b`` of another
        dtype or device.

    Examples
    --------
    >>> import torch
    >>> import leaky.torch
    >>> x = torch.tensor([[-2.0, 3.0], [1.0, -4.0]])
    >>> leaky.torch.bias_act(x, torch.tensor([1.0, 0.0]), dim=0, act="lrelu", gain=1.0)
    tensor([[-0.2000,  4.0000],
            [ 1.0000, -0.8000]])
    """
    if impl not in ("cuda", "ref"):
        raise ValueError(f"impl must be 'cuda' or 'ref', got {impl!r}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"bias_act(): x must be a torch.Tensor, not "
                        f"{type(x).__module__}.{type(x).__name__}")
    return _modes.bias_act(x, b, dim, _bias_act.resolve(act, alpha, gain, clamp))
