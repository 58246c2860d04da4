"""GPU benchmarks (CuPy): forward, forward+mask and backward against a
device-to-device copy and torch CUDA.  The stream is synchronised inside
every timed function, so the time is the kernel's, not the launch's."""

import numpy as np

from .common import SLOPE, SkipNotImplemented


def _cupy():
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception:
        raise SkipNotImplemented("needs CuPy and a CUDA GPU") from None
    return cupy


class GPULeakyReLU:
    params = ([1_000_000, 100_000_000], ["float16", "float32", "float64"],
              ["leaky", "copy", "torch"])
    param_names = ["size", "dtype", "implementation"]
    timeout = 300

    def setup(self, size, dtype, impl):
        cp = self.cp = _cupy()
        x = cp.random.standard_normal(size, dtype=cp.float32).astype(dtype)
        grad = cp.random.standard_normal(size, dtype=cp.float32).astype(dtype)
        y, mask = cp.empty_like(x), x > 0
        if impl == "leaky":
            import leaky
            self.ops = {
                "forward": lambda: leaky.leaky_relu(x, SLOPE, out=y),
                "forward_mask": lambda: leaky.leaky_relu_with_mask(x, SLOPE),
                "backward": lambda: leaky.leaky_relu_backward(grad, mask, SLOPE, out=y),
            }
        elif impl == "copy":
            self.ops = {"forward": lambda: cp.copyto(y, x)}
        else:
            try:
                import torch
            except ImportError:
                raise SkipNotImplemented("torch is not installed") from None
            xt, gt = torch.from_dlpack(x), torch.from_dlpack(grad)
            F = torch.nn.functional
            self.ops = {
                "forward": lambda: F.leaky_relu(xt, SLOPE),
                "forward_mask": lambda: (F.leaky_relu(xt, SLOPE), xt > 0),
                "backward": lambda: torch.ops.aten.leaky_relu_backward(gt, xt, SLOPE, False),
            }
        for op in self.ops.values():  # compile and warm up outside the timing
            op()
        cp.cuda.Device().synchronize()

    def _run(self, name):
        if name not in self.ops:
            raise SkipNotImplemented(f"no {name}")
        self.ops[name]()
        self.cp.cuda.Device().synchronize()

    def time_forward(self, *params):
        self._run("forward")

    def time_forward_mask(self, *params):
        self._run("forward_mask")

    def time_backward(self, *params):
        self._run("backward")

    def track_forward_bandwidth_GBps(self, size, dtype, impl):
        """Bytes read and written per second by one forward call."""
        import timeit
        number = 20
        seconds = min(timeit.repeat(lambda: self._run("forward"), number=number, repeat=3))
        return 2 * size * np.dtype(dtype).itemsize * number / seconds / 1e9
