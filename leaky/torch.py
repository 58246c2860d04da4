"""leaky for PyTorch: ``torch.nn.functional.leaky_relu``'s signature and a
drop-in ``torch.nn.LeakyReLU``, on leaky's registered operators.

>>> import torch
>>> import leaky.torch
>>> x = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
>>> y = leaky.torch.leaky_relu(x, 0.1)
>>> y
tensor([-0.2000,  0.0000,  3.0000], grad_fn=<_LeakyReLUBackward>)
>>> y.sum().backward()
>>> x.grad  # the slope at 0, as in torch
tensor([0.1000, 0.1000, 1.0000])
>>> leaky.torch.LeakyReLU(0.2, inplace=True)
LeakyReLU(negative_slope=0.2, inplace=True)

Importing this module imports torch; ``import leaky`` alone does not.  The
operators are ``torch.ops.leaky.leaky_relu``, ``leaky_relu_with_mask``,
``leaky_relu_packed``, ``leaky_relu_backward`` and the in-place
``leaky_relu_`` (see ``leaky._torch_backend``): they carry fake
implementations for ``torch.compile`` and ``torch.export``, autograd that
saves only the mask (one bit per element under ``torch.compile``, as in
eager mode), and vmap rules.  Eager calls on plain tensors skip the operator
dispatch and run the kernels directly, with the same results.

Differences from torch, all on purpose:

* ``inplace=True`` works under autograd for any finite slope, zero and
  negative ones included: the mask is saved, not recovered from the output.
* The backward pass keeps one bit per element (the packed mask), not the input.
"""

import torch

from . import _contract
from . import _torch_backend

__all__ = ["LeakyReLU", "leaky_relu"]


def leaky_relu(input, negative_slope=_contract.DEFAULT_SLOPE, inplace=False):
    """``torch.nn.functional.leaky_relu``, on leaky's kernels.

    Parameters
    ----------
    input : torch.Tensor
        A dense tensor: float16, bfloat16, float32 or float64 (bool and
        integers promote as in NumPy, out of place only).
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
        For sparse, nested, quantized or complex tensors, and other dtypes
        outside the contract.
    ValueError
        For a NaN or infinite slope.
    """
    if not inplace and type(negative_slope) is float:
        y = _torch_backend.forward_fast(input, negative_slope)  # None: not a plain case
        if y is not None:
            return y
    if not isinstance(input, torch.Tensor):  # as F.leaky_relu says it
        raise TypeError(f"leaky_relu(): argument 'input' (position 1) must be "
                        f"torch.Tensor, not {type(input).__module__}.{type(input).__name__}")
    slope = _contract.validate_slope(negative_slope)
    if inplace:
        return _torch_backend.forward_inplace(input, slope)
    return _torch_backend.forward(input, slope)


class LeakyReLU(torch.nn.Module):
    """Drop-in for ``torch.nn.LeakyReLU``: same arguments, ``repr``, no
    parameters or buffers; works in ``nn.Sequential``, with ``state_dict``,
    ``copy.deepcopy``, ``pickle`` and ``torch.compile(fullgraph=True)``.

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

    def __init__(self, negative_slope=_contract.DEFAULT_SLOPE, inplace=False):
        super().__init__()
        self.negative_slope = _contract.validate_slope(negative_slope)
        self.inplace = inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"
