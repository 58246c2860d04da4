"""``out=`` overlapping an input, above the size that is split across threads.

NumPy does not copy an input that runs one element *ahead* of its output: it
trusts the inner loop to walk its range in order, as a sequential loop does.
A loop that splits its range across threads must keep that promise (issue
16), so every overlap must give what the same call on copies gives, for any
thread count.  Other overlaps (output ahead of the input, reversed) NumPy
copies; they are checked here too.
"""

import numpy as np
import pytest

import leaky
from helpers import same_bytes_for_thread_counts

N = 200_003  # above the parallel threshold: up to 6 chunks of >= 32768
DTYPES = (np.float16, np.float32, np.float64)
SLOPE = 0.1


def _buffer(dtype):
    rng = np.random.default_rng(0)
    return rng.standard_normal(N + 1).astype(dtype)


# Each layout: (input view, output view) of one buffer of N + 1 elements.
LAYOUTS = {
    "out one behind": (lambda a: a[1:], lambda a: a[:-1]),
    "out one ahead": (lambda a: a[:-1], lambda a: a[1:]),
    "reversed": (lambda a: a[:-1], lambda a: a[:-1][::-1]),
}


def _forward(x, out):
    return (leaky.leaky_relu(x, SLOPE, out=out),)


def _forward_mask(x, out):
    return leaky.leaky_relu_with_mask(x, SLOPE, out=(out, None))


def _forward_bits(x, out):
    return leaky.leaky_relu_with_mask(x, SLOPE, out=(out, None), packed=True)


def _backward(mask):
    def backward(grad, out):
        return (leaky.leaky_relu_backward(grad, mask, SLOPE, out=out),)
    return backward


def _operations(dtype):
    """Each operation as ``f(input, out) -> tuple of arrays``."""
    x = _buffer(dtype)[:-1][::-1].copy()  # any values: the masks' source
    _, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    _, bits = leaky.leaky_relu_with_mask(x, SLOPE, packed=True)
    return {"forward": _forward, "forward+mask": _forward_mask,
            "forward+bits": _forward_bits, "backward from mask": _backward(mask),
            "backward from bits": _backward(bits)}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("operation", ["forward", "forward+mask", "forward+bits",
                                       "backward from mask", "backward from bits"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_overlapping_out_gives_what_copies_give(dtype, operation, layout):
    """The issue's reproduction, for each operation, overlap and thread
    count (repeated: a race shows only in some runs)."""
    compute_on = _operations(dtype)[operation]
    input_view, out_view = LAYOUTS[layout]
    want = compute_on(input_view(_buffer(dtype)).copy(), None)

    def overlapping():
        a = _buffer(dtype)
        got = compute_on(input_view(a), out_view(a))
        return (out_view(a).copy(),) + tuple(got[1:])

    for _ in range(4):
        got = same_bytes_for_thread_counts(overlapping)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.view(np.uint8), np.asarray(w).view(np.uint8))


def test_in_place_still_splits_across_threads():
    """``out=x`` exactly is the one overlap threads may share: same bits."""
    def in_place():
        a = _buffer(np.float32)
        leaky.leaky_relu(a, SLOPE, out=a)
        return (a,)
    (got,) = same_bytes_for_thread_counts(in_place)
    np.testing.assert_array_equal(got, leaky.leaky_relu(_buffer(np.float32), SLOPE))
