"""PyTorch: zero-copy CPU path, autograd that saves only the mask,
torch-native dtypes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402


def _x(dtype, n=64, requires_grad=False):
    x = torch.linspace(-3, 3, n, dtype=dtype)
    x[n // 2] = 0.0  # x == 0 exactly, where the gradient convention matters
    x[n // 2 + 1] = -0.0
    return x.requires_grad_(requires_grad)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5, 0.0])
def test_autograd_matches_torch_bit_for_bit(dtype, slope):
    ours, theirs = _x(dtype, requires_grad=True), _x(dtype, requires_grad=True)
    upstream = torch.linspace(-1, 2, 64, dtype=dtype)
    y = leaky.leaky_relu(ours, slope)
    y_ref = F.leaky_relu(theirs, slope)
    assert torch.equal(y, y_ref)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert torch.equal(ours.grad, theirs.grad)
    assert ours.grad[32] == upstream[32] * torch.tensor(slope, dtype=dtype)  # slope at 0


def test_gradcheck_and_gradgradcheck_float64():
    x = torch.randn(20, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: leaky.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: leaky.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradcheck(lambda t: leaky.leaky_relu_with_mask(t, -0.3)[0], (x,))


def test_autograd_saves_only_the_packed_mask():
    saved = []
    x = _x(torch.float32, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = leaky.leaky_relu(x, 0.1)
    assert [(t.dtype, t.shape) for t in saved] == [(torch.uint8, ((x.numel() + 7) // 8,))]
    y.sum().backward()
    assert x.grad is not None


def test_with_mask_under_autograd():
    x = _x(torch.float32, requires_grad=True)
    y, mask = leaky.leaky_relu_with_mask(x, 0.1)
    assert not mask.requires_grad and mask.dtype == torch.bool
    y.sum().backward()
    assert torch.equal(x.grad, torch.where(mask, 1.0, torch.tensor(0.1)))


def test_backward_function_is_differentiable():
    grad = torch.randn(8, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([True, False] * 4)
    assert torch.autograd.gradcheck(lambda g: leaky.leaky_relu_backward(g, mask, 0.3), (grad,))


def test_cpu_path_is_zero_copy_and_layout_preserving():
    x = torch.randn(6, 8)[:, ::2]  # non-contiguous view
    y = leaky.leaky_relu(x, 0.1)
    assert torch.equal(y, F.leaky_relu(x, 0.1))
    channels_last = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    y = leaky.leaky_relu(channels_last, 0.1)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, F.leaky_relu(channels_last, 0.1))


def test_out_tensor_in_place_and_non_contiguous():
    x = torch.linspace(-2, 2, 9)
    want = F.leaky_relu(x, 0.5)
    assert leaky.leaky_relu(x, 0.5, out=x) is x
    assert torch.equal(x, want)
    big = torch.zeros(18)
    out = big[::2]
    leaky.leaky_relu(torch.linspace(-2, 2, 9), 0.5, out=out)
    assert torch.equal(out, want) and not big[1::2].any()
    y_out, m_out = torch.empty(9), torch.empty(9, dtype=torch.bool)
    y, m = leaky.leaky_relu_with_mask(torch.linspace(-2, 2, 9), 0.5, out=(y_out, m_out))
    assert y is y_out and m is m_out


def test_out_tensor_checks():
    x = torch.ones(3)
    with pytest.raises(TypeError, match="torch.Tensor"):
        leaky.leaky_relu(x, out=np.empty(3, dtype=np.float32))
    with pytest.raises(TypeError, match="dtype"):
        leaky.leaky_relu(x, out=torch.empty(3, dtype=torch.float64))
    # As torch's own out= ops (torch.add(x, 1, out=...)) do:
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        leaky.leaky_relu(x, out=torch.empty(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        leaky.leaky_relu(torch.ones(3, requires_grad=True), out=torch.empty(3))


@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5])
def test_bfloat16_uses_torch_semantics(slope):
    x = torch.randn(257).to(torch.bfloat16)
    x[:4] = torch.tensor([0.0, -0.0, float("nan"), float("-inf")])
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y.view(torch.int16), F.leaky_relu(x, slope).view(torch.int16))
    grad = torch.randn(257).to(torch.bfloat16)
    want = torch.ops.aten.leaky_relu_backward(grad, x, slope, False)
    assert torch.equal(leaky.leaky_relu_backward(grad, mask, slope).view(torch.int16),
                       want.view(torch.int16))


def test_bfloat16_autograd():
    x = torch.randn(33).to(torch.bfloat16).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    leaky.leaky_relu(x, 0.2).sum().backward()
    F.leaky_relu(x_ref, 0.2).sum().backward()
    assert torch.equal(x.grad, x_ref.grad)


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int8, torch.int16,
                                   torch.int32, torch.int64])
def test_integer_tensor_promotes_like_torch_sin(dtype):
    x = torch.tensor([1, 0, 1] if dtype in (torch.bool, torch.uint8) else [-2, 0, 3], dtype=dtype)
    y = leaky.leaky_relu(x, 0.5)
    assert y.dtype == torch.sin(x).dtype == torch.float32
    assert torch.equal(y, torch.nn.functional.leaky_relu(x.to(torch.float32), 0.5))


def test_leaky_torch_refuses_a_non_tensor_as_f_leaky_relu_does():
    """Issue 16: an AttributeError about 'is_nested' came out instead."""
    import leaky.torch
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.nn.functional.leaky_relu(np.array([-1.0]))
    with pytest.raises(TypeError, match=r"must be torch\.Tensor, not numpy\.ndarray"):
        leaky.torch.leaky_relu(np.array([-1.0]))
    with pytest.raises(TypeError, match="must be torch.Tensor"):
        leaky.torch.LeakyReLU(0.1)([-1.0])


def test_layer_on_tensors():
    layer = leaky.LeakyReLU(0.2)
    x = _x(torch.float32)
    assert torch.equal(layer(x), F.leaky_relu(x, 0.2))
    g = torch.ones(64)
    assert torch.equal(layer.backward(g), torch.ops.aten.leaky_relu_backward(g, x, 0.2, False))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_plain_cpu_forward_matches_torch_in_values_and_layout(dtype, layout):
    x = torch.randn(6, 8, dtype=dtype)
    x[0, :4] = torch.tensor([0.0, -0.0, float("nan"), float("-inf")], dtype=dtype)
    x = {"contiguous": x, "transposed": x.T, "strided": x[:, ::2]}[layout]
    y, y_ref = leaky.leaky_relu(x, 0.1), F.leaky_relu(x, 0.1)
    assert type(y) is torch.Tensor and y.dtype == dtype and y.shape == y_ref.shape
    assert y.stride() == x.contiguous().stride() if layout == "strided" else y.stride() == x.stride()
    bits = lambda t: np.ascontiguousarray(t.numpy()).view(np.uint8)  # noqa: E731
    np.testing.assert_array_equal(bits(y), bits(y_ref))
    assert not np.shares_memory(y.numpy(), x.numpy())
