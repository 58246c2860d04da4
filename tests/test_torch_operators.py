"""leaky's registered torch operators and the eager calls that reach them:
values bit for bit against torch's (every dtype, integer promotion), opcheck,
the contract's dtype and slope rules, any memory layout, ``out=`` and the
version counter, every tensor kind (refused by name where unsupported),
resizable outputs, copy-on-write, bad slopes, and CUDA tensors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

from helpers import (TORCH_SLOPES, assert_identical, needs_cpp_operators,  # noqa: E402
                     torch_float_dtypes, torch_x)

needs_operators = needs_cpp_operators()
DTYPES = torch_float_dtypes()


# -------------------------------------------------------------- operators --

@needs_operators
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_every_operator(dtype):
    x = torch.randn(4, 5, dtype=dtype)
    cases = [
        (torch.ops.leaky.leaky_relu, (x.clone().requires_grad_(), 0.1)),
        (torch.ops.leaky.leaky_relu_with_mask, (x.clone().requires_grad_(), -0.5)),
        (torch.ops.leaky.leaky_relu_packed, (x.clone().requires_grad_(), -0.5)),
        (torch.ops.leaky.leaky_relu_backward,
         (torch.randn(4, 5, dtype=dtype, requires_grad=True), x > 0, 0.1)),
        (torch.ops.leaky.leaky_relu_, (x.clone(), 0.1)),
    ]
    for op, args in cases:
        torch.library.opcheck(op, args)


@needs_operators
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", TORCH_SLOPES)
def test_operators_match_torch(dtype, slope):
    x = torch_x(dtype)
    assert_identical(torch.ops.leaky.leaky_relu(x, slope), F.leaky_relu(x, slope))
    y, mask = torch.ops.leaky.leaky_relu_with_mask(x, slope)
    assert_identical(y, F.leaky_relu(x, slope))
    assert torch.equal(mask, x > 0)
    grad = torch.linspace(-1, 2, 64, dtype=dtype)
    assert_identical(torch.ops.leaky.leaky_relu_backward(grad, mask, slope),
                     torch.ops.aten.leaky_relu_backward(grad, x, slope, False))
    inplace = x.clone()
    torch.ops.leaky.leaky_relu_(inplace, slope)
    assert_identical(inplace, F.leaky_relu(x, slope))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pytorchs_own_opinfo_samples(dtype):
    """The sample inputs of PyTorch's OpInfo for nn.functional.leaky_relu."""
    pytest.importorskip("expecttest")
    from torch.testing._internal.common_methods_invocations import op_db
    (opinfo,) = [op for op in op_db if op.name == "nn.functional.leaky_relu"]
    samples = list(opinfo.sample_inputs("cpu", dtype, requires_grad=True))
    assert samples
    for sample in samples:
        x = sample.input
        want = F.leaky_relu(x, *sample.args, **sample.kwargs)
        got = leaky.torch.leaky_relu(x, *sample.args, **sample.kwargs)
        assert_identical(got, want)
        assert_identical(leaky.leaky_relu(x, *sample.args, **sample.kwargs), want)
        upstream = torch.randn_like(want)
        (grad_want,) = torch.autograd.grad(want, x, upstream)
        (grad_got,) = torch.autograd.grad(got, x, upstream)
        assert_identical(grad_got, grad_want)


# ----------------------------------------------------------------- dtypes --

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


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int8, torch.int16,
                                   torch.int32, torch.int64])
def test_integer_tensor_promotes_like_torch_sin(dtype):
    x = torch.tensor([1, 0, 1] if dtype in (torch.bool, torch.uint8) else [-2, 0, 3], dtype=dtype)
    y = leaky.leaky_relu(x, 0.5)
    assert y.dtype == torch.sin(x).dtype == torch.float32
    assert torch.equal(y, torch.nn.functional.leaky_relu(x.to(torch.float32), 0.5))


INPUT_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                torch.float16, torch.bfloat16, torch.float32, torch.float64,
                torch.complex64]


@pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++", reason="needs the C++ operators")
@pytest.mark.parametrize("dtype", INPUT_DTYPES, ids=str)
@pytest.mark.parametrize("slope", [0.5, 1e39, float("nan"), float("inf")])
def test_operators_follow_the_contracts_dtype_and_slope_rules(dtype, slope):
    """The operators (C++ or Python) give the dtype ``_contract`` gives, and
    refuse what it refuses with the same kind of error."""
    from leaky._backends.torch import _aten
    x = torch.tensor([1, 0, 1], dtype=torch.float32).to(dtype)
    try:
        want = _aten.output_dtype(x, leaky._contract.validate_slope(slope))
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            torch.ops.leaky.leaky_relu(x, slope)
        with pytest.raises(type(exc)):
            torch.ops.leaky.leaky_relu_packed(x, slope)
        return
    assert torch.ops.leaky.leaky_relu(x, slope).dtype == want
    assert torch.ops.leaky.leaky_relu_with_mask(x, slope)[0].dtype == want
    if want != dtype:
        with pytest.raises(TypeError, match="in place needs a floating tensor"):
            torch.ops.leaky.leaky_relu_(x.clone(), slope)


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -float("inf"), 1e39])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_bad_slopes_are_refused_on_the_eager_fast_paths(slope, requires_grad):
    x = torch.randn(6, requires_grad=requires_grad)
    for call in (leaky.torch.leaky_relu, leaky.leaky_relu,
                 lambda t, s: leaky.leaky_relu_with_mask(t, s, packed=True)):
        with pytest.raises(ValueError, match="negative_slope"):
            call(x, slope)


# ---------------------------------------------------------------- layouts --

def test_cpu_path_is_zero_copy_and_layout_preserving():
    x = torch.randn(6, 8)[:, ::2]  # non-contiguous view
    y = leaky.leaky_relu(x, 0.1)
    assert torch.equal(y, F.leaky_relu(x, 0.1))
    channels_last = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    y = leaky.leaky_relu(channels_last, 0.1)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, F.leaky_relu(channels_last, 0.1))


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


@st.composite
def _laid_out(draw):
    """A float32 tensor of 1 to 4 dimensions in any memory order of its
    dimensions (channels-last among them), sometimes sliced (not dense)."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    order = draw(st.permutations(range(len(shape))))
    seed = draw(st.integers(0, 2**16))
    stored = torch.randn([shape[d] for d in order], generator=torch.Generator().manual_seed(seed))
    stored.view(-1)[::3] = 0.0  # zeros of both signs, where the select is decided
    stored.view(-1)[1::5] = -0.0
    x = stored.permute(sorted(range(len(order)), key=order.__getitem__))
    if draw(st.booleans()) and x.dim() > 1:
        x = x[:, ::2]
    return x


def _gradients(function, x, grad, inplace):
    """y, x's gradient, and both second derivatives (x's and the upstream
    gradient's) of one forward+backward through ``function``."""
    leaf = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
    upstream = grad.detach().clone().requires_grad_()
    source = leaf * 1.0 if inplace else leaf  # in place needs a non-leaf
    y = function(source, 0.2)
    (grad_x,) = torch.autograd.grad(y, leaf, upstream, create_graph=True)
    second = torch.autograd.grad((grad_x * grad_x.detach()).sum(), (leaf, upstream),
                                 allow_unused=True, materialize_grads=True)
    return y.detach(), grad_x.detach(), *second


# Regression: leaky's saved bits were packed in C order, so a channels-last
# (or any permuted) input was copied into C order and back, forward and
# backward: ten times torch's time at 32x64x32x32.  They are packed in the
# input's memory order now; these must still be torch's values, bit for bit.
@needs_operators
@settings(max_examples=40, deadline=None)
@given(x=_laid_out(), inplace=st.booleans())
def test_any_memory_layout_gives_torchs_values_and_gradients(x, inplace):
    grad = torch.randn_like(x)
    ours = _gradients(lambda t, s: leaky.torch.leaky_relu(t, s, inplace=inplace), x, grad, inplace)
    theirs = _gradients(lambda t, s: F.leaky_relu(t, s, inplace=inplace), x, grad, inplace)
    for got, want in zip(ours, theirs):
        assert_identical(got, want)
    primal, tangent = torch.func.jvp(lambda t: leaky.torch.leaky_relu(t, 0.2), (x,), (grad,))
    assert_identical(tangent, torch.func.jvp(lambda t: F.leaky_relu(t, 0.2), (x,), (grad,))[1])


@pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++",
                    reason="torch's own ops pack their bits with aten ops (copies)")
@pytest.mark.parametrize("inplace", [False, True])
def test_regression_channels_last_runs_without_copies(inplace):
    """No layout copy, and a channels-last gradient; in place under
    autograd writes x once (the out-of-place operator's result, copied in)."""
    x = torch.randn(4, 8, 6, 6).to(memory_format=torch.channels_last)
    leaf = x.clone(memory_format=torch.channels_last).requires_grad_()
    grad = torch.randn_like(x)
    source = leaf.clone() if inplace else leaf  # a non-leaf; its backward copies nothing
    with torch.profiler.profile() as profile:
        (grad_x,) = torch.autograd.grad(leaky.torch.leaky_relu(source, 0.2, inplace=inplace),
                                        leaf, grad)
    copies = [event.name for event in profile.events()
              if event.name in ("aten::copy_", "aten::clone", "aten::contiguous")]
    assert copies == (["aten::copy_"] if inplace else [])
    assert grad_x.is_contiguous(memory_format=torch.channels_last)


# ------------------------------------------------- out= and the version --

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


def test_regression_in_place_write_bumps_the_version_counter():
    a = torch.tensor([-1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, -4.0])
    z = (a * b).sum()
    version = b._version
    leaky.leaky_relu(b, 0.1, out=b)
    assert b._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_out_of_another_tensor_while_autograd_records_raises():
    with pytest.raises(RuntimeError, match="out=.* don't support automatic differentiation"):
        leaky.leaky_relu(torch.randn(3, requires_grad=True), 0.1, out=torch.empty(3))
    out = torch.empty(3)
    version = out._version
    leaky.leaky_relu(torch.tensor([-1.0, 0.0, 2.0]), 0.5, out=out)
    assert out._version > version and torch.equal(out, torch.tensor([-0.5, 0.0, 2.0]))


# ------------------------------------------------------------ tensor kinds --

def _every_output(x, grad):
    """name -> each tensor leaky's torch operators and functions return for x."""
    y, mask = torch.ops.leaky.leaky_relu_with_mask(x, 0.1)
    packed_y, bits = torch.ops.leaky.leaky_relu_packed(x, 0.1)
    leaf = x.detach().clone().requires_grad_()
    recorded = leaky.torch.leaky_relu(leaf, 0.1)
    (grad_x,) = torch.autograd.grad(recorded, leaf, grad)
    return {"leaky_relu": torch.ops.leaky.leaky_relu(x, 0.1), "with_mask y": y,
            "with_mask mask": mask, "packed y": packed_y, "packed bits": bits,
            "backward from mask": torch.ops.leaky.leaky_relu_backward(grad, mask, 0.1),
            "backward from bits": torch.ops.leaky.leaky_relu_backward(grad, bits, 0.1),
            "leaky.torch.leaky_relu": leaky.torch.leaky_relu(x, 0.1),
            "recorded for autograd": recorded, "its gradient": grad_x,
            "leaky.leaky_relu": leaky.leaky_relu(x, 0.1)}


# Regressions: at 1 << 20 float32 elements (4 MiB) the C++ operators once
# allocated outputs apart from torch's allocator (for huge pages), and the
# operators, when they were Python, wrapped NumPy arrays at every size, in
# storages torch cannot resize; they also took NumPy views of the inputs,
# which makes torch pin the caller's own storage.
@needs_operators
@pytest.mark.parametrize("n", [64, 1 << 20])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_regression_outputs_and_inputs_stay_resizable_as_torchs_do(n, dtype):
    x, grad = torch.randn(n, dtype=dtype), torch.randn(n, dtype=dtype)
    assert F.leaky_relu(x, 0.1).untyped_storage().resizable()  # the control
    for name, t in _every_output(x, grad).items():
        assert t.untyped_storage().resizable(), name
        values = t.detach().clone()
        t.detach().resize_(2 * n)  # as a torch op with out=t would resize it
        assert torch.equal(t.detach()[:values.numel()], values), name
    for name, t in (("x", x), ("grad_output", grad)):
        assert t.untyped_storage().resizable(), name


def test_negative_and_conjugate_bit_views():
    z = torch.complex(torch.randn(10), torch.randn(10))
    view = z.conj().imag
    assert view.is_neg()
    assert torch.equal(leaky.torch.leaky_relu(view, 0.1), F.leaky_relu(view.resolve_neg(), 0.1))
    assert torch.equal(leaky.leaky_relu(view, 0.1), F.leaky_relu(view.resolve_neg(), 0.1))
    want = F.leaky_relu(view.resolve_neg(), 0.1)
    leaky.torch.leaky_relu(view, 0.1, inplace=True)
    assert torch.equal(view, want)


def test_copy_on_write_tensors_are_not_written_through():
    original = torch.tensor([-2.0, 3.0])
    lazy = torch._lazy_clone(original)
    leaky.torch.leaky_relu(lazy, 0.5, inplace=True)
    assert torch.equal(lazy, torch.tensor([-1.0, 3.0]))
    assert torch.equal(original, torch.tensor([-2.0, 3.0]))
    assert torch.equal(leaky.torch.leaky_relu(torch._lazy_clone(original), 0.5),
                       torch.tensor([-1.0, 3.0]))


@pytest.mark.filterwarnings("ignore::UserWarning")  # prototype/beta/deprecated kinds
@pytest.mark.parametrize("make, pattern", [
    (lambda: torch.randn(4).to_sparse(), "layout torch.sparse_coo"),
    (lambda: torch.randn(4, 4).to_sparse_csr(), "layout torch.sparse_csr"),
    (lambda: torch.nested.nested_tensor([torch.randn(2), torch.randn(3)]), "nested"),
    (lambda: torch.quantize_per_tensor(torch.randn(4), 0.1, 0, torch.qint8), "quantized"),
    (lambda: torch.randn(4, dtype=torch.complex64), "complex64"),
])
def test_unsupported_tensor_kinds_are_refused_by_name(make, pattern):
    for call in (lambda t: leaky.torch.leaky_relu(t), lambda t: leaky.leaky_relu(t),
                 lambda t: leaky.leaky_relu_with_mask(t)):
        with pytest.raises(TypeError, match=pattern):
            call(make())


def test_leaky_torch_refuses_a_non_tensor_as_f_leaky_relu_does():
    """Issue 16: an AttributeError about 'is_nested' came out instead."""
    import leaky.torch
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.nn.functional.leaky_relu(np.array([-1.0]))
    with pytest.raises(TypeError, match=r"must be torch\.Tensor, not numpy\.ndarray"):
        leaky.torch.leaky_relu(np.array([-1.0]))
    with pytest.raises(TypeError, match="must be torch.Tensor"):
        leaky.torch.LeakyReLU(0.1)([-1.0])


# ------------------------------------------------------------------- CUDA --

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cuda_tensors_match_torch(dtype):
    x = torch_x(dtype).cuda().requires_grad_()
    ref = torch_x(dtype).cuda().requires_grad_()
    y, y_ref = leaky.torch.leaky_relu(x, 0.1), F.leaky_relu(ref, 0.1)
    assert torch.equal(y, y_ref)
    y.sum().backward()
    y_ref.sum().backward()
    assert torch.equal(x.grad, ref.grad)
    torch.library.opcheck(torch.ops.leaky.leaky_relu, (x.detach().clone(), 0.1))
