"""Measure where splitting a call across OpenMP threads starts to pay.

For each size, times ``leaky_relu(x, out=y)`` on one thread and on all
threads, interleaved, and prints the ratio.  The kernels' threshold
(``leaky._kernels.get_parallel_threshold()``) should sit where the ratio
drops clearly below 1.

Run: ``python asv_bench/parallel_threshold.py [dtype]``
"""

import sys
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

import leaky
from leaky._cpu import kernels as _kernels


def best_us(func, repeat=9):
    number, _ = timeit.Timer(func).autorange()
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def main(dtype="float32"):
    previous = _kernels.set_parallel_threshold(1)  # allow threads at any size
    threads = _kernels.max_threads()
    print(f"dtype {dtype}, {threads} threads, current threshold {previous}")
    print(f"{'n':>10}{'1 thread µs':>14}{f'{threads} threads µs':>16}{'ratio':>8}")
    try:
        for exponent in range(12, 24):
            n = 1 << exponent
            x = np.random.default_rng(0).standard_normal(n).astype(dtype)
            y = np.empty_like(x)
            one = many = float("inf")
            for _ in range(3):  # interleave the pair to share the machine's noise
                with threadpool_limits(1, user_api="openmp"):
                    one = min(one, best_us(lambda: leaky.leaky_relu(x, out=y)))
                many = min(many, best_us(lambda: leaky.leaky_relu(x, out=y)))
            print(f"{n:>10}{one:>14.1f}{many:>16.1f}{many / one:>8.2f}")
    finally:
        _kernels.set_parallel_threshold(previous)


if __name__ == "__main__":
    main(*sys.argv[1:])
