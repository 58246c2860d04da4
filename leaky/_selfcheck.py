"""Self-check: the compiled kernels against a small pure-NumPy reference.

The reference is the contract written as plainly as possible, one element at
a time, in the compute precision (float32 for float16) -- no vectorization,
no select tricks -- so a wrong kernel cannot agree with it by accident.
"""

import numpy as np

from . import _api
from . import _contract

__all__ = ["reference_forward", "reference_backward", "run_selfcheck"]

SLOPES = (0.01, 0.0, -0.5, 1.5, 1.0 / 3.0)


def _special_values(dtype):
    info = np.finfo(dtype)
    return np.array(
        [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5,
         info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal,
         info.max, -info.max, info.eps, -info.eps],
        dtype=dtype)


def reference_forward(x, slope):
    """``x if x > 0 else slope * x``, one element at a time."""
    compute = _contract.compute_dtype(x.dtype).type
    s = compute(slope)
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        for i, v in enumerate(x.flat):
            c = compute(v)
            out.flat[i] = v if c > 0 else x.dtype.type(c * s)
    return out


def reference_backward(grad, mask, slope):
    """``grad if mask else grad * slope``, one element at a time."""
    compute = _contract.compute_dtype(grad.dtype).type
    s = compute(slope)
    out = np.empty_like(grad)
    with np.errstate(all="ignore"):
        for i, (g, m) in enumerate(zip(grad.flat, mask.flat)):
            out.flat[i] = g if m else grad.dtype.type(compute(g) * s)
    return out


def _same_bits(a, b):
    """Bit-identical, except that any NaN matches any NaN of the same sign."""
    a_nan, b_nan = np.isnan(a), np.isnan(b)
    if not np.array_equal(a_nan, b_nan):
        return False
    if not np.array_equal(np.signbit(a[a_nan]), np.signbit(b[b_nan])):
        return False
    uint = np.dtype(f"u{a.dtype.itemsize}")
    return np.array_equal(a[~a_nan].view(uint), b[~b_nan].view(uint))


def run_selfcheck(rng_seed=0):
    """Check every dtype, special value and slope; return a list of failures."""
    rng = np.random.default_rng(rng_seed)
    failures = []
    for dtype in _contract.KERNEL_DTYPES:
        x = np.concatenate([_special_values(dtype), rng.standard_normal(200).astype(dtype)])
        grad = rng.standard_normal(x.shape).astype(dtype)
        for slope in SLOPES:
            y, mask = _api.leaky_relu_with_mask(x, slope)
            checks = {
                "forward": (_api.leaky_relu(x, slope), reference_forward(x, slope)),
                "forward_with_mask.y": (y, reference_forward(x, slope)),
                "backward": (_api.leaky_relu_backward(grad, mask, slope),
                             reference_backward(grad, x > 0, slope)),
            }
            for name, (got, want) in checks.items():
                if got.dtype != dtype or not _same_bits(got, want):
                    failures.append(f"{name} dtype={dtype} slope={slope}")
            if not np.array_equal(mask, x > 0):
                failures.append(f"mask dtype={dtype} slope={slope}")
    return failures
