# Type stubs: leaky.torch (leaky/torch.py), the drop-ins for torch's own.
import torch

def leaky_relu(input: torch.Tensor, negative_slope: float = ...,
               inplace: bool = ...) -> torch.Tensor: ...

class LeakyReLU(torch.nn.Module):
    negative_slope: float
    inplace: bool
    def __init__(self, negative_slope: float = ..., inplace: bool = ...) -> None: ...
    def forward(self, input: torch.Tensor) -> torch.Tensor: ...
    def extra_repr(self) -> str: ...

__all__ = ["LeakyReLU", "leaky_relu"]
