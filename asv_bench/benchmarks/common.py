"""Shared pieces of the benchmark suite: data, layouts and peers.

Every implementation is a ``Peer``: a name and, per operation, a callable
built in ``setup`` (so the timed function does only the work).  A peer that
is not installed, or that has no such operation, raises
``SkipNotImplemented`` (scipy's ``benchmarks/common.py`` pattern).
"""

import numpy as np

try:
    from asv_runner.benchmarks.mark import SkipNotImplemented
except ImportError:  # older asv
    from asv.benchmark import SkipNotImplemented  # noqa: F401

SLOPE = 0.01
DTYPES = ("float16", "float32", "float64")
LAYOUTS = ("contiguous", "strided", "F-order")
OPERATIONS = ("forward", "forward_out", "forward_mask", "backward")
IMPLEMENTATIONS = ("leaky", "np.maximum", "np.where", "np.copyto", "torch", "jax.jit")


_INPUTS = {}  # one benchmark process runs every parameter: make each input once


def _values(n, dtype, seed):
    """``n`` values, half of them negative (uniform on [-1, 1): cheap to make)."""
    rng = np.random.default_rng(seed)
    return (2 * rng.random(n, dtype=np.float32) - 1).astype(dtype)


def make_input(n, dtype, layout, seed=0):
    """``n`` elements of ``dtype`` in the given memory layout."""
    key = (n, dtype, layout, seed)
    if key not in _INPUTS:
        if layout == "contiguous":
            x = _values(n, dtype, seed)
        elif layout == "strided":
            x = _values(2 * n, dtype, seed)[::2]
        elif layout == "F-order":
            rows = 2 if n >= 2 else 1
            x = np.asfortranarray(_values(n, dtype, seed).reshape(rows, n // rows))
        else:
            raise ValueError(layout)
        if len(_INPUTS) >= 4:  # an input and its gradient, and the previous pair
            _INPUTS.clear()
        _INPUTS[key] = x
    return _INPUTS[key]


def _leaky(x, grad, mask):
    import leaky
    y = np.empty_like(x)
    return {
        "forward": lambda: leaky.leaky_relu(x, SLOPE),
        "forward_out": lambda: leaky.leaky_relu(x, SLOPE, out=y),
        "forward_mask": lambda: leaky.leaky_relu_with_mask(x, SLOPE),
        "backward": lambda: leaky.leaky_relu_backward(grad, mask, SLOPE),
    }


def _np_maximum(x, grad, mask):
    y = np.empty_like(x)
    return {
        "forward": lambda: np.maximum(x, SLOPE * x),
        "forward_out": lambda: np.maximum(x, SLOPE * x, out=y),
        "forward_mask": lambda: (np.maximum(x, SLOPE * x), x > 0),
        "backward": lambda: np.where(mask, grad, SLOPE * grad),
    }


def _np_where(x, grad, mask):
    return {
        "forward": lambda: np.where(x > 0, x, SLOPE * x),
        "forward_mask": lambda: (np.where(x > 0, x, SLOPE * x), x > 0),
        "backward": lambda: np.where(mask, grad, SLOPE * grad),
    }


def _np_copyto(x, grad, mask):
    """The physical limit: one read and one write per element."""
    y = np.empty_like(x)
    return {"forward": lambda: x.copy(order="K"), "forward_out": lambda: np.copyto(y, x)}


def _torch(x, grad, mask):
    try:
        import torch
    except ImportError:
        raise SkipNotImplemented("torch is not installed")
    F = torch.nn.functional
    xt, gt = torch.from_numpy(x), torch.from_numpy(grad)  # the same memory and strides
    yt = torch.empty_like(xt)
    return {
        "forward": lambda: F.leaky_relu(xt, SLOPE),
        "forward_out": lambda: torch._C._nn.leaky_relu(xt, SLOPE, out=yt),
        "forward_mask": lambda: (F.leaky_relu(xt, SLOPE), xt > 0),
        "backward": lambda: torch.ops.aten.leaky_relu_backward(gt, xt, SLOPE, False),
    }


def _jax(x, grad, mask):
    try:
        import jax
    except ImportError:
        raise SkipNotImplemented("jax is not installed")
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda a: jax.nn.leaky_relu(a, SLOPE))
    xj = jax.device_put(x)
    f(xj).block_until_ready()  # compile outside the timing
    return {"forward": lambda: f(xj).block_until_ready()}


PEERS = {"leaky": _leaky, "np.maximum": _np_maximum, "np.where": _np_where,
         "np.copyto": _np_copyto, "torch": _torch, "jax.jit": _jax}


def operations(impl, x):
    """name -> callable for ``impl`` on input ``x``."""
    grad = np.ascontiguousarray(make_input(x.size, x.dtype, "contiguous", seed=1).reshape(x.shape))
    mask = np.ascontiguousarray(x) > 0
    return PEERS[impl](x, grad, mask)


def pick(ops, operation):
    try:
        return ops[operation]
    except KeyError:
        raise SkipNotImplemented(f"no {operation}") from None
