# Type stubs of leaky's public API (PEP 561: see py.typed).  The runtime is
# leaky/_api.py and leaky/_layer.py; tests/test_typing.py holds the two to
# the same signatures and runs mypy --strict on tests/typed_usage.py.
from typing import Any, Literal, Protocol, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

_Float = TypeVar("_Float", np.float16, np.float32, np.float64)
_Casting = Literal["no", "equiv", "safe", "same_kind", "unsafe"]
_Order = Literal["K", "A", "C", "F"]


class _Array(Protocol):
    """An array of another library (torch, JAX, CuPy, Dask, TensorFlow,
    pandas, xarray, ...): what comes in is what goes out."""

    @property
    def shape(self) -> Any: ...
    @property
    def dtype(self) -> Any: ...


_A = TypeVar("_A", bound=_Array)
_Mask = NDArray[np.bool_] | NDArray[np.uint8]


@overload
def leaky_relu(x: NDArray[_Float], /, negative_slope: float = ..., *,
               out: NDArray[_Float] | tuple[NDArray[_Float]] | None = ...,
               where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
               dtype: None = ..., subok: bool = ...) -> NDArray[_Float]: ...
@overload
def leaky_relu(x: NDArray[np.bool_ | np.integer[Any]], /, negative_slope: float = ..., *,
               out: NDArray[Any] | tuple[NDArray[Any]] | None = ...,
               where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
               dtype: None = ..., subok: bool = ...) -> NDArray[np.floating[Any]]: ...
@overload
def leaky_relu(x: float, /, negative_slope: float = ..., *, out: None = ...,
               where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
               dtype: None = ..., subok: bool = ...) -> np.float64: ...
@overload
def leaky_relu(x: _A, /, negative_slope: Any = ..., *, out: _A | None = ...,
               where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
               dtype: None = ..., subok: bool = ...) -> _A: ...
@overload
def leaky_relu(x: ArrayLike, /, negative_slope: float = ..., *, out: Any = ...,
               where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
               dtype: Any = ..., subok: bool = ...) -> Any: ...


@overload
def leaky_relu_with_mask(x: NDArray[_Float], /, negative_slope: float = ..., *,
                         out: tuple[NDArray[_Float] | None, NDArray[np.bool_] | None] | None = ...,
                         packed: Literal[False] = ..., where: ArrayLike = ...,
                         casting: _Casting = ..., order: _Order = ..., dtype: None = ...,
                         subok: bool = ...) -> tuple[NDArray[_Float], NDArray[np.bool_]]: ...
@overload
def leaky_relu_with_mask(x: NDArray[_Float], /, negative_slope: float = ..., *,
                         out: tuple[NDArray[_Float] | None, NDArray[np.uint8] | None] | None = ...,
                         packed: Literal[True], where: ArrayLike = ...,
                         casting: _Casting = ..., order: _Order = ..., dtype: None = ...,
                         subok: bool = ...) -> tuple[NDArray[_Float], NDArray[np.uint8]]: ...
@overload
def leaky_relu_with_mask(x: _A, /, negative_slope: Any = ..., *,
                         out: tuple[_A | None, _A | None] | None = ..., packed: bool = ...,
                         where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
                         dtype: None = ..., subok: bool = ...) -> tuple[_A, _A]: ...
@overload
def leaky_relu_with_mask(x: ArrayLike, /, negative_slope: float = ..., *, out: Any = ...,
                         packed: bool = ..., where: ArrayLike = ..., casting: _Casting = ...,
                         order: _Order = ..., dtype: Any = ...,
                         subok: bool = ...) -> tuple[Any, Any]: ...


@overload
def leaky_relu_backward(grad_output: NDArray[_Float], mask: _Mask, /,
                        negative_slope: float = ..., *,
                        out: NDArray[_Float] | tuple[NDArray[_Float]] | None = ...,
                        where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
                        dtype: None = ..., subok: bool = ...) -> NDArray[_Float]: ...
@overload
def leaky_relu_backward(grad_output: _A, mask: _A, /, negative_slope: Any = ..., *,
                        out: _A | None = ..., where: ArrayLike = ..., casting: _Casting = ...,
                        order: _Order = ..., dtype: None = ..., subok: bool = ...) -> _A: ...
@overload
def leaky_relu_backward(grad_output: ArrayLike, mask: ArrayLike, /,
                        negative_slope: float = ..., *, out: Any = ...,
                        where: ArrayLike = ..., casting: _Casting = ..., order: _Order = ...,
                        dtype: Any = ..., subok: bool = ...) -> Any: ...

@overload
def bias_act(x: _A, b: _A | None = ..., dim: int = ...,
             act: Literal["linear", "relu", "lrelu"] = ...,
             alpha: float | None = ..., gain: float | None = ...,
             clamp: float | None = ...) -> _A: ...
@overload
def bias_act(x: ArrayLike, b: ArrayLike | None = ..., dim: int = ...,
             act: Literal["linear", "relu", "lrelu"] = ..., alpha: float | None = ...,
             gain: float | None = ..., clamp: float | None = ...) -> Any: ...


class LeakyReLU:
    packed: bool
    def __init__(self, negative_slope: float = ..., packed: bool = ...) -> None: ...
    @property
    def negative_slope(self) -> float: ...
    @negative_slope.setter
    def negative_slope(self, value: float) -> None: ...
    @property
    def saved_nbytes(self) -> int: ...
    @overload
    def __call__(self, x: NDArray[_Float]) -> NDArray[_Float]: ...
    @overload
    def __call__(self, x: _A) -> _A: ...
    @overload
    def __call__(self, x: ArrayLike) -> Any: ...
    @overload
    def backward(self, grad_output: NDArray[_Float]) -> NDArray[_Float]: ...
    @overload
    def backward(self, grad_output: _A) -> _A: ...
    @overload
    def backward(self, grad_output: ArrayLike) -> Any: ...


__all__ = ["LeakyReLU", "__version__", "bias_act", "leaky_relu", "leaky_relu_backward",
           "leaky_relu_with_mask"]
