"""A quick benchmark for ``python -m leaky``: leaky against its peers.

Times are the best of several repeats (``timeit``), so the machine's noise
shows up as little as it can; ratios are taken within this one run.
"""

import timeit

import numpy as np

from . import _api

__all__ = ["quick_benchmark"]

SLOPE = 0.01


def _best_us(func, repeat=5):
    number, _ = timeit.Timer(func).autorange()
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def _peers(x):
    """name -> zero-argument callable computing Leaky ReLU of ``x``."""
    peers = {
        "np.maximum(x, s*x)": lambda: np.maximum(x, SLOPE * x),
        "np.where(x>0, x, s*x)": lambda: np.where(x > 0, x, SLOPE * x),
    }
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return peers
    xt = torch.from_numpy(x)
    peers["torch F.leaky_relu"] = lambda: F.leaky_relu(xt, SLOPE)
    return peers


def quick_benchmark(sizes=(1_000, 100_000, 10_000_000), dtype=np.float32):
    """Rows of (n, peer, leaky µs, peer µs, peer / leaky)."""
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        x = rng.standard_normal(n).astype(dtype)
        ours = _best_us(lambda: _api.leaky_relu(x, SLOPE))
        for name, peer in _peers(x).items():
            theirs = _best_us(peer)
            rows.append((n, name, ours, theirs, theirs / ours))
    return rows


def format_rows(rows):
    lines = [f"{'n':>10}  {'peer':<24}{'leaky µs':>12}{'peer µs':>12}{'speed-up':>10}"]
    for n, name, ours, theirs, ratio in rows:
        lines.append(f"{n:>10}  {name:<24}{ours:>12.1f}{theirs:>12.1f}{ratio:>9.1f}x")
    return "\n".join(lines)
