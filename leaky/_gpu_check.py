"""The GPU part of ``python -m leaky``: is a GPU visible, do the CuPy kernels
and the torch CUDA path give the CPU's bits, and how fast are they.

Run where a GPU is visible, it checks the same special values, slopes and
layouts as the CPU self-check (:mod:`leaky._selfcheck`), against the same
plain reference.  A GPU's arithmetic returns its canonical NaN (the sign and
payload of a NaN input are not kept), so NaN is compared by position only.
Where no GPU is visible it says so: the GPU path is then unverified.
"""

import importlib.util
import timeit

import numpy as np

from . import _api
from . import _contract
from ._selfcheck import SLOPES, checked_inputs, reference_backward, reference_forward

__all__ = ["gpu_status", "gpu_benchmark", "run_gpu_selfcheck"]

# One bfloat16 array cannot go to CuPy; torch CUDA takes it as its own dtype.
_CUPY_DTYPES = ("float16", "float32", "float64")


def _cupy_device_count():
    """CUDA devices CuPy sees, or the reason there are none (a string)."""
    if importlib.util.find_spec("cupy") is None:
        return "cupy is not installed"
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() or "CuPy sees no CUDA device"
    except Exception as exc:  # no driver, no device: say so, do not fail
        return f"CuPy found no usable GPU ({type(exc).__name__}: {exc})"


def _torch_cuda():
    """torch, when it is installed and sees a CUDA device; else None."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch
    return torch if torch.cuda.is_available() else None


def gpu_status():
    """``(visible, line)``: whether a GPU is visible, and a line saying so."""
    count = _cupy_device_count()
    torch = _torch_cuda()
    if isinstance(count, str) and torch is None:
        return False, f"GPU path: unverified (no GPU visible: {count}; torch sees no CUDA device)"
    seen = [f"CuPy: {count} device(s)" if not isinstance(count, str) else f"CuPy: {count}"]
    if torch is not None:
        seen.append(f"torch CUDA: {torch.cuda.get_device_name(0)}")
    return True, "GPU visible: " + "; ".join(seen)


def _same_values(got, want):
    """Bit-identical, NaN by position (a GPU returns its canonical NaN)."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    nan = np.isnan(want)
    if not np.array_equal(np.isnan(got), nan):
        return False
    uint = np.dtype(f"u{got.dtype.itemsize}")
    return np.array_equal(got[~nan].view(uint), want[~nan].view(uint))


def _results(to_device, to_host, x, grad, slope):
    """Every public function on the device, results back on the host."""
    xd, gd = to_device(x), to_device(grad)
    y, mask = _api.leaky_relu_with_mask(xd, slope)
    y_packed, bits = _api.leaky_relu_with_mask(xd, slope, packed=True)
    return {
        "forward": to_host(_api.leaky_relu(xd, slope)),
        "forward_with_mask.y": to_host(y),
        "forward_with_mask(packed=True).y": to_host(y_packed),
        "backward": to_host(_api.leaky_relu_backward(gd, mask, slope)),
        "backward from packed bits": to_host(_api.leaky_relu_backward(gd, bits, slope)),
        "mask": to_host(mask),
        "packed mask": to_host(bits),
    }


def _check_path(name, to_device, to_host, dtypes):
    failures = []
    for dtype, layout, x, grad, positive in checked_inputs():
        if dtype.name not in dtypes:
            continue
        for slope in SLOPES:
            want_y, want_grad = reference_forward(x, slope), reference_backward(grad, positive, slope)
            want = {"mask": positive,
                    "packed mask": np.packbits(positive, axis=None, bitorder="little"),
                    "backward": want_grad, "backward from packed bits": want_grad}
            got = _results(to_device, to_host, x, grad, slope)
            failures += [f"{name} {what} dtype={dtype} {layout} slope={slope}"
                         for what, value in got.items()
                         if not _same_values(value, want.get(what, want_y))]
    return failures


def _torch_converters(torch):
    """NumPy <-> torch CUDA, bfloat16 (ml_dtypes) by its bits."""
    def to_device(a):
        if a.dtype.name == "bfloat16":
            return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16).cuda()
        return torch.from_numpy(np.ascontiguousarray(a)).cuda()

    def to_host(t):
        if t.dtype is torch.bfloat16:
            return t.cpu().view(torch.int16).numpy().view(_contract.numpy_bfloat16())
        return t.cpu().numpy()
    return to_device, to_host


def run_gpu_selfcheck():
    """Check the CuPy kernels and the torch CUDA path against the reference;
    return ``(paths checked, failures)``."""
    checked, failures = [], []
    if not isinstance(_cupy_device_count(), str):
        import cupy
        failures += _check_path("cupy", cupy.asarray, cupy.asnumpy, _CUPY_DTYPES)
        checked.append("CuPy kernels")
    torch = _torch_cuda()
    if torch is not None:
        to_device, to_host = _torch_converters(torch)
        failures += _check_path("torch CUDA", to_device, to_host,
                                _CUPY_DTYPES + ("bfloat16",))
        checked.append("torch CUDA tensors")
    return checked, failures


# ------------------------------------------------------------- benchmark --

def _best_seconds(func, sync, repeat=5, number=10):
    def run():
        for _ in range(number):
            func()
        sync()
    run()  # compile and warm up
    return min(timeit.repeat(run, number=1, repeat=repeat)) / number


def gpu_benchmark(n=100_000_000, slope=0.01):
    """Rows of (check, leaky µs, peer µs, ratio peer / leaky, target) for
    float32 on the first device, or [] without CuPy on a GPU."""
    if isinstance(_cupy_device_count(), str):
        return []
    import cupy
    sync = cupy.cuda.Device().synchronize
    x = cupy.random.standard_normal(n, dtype=cupy.float32)
    y = cupy.empty_like(x)
    rows = [("forward out= / device-to-device copy (>= 0.85)",
             _best_seconds(lambda: _api.leaky_relu(x, slope, out=y), sync),
             _best_seconds(lambda: cupy.copyto(y, x), sync))]
    torch = _torch_cuda()
    if torch is not None:
        xt = torch.from_dlpack(x)
        F = torch.nn.functional
        torch_pair = _best_seconds(lambda: (F.leaky_relu(xt, slope), xt > 0), sync)
        rows += [("forward+mask / torch (leaky_relu and x > 0) (>= 1.35)",
                  _best_seconds(lambda: _api.leaky_relu_with_mask(x, slope), sync), torch_pair),
                 ("forward+packed bits / torch (leaky_relu and x > 0) (>= 1.5)",
                  _best_seconds(lambda: _api.leaky_relu_with_mask(x, slope, packed=True), sync),
                  torch_pair)]
    return [(name, ours * 1e6, theirs * 1e6, theirs / ours) for name, ours, theirs in rows]


def format_gpu_rows(rows):
    lines = [f"{'check (target)':<62}{'leaky µs':>11}{'peer µs':>11}{'speed-up':>10}"]
    lines += [f"{name:<62}{ours:>11.1f}{theirs:>11.1f}{ratio:>9.2f}x"
              for name, ours, theirs, ratio in rows]
    return "\n".join(lines)
