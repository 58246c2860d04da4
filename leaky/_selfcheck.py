"""Self-check: the compiled kernels against a small pure-NumPy reference.

The reference is the contract written as plainly as possible, one element at
a time, in the compute precision (float32 for float16) -- no vectorization,
no select tricks -- so a wrong kernel cannot agree with it by accident.
"""

import numpy as np

from . import _api
from . import _contract

__all__ = ["SLOPES", "checked_dtypes", "checked_inputs", "reference_forward", "reference_backward",
           "run_selfcheck"]

SLOPES = (0.01, 0.0, -0.5, 1.5, 1.0 / 3.0)


_KERNEL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def checked_dtypes():
    """float16/32/64, and bfloat16 when ml_dtypes is there."""
    bfloat16 = _contract.numpy_bfloat16()
    return _KERNEL_DTYPES if bfloat16 is None else _KERNEL_DTYPES + (bfloat16,)


def _finfo(dtype):
    if dtype.name == "bfloat16":
        import ml_dtypes
        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


def _special_values(dtype):
    info = _finfo(dtype)
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


def checked_inputs(rng_seed=0):
    """``(dtype, layout, x, grad, x > 0)`` for every dtype: special values
    and random ones, contiguous (the fast paths) and reversed (the ufuncs)."""
    rng = np.random.default_rng(rng_seed)
    for dtype in checked_dtypes():
        values = np.concatenate([_special_values(dtype), rng.standard_normal(200).astype(dtype)])
        for layout, x in (("contiguous", values), ("reversed", values[::-1])):
            grad = rng.standard_normal(x.shape).astype(dtype)
            with np.errstate(invalid="ignore"):  # NaN > 0 warns for bfloat16
                positive = x > 0
            yield dtype, layout, x, grad, positive


def run_selfcheck(rng_seed=0):
    """Check every dtype, special value and slope, on a contiguous array (the
    fast paths) and a reversed view (the ufuncs); return a list of failures."""
    failures = []
    for dtype, layout, x, grad, positive in checked_inputs(rng_seed):
        for slope in SLOPES:
            failures += _check_one(x, grad, positive, slope, f"dtype={dtype} {layout}")
    return failures


def _check_one(x, grad, positive, slope, where):
    y, mask = _api.leaky_relu_with_mask(x, slope)
    y_packed, bits = _api.leaky_relu_with_mask(x, slope, packed=True)
    want = reference_forward(x, slope)
    want_grad = reference_backward(grad, positive, slope)
    checks = {
        "forward": (_api.leaky_relu(x, slope), want),
        "forward_with_mask.y": (y, want),
        "forward_with_mask(packed=True).y": (y_packed, want),
        "backward": (_api.leaky_relu_backward(grad, mask, slope), want_grad),
        "backward from packed bits": (_api.leaky_relu_backward(grad, bits, slope), want_grad),
    }
    failures = [f"{name} {where} slope={slope}" for name, (got, want) in checks.items()
                if got.dtype != x.dtype or not _same_bits(got, want)]
    if not np.array_equal(mask, positive):
        failures.append(f"mask {where} slope={slope}")
    if not np.array_equal(bits, np.packbits(positive, axis=None, bitorder="little")):
        failures.append(f"packed mask {where} slope={slope}")
    return failures
