"""Autograd through leaky's torch activation: gradients bit for bit against
torch's, double backward, batched gradients and checkpointing, in place
under autograd for any slope (torch's signed zeros included), saved-tensor
memory (only the packed mask), forward-mode AD, the nn.Module as a drop-in
for torch.nn.LeakyReLU, and training bit-identical to it."""

import copy
import pickle

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

from helpers import (SLOPE, TORCH_SLOPES, assert_identical, assert_same_signed,  # noqa: E402
                     needs_cpp_operators, ours_fn, theirs_fn, torch_float_dtypes, torch_x)

needs_operators = needs_cpp_operators()


# -------------------------------------------------------------- gradients --

@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5, 0.0])
def test_autograd_matches_torch_bit_for_bit(dtype, slope):
    ours, theirs = torch_x(dtype, requires_grad=True), torch_x(dtype, requires_grad=True)
    upstream = torch.linspace(-1, 2, 64, dtype=dtype)
    y = leaky.leaky_relu(ours, slope)
    y_ref = F.leaky_relu(theirs, slope)
    assert torch.equal(y, y_ref)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert torch.equal(ours.grad, theirs.grad)
    assert ours.grad[32] == upstream[32] * torch.tensor(slope, dtype=dtype)  # slope at 0


@pytest.mark.parametrize("dtype", torch_float_dtypes())
@pytest.mark.parametrize("slope", TORCH_SLOPES)
def test_gradients_match_torch_bit_for_bit(dtype, slope):
    ours, theirs = torch_x(dtype, requires_grad=True), torch_x(dtype, requires_grad=True)
    upstream = torch.linspace(-1, 2, 64, dtype=dtype)
    y, y_ref = leaky.torch.leaky_relu(ours, slope), F.leaky_relu(theirs, slope)
    assert_identical(y, y_ref)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert_identical(ours.grad, theirs.grad)  # the slope at x == 0, as in torch


def test_bfloat16_autograd():
    x = torch.randn(33).to(torch.bfloat16).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    leaky.leaky_relu(x, 0.2).sum().backward()
    F.leaky_relu(x_ref, 0.2).sum().backward()
    assert torch.equal(x.grad, x_ref.grad)


def test_with_mask_under_autograd():
    x = torch_x(torch.float32, requires_grad=True)
    y, mask = leaky.leaky_relu_with_mask(x, 0.1)
    assert not mask.requires_grad and mask.dtype == torch.bool
    y.sum().backward()
    assert torch.equal(x.grad, torch.where(mask, 1.0, torch.tensor(0.1)))


def test_gradcheck_and_gradgradcheck_float64():
    x = torch.randn(20, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: leaky.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: leaky.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradcheck(lambda t: leaky.leaky_relu_with_mask(t, -0.3)[0], (x,))


def test_backward_function_is_differentiable():
    grad = torch.randn(8, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([True, False] * 4)
    assert torch.autograd.gradcheck(lambda g: leaky.leaky_relu_backward(g, mask, 0.3), (grad,))


def test_batched_gradients_as_torch():
    """Issue 17: "Batching rule not implemented for aten::detach"."""
    results = []
    for f in (ours_fn, theirs_fn):
        x = torch_x(torch.float64, 12).requires_grad_()
        (jac,) = torch.autograd.grad(f(x), x, torch.eye(12, dtype=x.dtype), is_grads_batched=True)
        results.append(jac)
        away_from_zero = torch.randn(12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        away_from_zero = (away_from_zero + away_from_zero.sign() * 0.1).requires_grad_()
        assert torch.autograd.gradcheck(f, (away_from_zero,), check_batched_grad=True)
        results.append(torch.autograd.functional.jacobian(f, x.detach(), vectorize=True))
    assert_same_signed(results[0], results[2])
    assert_same_signed(results[1], results[3])


def test_checkpoint_recomputes_the_same():
    results = []
    for f in (ours_fn, theirs_fn):
        x = torch_x(torch.float64, 12).requires_grad_()
        y = torch.utils.checkpoint.checkpoint(lambda t: f(t * 2.0) * 3.0, x, use_reentrant=False)
        y.backward(torch.linspace(-1, 1, 12, dtype=x.dtype))
        results.append((y.detach(), x.grad))
    for got, want in zip(*results):
        assert_same_signed(got, want)


# -------------------------------------------------------- double backward --

@needs_operators
def test_double_backward():
    x = torch.randn(12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: leaky.torch.leaky_relu(t, -0.3), (x,))
    assert torch.autograd.gradgradcheck(lambda t: leaky.torch.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: torch.ops.leaky.leaky_relu(t, 0.2), (x,))


@pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++",
                    reason="without the C++ operators, double backward does not reach x: "
                           "torch says the input was not used in the graph")
@pytest.mark.parametrize("op", ["module", "operator"])
def test_double_backward_gives_x_a_positive_zero_as_torch(op):
    f = ours_fn if op == "module" else (lambda t: torch.ops.leaky.leaky_relu(t, SLOPE))
    results = []
    for fn in (f, theirs_fn):
        x = torch_x(torch.float64, 12).requires_grad_()
        upstream = torch.linspace(-1, 1, 12, dtype=x.dtype, requires_grad=True)
        (g,) = torch.autograd.grad(fn(x), x, upstream, create_graph=True)
        gx, gu = torch.autograd.grad(g.sum(), (x, upstream))
        results.append((g, gx, gu))
    for got, want in zip(*results):
        assert_same_signed(got.detach(), want.detach())
    away_from_zero = torch.tensor([-2.0, -0.5, 0.25, 3.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(f, (away_from_zero,), check_batched_grad=True)


# ------------------------------------------------- in place under autograd --

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


def test_in_place_on_a_leaf_that_requires_grad_gets_torchs_error():
    x = torch.randn(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaky.torch.leaky_relu(x, 0.1, inplace=True)


# ------------------------------------------------------ saved tensors --

def test_autograd_saves_only_the_packed_mask():
    saved = []
    x = torch_x(torch.float32, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = leaky.leaky_relu(x, 0.1)
    assert [(t.dtype, t.shape) for t in saved] == [(torch.uint8, ((x.numel() + 7) // 8,))]
    y.sum().backward()
    assert x.grad is not None


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


# ------------------------------------------------------- forward-mode AD --

@needs_operators
def test_forward_mode_ad_dual_tensors():
    import torch.autograd.forward_ad as fwAD
    x = torch_x(torch.float64, 16)
    tangent = torch.randn(16, dtype=torch.float64)
    results = []
    for f in (lambda t: leaky.torch.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1)):
        with fwAD.dual_level():
            out = fwAD.unpack_dual(f(fwAD.make_dual(x, tangent)))
            results.append((out.primal, out.tangent))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])


@needs_operators
def test_in_place_forward_mode_ad_updates_the_tangent_in_place():
    import torch.autograd.forward_ad as fwAD
    primal, tangent = torch.randn(16), torch.randn(16)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal.clone(), tangent.clone())
        leaky.torch.leaky_relu(dual, -0.3, inplace=True)
        got = fwAD.unpack_dual(dual).tangent
    assert_identical(got, torch.where(primal > 0, tangent, tangent * -0.3))


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


def test_layer_on_tensors():
    layer = leaky.LeakyReLU(0.2)
    x = torch_x(torch.float32)
    assert torch.equal(layer(x), F.leaky_relu(x, 0.2))
    g = torch.ones(64)
    assert torch.equal(layer.backward(g), torch.ops.aten.leaky_relu_backward(g, x, 0.2, False))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_torchs_module_info_samples_for_leaky_relu(inplace, dtype):
    """The samples of torch's ModuleInfo for nn.LeakyReLU (common_modules),
    through leaky's module and torch's: outputs, gradients and second
    derivatives bit for bit, on the inputs as given and transposed."""
    from torch.testing._internal.common_modules import module_db
    (info,) = [m for m in module_db if m.module_cls is torch.nn.LeakyReLU]
    samples = info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=True,
                                      training=True)
    for sample in samples:
        (x,) = sample.forward_input.args
        args = sample.constructor_input.args
        for view in (x, x.mT if x.dim() >= 2 else x):
            results = []
            for cls in (leaky.torch.LeakyReLU, torch.nn.LeakyReLU):
                leaf = view.detach().clone().requires_grad_()
                y = cls(*args, inplace=inplace)(leaf * 1.0)
                (g,) = torch.autograd.grad(y, leaf, torch.ones_like(y) * 0.5, create_graph=True)
                results.append((y, g))
                if torch_backend.LIBRARY.kind == "C++":  # else x is not in g's graph
                    results[-1] += torch.autograd.grad((g * g).sum(), leaf, allow_unused=True,
                                                       materialize_grads=True)
            assert_same_signed(*(tuple(t.detach() for t in r) for r in results))


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
