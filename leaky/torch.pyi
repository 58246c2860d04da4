# Type stubs: leaky.torch (leaky/torch.py), the drop-ins for torch's own.
from typing import Literal

import torch

def leaky_relu(input: torch.Tensor, negative_slope: float = ...,
               inplace: bool = ...) -> torch.Tensor: ...

class LeakyReLU(torch.nn.Module):
    negative_slope: float
    inplace: bool
    def __init__(self, negative_slope: float = ..., inplace: bool = ...) -> None: ...
    def forward(self, input: torch.Tensor) -> torch.Tensor: ...
    def extra_repr(self) -> str: ...

def bias_act(x: torch.Tensor, b: torch.Tensor | None = ..., dim: int = ...,
             act: Literal["linear", "relu", "lrelu"] = ..., alpha: float | None = ...,
             gain: float | None = ..., clamp: float | None = ...,
             impl: Literal["cuda", "ref"] = ...) -> torch.Tensor: ...

__all__ = ["LeakyReLU", "bias_act", "leaky_relu"]
