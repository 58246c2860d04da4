"""Test helpers.  PyTorch (CPU) is the oracle for values.

torch is imported only by the functions that use it (the oracle functions
skip the calling test when it is missing): a test file that does not use
them runs without torch.
"""

import math

import numpy as np
import pytest


def _torch():
    return pytest.importorskip("torch")


# Test files that run in a pytest process of their own, never in the suite's
# (conftest.py leaves them out; test_own_process.py runs each in a child
# pytest), with why.
OWN_PROCESS = {
    "test_tensorflow.py": "TensorFlow: triton, which torch.compile and torch.export import "
                          "where it is installed (CUDA builds of torch), crashes the process "
                          "when it loads after TensorFlow (issue 25)",
}

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
# Slopes the contract names: the default, zero, negative, above one, a value
# with no exact binary form, and a negative zero.
SLOPES = (0.01, 0.0, -0.5, 1.5, 1.0 / 3.0, 0.2, -0.0, 7.0)


def torch_forward(x, slope):
    """PyTorch's result for ``x`` (any NumPy layout), as a NumPy array."""
    torch = _torch()
    xt = torch.from_numpy(np.array(x, order="C"))
    return torch.nn.functional.leaky_relu(xt, slope).numpy()


def torch_backward(grad, x, slope):
    """``aten.leaky_relu_backward(grad, x, slope, False)`` as NumPy."""
    torch = _torch()
    g = torch.from_numpy(np.array(grad, order="C"))
    xt = torch.from_numpy(np.array(x, order="C"))
    return torch.ops.aten.leaky_relu_backward(g, xt, slope, False).numpy()


def assert_same_bits(got, want):
    """Bit-identical values; two NaNs match when their signs do.

    PyTorch itself does not keep NaN payloads the same way in its vector
    body and its scalar tail, so payloads are not compared.
    """
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    got_nan, want_nan = np.isnan(got), np.isnan(want)
    np.testing.assert_array_equal(got_nan, want_nan, err_msg="NaN positions differ")
    np.testing.assert_array_equal(np.signbit(got[got_nan]), np.signbit(want[want_nan]),
                                  err_msg="NaN signs differ")
    uint = np.dtype(f"u{got.dtype.itemsize}")
    got_bits, want_bits = got[~got_nan].view(uint), want[~want_nan].view(uint)
    bad = np.flatnonzero(got_bits != want_bits)
    assert bad.size == 0, (
        f"{bad.size} values differ in bits, first at {bad[0]}: "
        f"got {got[~got_nan][bad[0]]!r}, want {want[~want_nan][bad[0]]!r}")


#: StyleGAN's default (alpha, gain) of each activation.
_BIAS_ACT_DEFAULTS = {"linear": (0.0, 1.0), "relu": (0.0, math.sqrt(2)),
                      "lrelu": (0.2, math.sqrt(2))}


def bias_act_reference(x, b=None, dim=1, act="linear", alpha=None, gain=None, clamp=None):
    """StyleGAN's reference path of ``bias_act``, in torch's own ops: the
    oracle ``leaky.bias_act`` is held to (x + b along ``dim``, the
    activation, ``* gain`` when gain != 1, the clamp when clamp >= 0)."""
    F = _torch().nn.functional
    alpha = float(alpha if alpha is not None else _BIAS_ACT_DEFAULTS[act][0])
    gain = float(gain if gain is not None else _BIAS_ACT_DEFAULTS[act][1])
    clamp = float(clamp if clamp is not None else -1)
    if b is not None:
        x = x + b.reshape([-1 if i == dim else 1 for i in range(x.ndim)])
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
    elif act == "relu":
        x = F.relu(x)
    if gain != 1:
        x = x * gain
    if clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def special_values(dtype):
    """NaN, infinities, signed zeros, subnormals, extremes, ordinary values."""
    info = np.finfo(dtype)
    return np.array(
        [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -3.25,
         info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal,
         info.max, -info.max, info.eps, -info.eps, 2.0, -1e-3],
        dtype=dtype)


def same_bytes_for_thread_counts(compute, counts=(1, 2, 3)):
    """Run ``compute()`` (returning a tuple of arrays) under each OpenMP
    thread count, assert every run gives the first run's arrays byte for
    byte, and return the first run's."""
    from threadpoolctl import threadpool_limits
    runs = []
    for threads in counts:
        with threadpool_limits(threads, user_api="openmp"):
            runs.append(tuple(np.asarray(a) for a in compute()))
    for run in runs[1:]:
        for got, want in zip(run, runs[0], strict=True):
            assert (got.dtype, got.shape) == (want.dtype, want.shape)
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    return runs[0]


# ------------------------------------------------- the torch test files --
# What more than one tests/test_torch_*.py file uses.  Each function imports
# torch (and leaky.torch) when it runs, never this module: see the top.

SLOPE = 0.1  # ours_fn's and theirs_fn's
MODULE_SLOPE = 0.2  # ours_module's and theirs_module's
TORCH_SLOPES = [0.01, 0.2, 1.5, 1.0 / 3.0]


def needs_cpp_operators(reason="needs the C++ operators (torch.ops.leaky: the operators "
                               "themselves, TorchScript, forward-mode AD); this machine "
                               "computes with torch's own ops"):
    """A mark that skips the test where leaky's torch operators are not the
    C++ ones."""
    from leaky._backends import torch as torch_backend
    return pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++", reason=reason)


def torch_float_dtypes():
    """torch's floating dtypes: float16, bfloat16, float32, float64."""
    import torch
    return [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def _bits(t):
    import torch
    return t.detach().contiguous().view(torch.uint8).numpy() if t.dtype.itemsize == 1 else \
        t.detach().contiguous().view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.dtype.itemsize]).numpy()


def assert_identical(got, want):
    import torch
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = torch.isnan(want)
    assert torch.equal(torch.isnan(got), nan)
    np.testing.assert_array_equal(_bits(got[~nan]), _bits(want[~nan]))


def assert_same_signed(a, b):
    """Equal values with the same sign bits (so +0 and -0 differ), leaf by
    leaf (a tensor, or a pytree of them)."""
    import torch
    for p, q in zip(torch.utils._pytree.tree_leaves(a), torch.utils._pytree.tree_leaves(b)):
        assert p.dtype == q.dtype and p.shape == q.shape
        assert torch.equal(p, q) and torch.equal(torch.signbit(p), torch.signbit(q)), (p, q)


def torch_x(dtype=None, n=64, requires_grad=False):
    """``n`` values from -3 to 3 (float32 unless ``dtype``), with a 0.0 and a
    -0.0 in the middle, where the gradient convention matters."""
    import torch
    x = torch.linspace(-3, 3, n, dtype=torch.float32 if dtype is None else dtype)
    x[n // 2], x[n // 2 + 1] = 0.0, -0.0
    return x.requires_grad_(requires_grad)


def ours_fn(t, slope=SLOPE):
    import leaky.torch
    return leaky.torch.leaky_relu(t, slope)


def theirs_fn(t, slope=SLOPE):
    import torch
    return torch.nn.functional.leaky_relu(t, slope)


def ours_module(inplace):
    import leaky.torch
    return lambda v: leaky.torch.LeakyReLU(MODULE_SLOPE, inplace)(v * 1.0)


def theirs_module(inplace):
    import torch
    return lambda v: torch.nn.LeakyReLU(MODULE_SLOPE, inplace)(v * 1.0)


def seeded_x(dtype, shape=(2, 5)):
    import torch
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x.view(-1)[:2] = torch.tensor([0.0, -0.0])
    return x.to(dtype)


def _double_backward(act, x):
    import torch
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(act(x), x, torch.ones_like(x) * 0.5, create_graph=True)
    return g, torch.autograd.grad((g * g).sum(), x, allow_unused=True)[0]


def _checkpointed(act, x):
    import torch
    x = x.clone().requires_grad_()
    y = torch.utils.checkpoint.checkpoint(act, x, use_reentrant=False)
    return y, torch.autograd.grad(y.sum(), x)[0]


def transform_modes():
    """Issue 24's modes, by name, each a function of (act, x): run on
    ours_module and theirs_module, on seeded_x."""
    import torch
    from torch.func import grad, hessian, jacfwd, jacrev, jvp, vmap

    w = torch.linspace(-1.5, 2.0, 10, dtype=torch.float64).reshape(2, 5)

    def cubed(act):
        return lambda t: (act(t) ** 3 * w.to(t.dtype)).sum()

    # Each mode: act -> x -> result; run on leaky's activation and torch's.
    return {
        "autograd.functional.hessian forward-mode": lambda act, x: torch.autograd.functional.hessian(
            cubed(act), x, vectorize=True, outer_jacobian_strategy="forward-mode"),
        "func.hessian": lambda act, x: hessian(cubed(act))(x),
        "jvp": lambda act, x: jvp(act, (x,), (torch.ones_like(x),)),
        "vmap": lambda act, x: vmap(act)(x),
        "vmap(grad)": lambda act, x: vmap(grad(lambda v: act(v).sum()))(x),
        "vmap(jvp)": lambda act, x: vmap(lambda p: jvp(act, (p,), (p * 2,))[1])(x),
        "jacfwd(jacrev)": lambda act, x: jacfwd(jacrev(act))(x[0]),
        "jacrev(jacfwd)": lambda act, x: jacrev(jacfwd(act))(x[0]),
        "grad(grad)": lambda act, x: grad(grad(lambda v: act(v).sum()))(x[0, 2]),
        "double backward": lambda act, x: _double_backward(act, x),
        "checkpoint": lambda act, x: _checkpointed(act, x),
    }
