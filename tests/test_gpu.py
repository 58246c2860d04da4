"""The GPU path on a real GPU: CuPy kernels against the NumPy path and
against torch CUDA, bit for bit.  Skips without CuPy and a visible GPU."""

import numpy as np
import pytest

from backends import _gpu_available
from helpers import special_values

pytestmark = pytest.mark.skipif(not _gpu_available(), reason="needs CuPy and a CUDA GPU")

import leaky  # noqa: E402

DTYPES = (np.float16, np.float32, np.float64)
SLOPES = (0.01, -0.5, 1.5, 1.0 / 3.0, 0.0)


def _data(dtype, shape=(33, 65)):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:20] = special_values(dtype)
    return x


def _same_values(got, want):
    """Bit-identical, except NaN: a GPU returns its canonical NaN."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    uint = np.dtype(f"u{got.dtype.itemsize}")
    np.testing.assert_array_equal(got[~nan].view(uint), want[~nan].view(uint))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_cupy_matches_numpy_path(dtype, slope):
    import cupy
    x = _data(dtype)
    grad = _data(dtype)[::-1].copy()
    y, mask = leaky.leaky_relu_with_mask(cupy.asarray(x), slope)
    assert isinstance(y, cupy.ndarray) and y.dtype == dtype and mask.dtype == bool
    _same_values(cupy.asnumpy(y), leaky.leaky_relu(x, slope))
    _same_values(cupy.asnumpy(leaky.leaky_relu(cupy.asarray(x), slope)), leaky.leaky_relu(x, slope))
    np.testing.assert_array_equal(cupy.asnumpy(mask), x > 0)
    grad_in = leaky.leaky_relu_backward(cupy.asarray(grad), mask, slope)
    _same_values(cupy.asnumpy(grad_in), leaky.leaky_relu_backward(grad, x > 0, slope))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cupy_strides_out_and_in_place(dtype):
    import cupy
    x = _data(dtype)
    want = leaky.leaky_relu(x[::2, ::-3], 0.2)
    xg = cupy.asarray(x)
    _same_values(cupy.asnumpy(leaky.leaky_relu(xg[::2, ::-3], 0.2)), want)
    out = cupy.zeros((x.shape[0] * 2, x.shape[1]), dtype)[::2]
    assert leaky.leaky_relu(xg, 0.2, out=out) is out
    _same_values(cupy.asnumpy(out), leaky.leaky_relu(x, 0.2))
    assert leaky.leaky_relu(xg, 0.2, out=xg) is xg
    _same_values(cupy.asnumpy(xg), leaky.leaky_relu(x, 0.2))
    flipped = cupy.asarray(x)
    leaky.leaky_relu(flipped, 0.2, out=flipped[::-1])  # overlap: read first
    _same_values(cupy.asnumpy(flipped), leaky.leaky_relu(x, 0.2)[::-1])


def test_cupy_errors_come_from_the_contract():
    import cupy
    x = cupy.ones(3)
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        leaky.leaky_relu(x, float("inf"))
    with pytest.raises(TypeError, match="dtype"):
        leaky.leaky_relu(x, out=cupy.empty(3, cupy.float32))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        leaky.leaky_relu_backward(x, x)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("slope", SLOPES)
def test_torch_cuda_matches_torch_bit_for_bit(dtype, slope):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    x = torch.from_numpy(_data(np.dtype(dtype))).cuda()
    grad = torch.flip(x, (0,)).contiguous()
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    assert y.is_cuda and mask.dtype == torch.bool
    ref = torch.nn.functional.leaky_relu(x, slope)
    bits = {"float16": torch.int16, "float32": torch.int32, "float64": torch.int64}[dtype]
    assert torch.equal(y.view(bits), ref.view(bits))
    want = torch.ops.aten.leaky_relu_backward(grad, x, slope, False)
    assert torch.equal(leaky.leaky_relu_backward(grad, mask, slope).view(bits), want.view(bits))


def test_torch_cuda_autograd():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    x = torch.randn(1000, device="cuda", requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    leaky.leaky_relu(x, 0.1).sum().backward()
    torch.nn.functional.leaky_relu(x_ref, 0.1).sum().backward()
    assert torch.equal(x.grad, x_ref.grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(20,), (41,), (33, 65), (1000, 37)])  # >= 20: the specials
def test_cupy_packed_bits_match_numpy(dtype, shape):
    import cupy
    x = _data(dtype, shape)
    grad = _data(dtype, shape)[::-1].copy()
    y, bits = leaky.leaky_relu_with_mask(cupy.asarray(x), -0.5, packed=True)
    np.testing.assert_array_equal(cupy.asnumpy(bits),
                                  np.packbits((x > 0).ravel(), bitorder="little"))
    _same_values(cupy.asnumpy(y), leaky.leaky_relu(x, -0.5))
    _same_values(cupy.asnumpy(leaky.leaky_relu_backward(cupy.asarray(grad), bits, -0.5)),
                 leaky.leaky_relu_backward(grad, x > 0, -0.5))
    xt = cupy.asarray(x).T  # any layout: bits in C order of the view
    _, bits_t = leaky.leaky_relu_with_mask(xt, -0.5, packed=True)
    np.testing.assert_array_equal(cupy.asnumpy(bits_t),
                                  np.packbits((x.T > 0).ravel(), bitorder="little"))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_torch_cuda_saves_packed_bits(dtype):
    import torch
    x = torch.from_numpy(_data(dtype)).cuda().requires_grad_()
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = leaky.leaky_relu(x, 0.1)
    assert [(t.dtype, t.numel()) for t in saved] == [(torch.uint8, (x.numel() + 7) // 8)]
    y.sum().backward()
    ref = x.detach().clone().requires_grad_()
    torch.nn.functional.leaky_relu(ref, 0.1).sum().backward()
    assert torch.equal(x.grad, ref.grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_cupy_bias_act_matches_the_cpu_kernels(dtype, act):
    import cupy
    x = _data(dtype, (4, 6, 33))
    b = _data(dtype, (6,))
    want = leaky.bias_act(x, b, act=act, alpha=-0.3, gain=1.5, clamp=0.7)
    got = leaky.bias_act(cupy.asarray(x), cupy.asarray(b), act=act, alpha=-0.3, gain=1.5,
                         clamp=0.7)
    assert isinstance(got, cupy.ndarray)
    _same_values(cupy.asnumpy(got), want)


@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_torch_cuda_bias_act_values_and_gradients_match_the_cpu(act):
    torch = pytest.importorskip("torch")
    import leaky.torch
    x = torch.from_numpy(_data(np.float32, (4, 6, 33)))
    b = torch.from_numpy(_data(np.float32, (6,)))
    grad = torch.from_numpy(_data(np.float32, (4, 6, 33))[::-1].copy())
    results = []
    for device in ("cpu", "cuda"):
        xd, bd = (t.to(device).requires_grad_() for t in (x, b))
        y = leaky.torch.bias_act(xd, bd, act=act, clamp=0.7)
        dx, db = torch.autograd.grad(y, (xd, bd), grad.to(device))
        results.append([t.detach().cpu().numpy() for t in (y, dx, db)])
    _same_values(results[1][0], results[0][0])
    _same_values(results[1][1], results[0][1])
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-5, atol=1e-5)
