"""leaky.torch: registered operators (opcheck), torch.compile with no graph
breaks, torch.export, torch.func transforms, forward-mode AD, in place under
autograd for any slope, the version counter, every tensor kind, saved-tensor
memory, the nn.Module, and training bit-identical to torch.nn.LeakyReLU."""

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

needs_operators = pytest.mark.skipif(
    torch_backend.LIBRARY.kind != "C++",
    reason="needs the C++ operators (torch.ops.leaky: the operators themselves, TorchScript, "
           "forward-mode AD); this machine computes with torch's own ops")

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
SLOPES = [0.01, 0.2, 1.5, 1.0 / 3.0]


def _bits(t):
    return t.detach().contiguous().view(torch.uint8).numpy() if t.dtype.itemsize == 1 else \
        t.detach().contiguous().view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.dtype.itemsize]).numpy()


def assert_identical(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = torch.isnan(want)
    assert torch.equal(torch.isnan(got), nan)
    np.testing.assert_array_equal(_bits(got[~nan]), _bits(want[~nan]))


def _x(dtype=torch.float32, n=64, requires_grad=False):
    x = torch.linspace(-3, 3, n, dtype=dtype)
    x[n // 2], x[n // 2 + 1] = 0.0, -0.0
    return x.requires_grad_(requires_grad)


def test_import_leaky_alone_imports_no_framework():
    code = ("import sys, numpy, leaky; leaky.leaky_relu(numpy.ones(3)); "
            "print([m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


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
@pytest.mark.parametrize("slope", SLOPES)
def test_operators_match_torch(dtype, slope):
    x = _x(dtype)
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


# --------------------------------------------------------------- autograd --

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_gradients_match_torch_bit_for_bit(dtype, slope):
    ours, theirs = _x(dtype, requires_grad=True), _x(dtype, requires_grad=True)
    upstream = torch.linspace(-1, 2, 64, dtype=dtype)
    y, y_ref = leaky.torch.leaky_relu(ours, slope), F.leaky_relu(theirs, slope)
    assert_identical(y, y_ref)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert_identical(ours.grad, theirs.grad)  # the slope at x == 0, as in torch


@needs_operators
def test_double_backward():
    x = torch.randn(12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: leaky.torch.leaky_relu(t, -0.3), (x,))
    assert torch.autograd.gradgradcheck(lambda t: leaky.torch.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: torch.ops.leaky.leaky_relu(t, 0.2), (x,))


@pytest.mark.parametrize("slope", [0.1, 0.0, -0.5, 2.0])
@pytest.mark.parametrize("how", ["inplace", "out=x"])
def test_in_place_under_autograd_for_any_slope(slope, how):
    base = torch.randn(50, requires_grad=True)
    upstream = torch.randn(50)
    h = base * 1.0  # a non-leaf
    y = leaky.torch.leaky_relu(h, slope, inplace=True) if how == "inplace" else \
        leaky.leaky_relu(h, slope, out=h)
    assert y is h
    (y * upstream).sum().backward()
    want = torch.where(base.detach() > 0, upstream, upstream * torch.tensor(slope))
    assert torch.equal(base.grad, want)
    assert torch.equal(y.detach(), F.leaky_relu(base.detach(), slope))


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


# Regression: in place under autograd was x.copy_(leaky_relu(x)), whose
# backward adds a +0 for the overwritten value, so every -0.0 of torch's
# gradient came out +0.0 (torch's own module_db test_check_inplace failed).
_SIGNED_ZEROS_X = torch.tensor([-1.0, -2.0, 3.0, -0.5, 0.0, -0.0, 2.0, -3.0])
_SIGNED_ZEROS_GRAD = torch.tensor([-1.0, 2.0, -3.0, -4.0, -0.0, 0.0, -0.0, -0.0])


def _in_place_input_gradient(module, how="plain"):
    leaf = _SIGNED_ZEROS_X.clone().requires_grad_(True)
    if how == "checkpoint":
        from torch.utils.checkpoint import checkpoint
        y = checkpoint(lambda t: module(t * 1.0), leaf, use_reentrant=False)
        y.backward(_SIGNED_ZEROS_GRAD)
        return leaf.grad
    if how == "vmap(grad)":
        rows = torch.stack([_SIGNED_ZEROS_X, -_SIGNED_ZEROS_X])
        weights = _SIGNED_ZEROS_GRAD
        return torch.func.vmap(torch.func.grad(lambda t: (module(t * 1.0) * weights).sum()))(rows)
    module(leaf * 1.0).backward(_SIGNED_ZEROS_GRAD)
    return leaf.grad


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0, 2.5])
@pytest.mark.parametrize("how", ["plain", "checkpoint", "vmap(grad)"])
def test_in_place_gradient_keeps_torchs_signed_zeros(slope, how):
    ours = _in_place_input_gradient(leaky.torch.LeakyReLU(slope, inplace=True), how)
    theirs = _in_place_input_gradient(torch.nn.LeakyReLU(slope, inplace=True), how)
    assert_identical(ours, theirs)


@pytest.mark.parametrize("slope", [-0.5, -0.0])
def test_in_place_gradient_for_a_negative_slope_is_the_out_of_place_one(slope):
    """torch refuses these in place; ours must equal its out-of-place gradient."""
    ours = _in_place_input_gradient(leaky.torch.LeakyReLU(slope, inplace=True))
    theirs = _in_place_input_gradient(torch.nn.LeakyReLU(slope, inplace=False))
    assert_identical(ours, theirs)


def test_pytorchs_own_module_inputs_give_the_same_gradient_in_place():
    """torch's module_db inputs for nn.LeakyReLU, as its test_check_inplace
    runs them: in place and out of place give bit-identical gradients."""
    from torch.testing._internal.common_modules import module_db
    info = next(m for m in module_db if m.module_cls is torch.nn.LeakyReLU)
    for sample in info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                          requires_grad=True, training=True):
        args = sample.constructor_input.args
        kwargs = dict(sample.constructor_input.kwargs, inplace=False)
        (x,) = sample.forward_input.args
        grads = []
        for inplace in (False, True):
            leaf = x.detach().clone().requires_grad_()
            module = leaky.torch.LeakyReLU(*args, **dict(kwargs, inplace=inplace))
            y = module(leaf.clone())
            upstream = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(0))
            upstream.view(-1)[::3] = -0.0
            (grad,) = torch.autograd.grad(y, leaf, upstream)
            grads.append(grad)
        assert_identical(grads[1], grads[0])


@needs_operators
def test_in_place_forward_mode_ad_updates_the_tangent_in_place():
    import torch.autograd.forward_ad as fwAD
    primal, tangent = torch.randn(16), torch.randn(16)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal.clone(), tangent.clone())
        leaky.torch.leaky_relu(dual, -0.3, inplace=True)
        got = fwAD.unpack_dual(dual).tangent
    assert_identical(got, torch.where(primal > 0, tangent, tangent * -0.3))


def test_in_place_on_a_leaf_that_requires_grad_gets_torchs_error():
    x = torch.randn(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaky.torch.leaky_relu(x, 0.1, inplace=True)


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


def test_forward_saves_only_the_packed_mask():
    packed = []

    def pack(t):
        packed.append(t)
        return t

    x = torch.randn(1000, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = leaky.torch.leaky_relu(x * 1.0, 0.1)
        packed.clear()  # the multiplication's own saves do not count
        y2 = leaky.torch.leaky_relu(x, 0.1)
    assert len(packed) == 1
    (bits,) = packed
    assert bits.dtype == torch.uint8 and bits.shape == (x.numel() // 8,)
    # one bit per element: 1/32 of the float32 input torch's LeakyReLU saves
    assert bits.element_size() * bits.numel() * 32 == x.element_size() * x.numel()
    y2.sum().backward()
    assert torch.equal(x.grad, torch.where(x > 0, 1.0, 0.1))
    del y


# ------------------------------------------------------------- transforms --

@needs_operators
def test_func_transforms_give_torchs_values():
    from torch.func import grad, jacfwd, jacrev, jvp, vmap
    x = _x(torch.float64, 16)
    ours = lambda t: leaky.torch.leaky_relu(t, 0.1)  # noqa: E731
    theirs = lambda t: F.leaky_relu(t, 0.1)  # noqa: E731
    batch = torch.randn(3, 16, dtype=torch.float64)
    assert torch.equal(vmap(ours)(batch), theirs(batch))
    assert torch.equal(grad(lambda t: ours(t).sum())(x), grad(lambda t: theirs(t).sum())(x))
    assert torch.equal(jacrev(ours)(x), jacrev(theirs)(x))
    assert torch.equal(jacfwd(ours)(x), jacfwd(theirs)(x))
    tangent = torch.randn(16, dtype=torch.float64)
    for got, want in zip(jvp(ours, (x,), (tangent,)), jvp(theirs, (x,), (tangent,))):
        assert torch.equal(got, want)
    assert torch.equal(vmap(grad(lambda t: ours(t).sum()))(batch),
                       vmap(grad(lambda t: theirs(t).sum()))(batch))


@needs_operators
def test_vmap_of_the_backward_operator_with_an_unbatched_mask():
    from torch.func import vmap
    grads = torch.randn(4, 6)
    mask = torch.randn(6) > 0
    got = vmap(lambda g: torch.ops.leaky.leaky_relu_backward(g, mask, 0.1))(grads)
    assert torch.equal(got, torch.where(mask, grads, grads * 0.1))


@needs_operators
def test_forward_mode_ad_dual_tensors():
    import torch.autograd.forward_ad as fwAD
    x = _x(torch.float64, 16)
    tangent = torch.randn(16, dtype=torch.float64)
    results = []
    for f in (lambda t: leaky.torch.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1)):
        with fwAD.dual_level():
            out = fwAD.unpack_dual(f(fwAD.make_dual(x, tangent)))
            results.append((out.primal, out.tangent))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])


def _model(inplace, dtype=torch.float32):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), leaky.torch.LeakyReLU(0.1, inplace=inplace),
                               torch.nn.Linear(16, 1)).to(dtype)


@pytest.mark.parametrize("inplace", [False, True])
def test_compile_fullgraph_no_graph_breaks_and_bit_identical_to_eager(inplace):
    import torch._dynamo
    torch._dynamo.reset()
    inputs = torch.randn(5, 8)
    explained = torch._dynamo.explain(_model(inplace))(inputs)
    assert explained.graph_break_count == 0
    # aot_eager runs the traced graph op by op, so every bit can be compared
    # (inductor would also re-generate the Linear layers' own arithmetic).
    for backend in ("aot_eager", "inductor"):
        eager = _model(inplace)
        compiled = torch.compile(_model(inplace), fullgraph=True, backend=backend)
        out_eager, out_compiled = eager(inputs), compiled(inputs)
        out_eager.sum().backward()
        out_compiled.sum().backward()
        for got, want in [(out_compiled, out_eager)] + [
                (c.grad, e.grad) for c, e in zip(compiled.parameters(), eager.parameters())]:
            if backend == "aot_eager":
                assert torch.equal(got, want)
            else:
                torch.testing.assert_close(got, want)


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_compiled_leaky_relu_is_bit_identical_to_eager(inplace, dtype):
    def f(x):
        h = x * 1.0
        return leaky.torch.leaky_relu(h, 0.1, inplace=inplace) * 2.0

    x_eager, x_compiled = _x(dtype, requires_grad=True), _x(dtype, requires_grad=True)
    upstream = torch.linspace(-1, 2, 64, dtype=dtype)
    y_eager, y_compiled = f(x_eager), torch.compile(f, fullgraph=True)(x_compiled)
    assert_identical(y_compiled, y_eager)
    y_eager.backward(upstream)
    y_compiled.backward(upstream)
    assert_identical(x_compiled.grad, x_eager.grad)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiled_autograd_saves_only_the_packed_mask(backend):
    import torch._dynamo
    torch._dynamo.reset()

    def f(x):
        return leaky.torch.leaky_relu(x * 1.0, 0.1) * 2.0

    x = torch.randn(64, requires_grad=True)
    compiled = torch.compile(f, fullgraph=True, backend=backend)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        out = compiled(x)
    assert [(t.dtype, tuple(t.shape)) for t in saved] == [(torch.uint8, (8,))]
    out.sum().backward()
    assert torch.equal(x.grad, torch.where(x > 0, 2.0, 0.2))


def test_export_works_without_warnings():
    """Exporting records torch's own select: the program deploys without
    leaky (tests/test_deployment.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        program = torch.export.export(_model(False), (torch.randn(5, 8),))
    assert "leaky" not in str(program.graph) and "aten.where" in str(program.graph)
    inputs = torch.randn(5, 8)
    assert torch.equal(program.module()(inputs), _model(False)(inputs))


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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cuda_tensors_match_torch(dtype):
    x = _x(dtype).cuda().requires_grad_()
    ref = _x(dtype).cuda().requires_grad_()
    y, y_ref = leaky.torch.leaky_relu(x, 0.1), F.leaky_relu(ref, 0.1)
    assert torch.equal(y, y_ref)
    y.sum().backward()
    y_ref.sum().backward()
    assert torch.equal(x.grad, ref.grad)
    torch.library.opcheck(torch.ops.leaky.leaky_relu, (x.detach().clone(), 0.1))


# ----------------------------------------------------------------- module --

@pytest.mark.parametrize("args", [(), (0.2,), (0.2, True), (-0.5, False)])
def test_module_is_a_drop_in_for_torch_nn_leaky_relu(args):
    ours, theirs = leaky.torch.LeakyReLU(*args), torch.nn.LeakyReLU(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == [] and list(ours.buffers()) == []
    assert ours.state_dict() == {} == theirs.state_dict()
    x = torch.randn(20)
    for module in (ours, copy.deepcopy(ours), pickle.loads(pickle.dumps(ours)),
                   torch.nn.Sequential(ours)):
        assert torch.equal(module(x.clone()), theirs(x.clone()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_training_an_mlp_ends_with_bit_identical_parameters(dtype):
    def train(activation):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(16, 32), activation,
                                    torch.nn.Linear(32, 32), activation,
                                    torch.nn.Linear(32, 1)).to(dtype)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        generator = torch.Generator().manual_seed(1)
        for _ in range(50):
            inputs = torch.randn(64, 16, generator=generator, dtype=dtype)
            target = torch.randn(64, 1, generator=generator, dtype=dtype)
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(inputs), target).backward()
            optimizer.step()
        return list(model.parameters())

    for ours, theirs in zip(train(leaky.torch.LeakyReLU(0.1)), train(torch.nn.LeakyReLU(0.1))):
        assert torch.equal(ours, theirs)


def test_leaky_relu_on_tensors_compiles_without_warnings():
    """array_api_compat's checks used to warn while Dynamo traced them."""
    import torch._dynamo
    torch._dynamo.reset()
    code = ("import warnings, torch, leaky\n"
            "f = torch.compile(lambda t: leaky.leaky_relu(t, 0.1), fullgraph=True,\n"
            "                  backend='aot_eager')\n"
            "x = torch.randn(5, requires_grad=True)\n"
            "with warnings.catch_warnings():\n"
            "    warnings.simplefilter('error', UserWarning)\n"
            "    f(x).sum().backward()\n"
            "print(torch.equal(x.grad, torch.where(x > 0, 1.0, 0.1)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
    assert "array_api_compat" not in done.stderr, done.stderr[-2000:]


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


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -float("inf"), 1e39])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_bad_slopes_are_refused_on_the_eager_fast_paths(slope, requires_grad):
    x = torch.randn(6, requires_grad=requires_grad)
    for call in (leaky.torch.leaky_relu, leaky.leaky_relu,
                 lambda t, s: leaky.leaky_relu_with_mask(t, s, packed=True)):
        with pytest.raises(ValueError, match="negative_slope"):
            call(x, slope)
