"""torch.func transforms of leaky's torch activation, each beside
``F.leaky_relu`` / ``torch.nn.LeakyReLU`` run the same way: vmap, grad,
jvp, jacrev and jacfwd alone and composed (issue 17), issue 24's modes in
place and out of place (hessians, vmap of jvp, checkpointing...), the
backward operator under vmap, and functional_call."""

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402

from torch.func import functional_call  # noqa: E402

from helpers import (MODULE_SLOPE, assert_same_signed, needs_cpp_operators,  # noqa: E402
                     ours_fn, ours_module, seeded_x, theirs_fn, theirs_module, torch_x,
                     transform_modes)

needs_operators = needs_cpp_operators()
MODES = transform_modes()


@needs_operators
def test_func_transforms_give_torchs_values():
    from torch.func import grad, jacfwd, jacrev, jvp, vmap
    x = torch_x(torch.float64, 16)
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
def test_func_compositions_as_torch():
    from torch.func import grad, jacfwd, jacrev, jvp, vmap
    batch = torch.randn(4, 12, dtype=torch.float64)
    tangents = torch.randn(4, 12, dtype=torch.float64)
    cases = {
        "vmap(jvp)": lambda f: vmap(lambda p, t: jvp(f, (p,), (t,))[1])(batch, tangents),
        "vmap(grad)": lambda f: vmap(grad(lambda t: f(t).sum()))(batch),
        "jacfwd(jacrev)": lambda f: jacfwd(jacrev(f))(torch_x(torch.float64, 12)),
        "jacrev(jacrev)": lambda f: jacrev(jacrev(f))(torch_x(torch.float64, 12)),
        "vmap(vmap)": lambda f: vmap(vmap(f))(batch.reshape(2, 2, 12)),
        "grad(grad)": lambda f: grad(grad(lambda t: f(t).sum()))(torch.tensor(-2.0,
                                                                 dtype=torch.float64)),
    }
    for name, run in cases.items():
        got, want = run(ours_fn), run(theirs_fn)
        assert torch.equal(got, want), name


# ------------------------------------------------------- issue 24's modes --

@needs_operators
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_gives_torchs_answer(mode, inplace, dtype):
    x = seeded_x(dtype)
    assert_same_signed(MODES[mode](ours_module(inplace), x), MODES[mode](theirs_module(inplace), x))


@needs_operators
@pytest.mark.parametrize("inplace", [False, True])
def test_regression_forward_mode_hessian_is_not_zero(inplace):
    """Issue 24: ``outer_jacobian_strategy="forward-mode"`` gave zeros."""
    x = seeded_x(torch.float64)
    h = MODES["autograd.functional.hessian forward-mode"](ours_module(inplace), x)
    assert h.reshape(10, 10).diagonal().abs().sum() > 0


@needs_operators
@pytest.mark.parametrize("inplace", [False, True])
def test_functional_call_and_gradcheck_with_forward_ad(inplace):
    x = torch.tensor([-2.0, -0.5, -0.1, 0.3, 1.0, 2.5], dtype=torch.float64)  # away from 0
    model = torch.nn.Sequential(torch.nn.Identity(), leaky.torch.LeakyReLU(MODULE_SLOPE, inplace))
    control = torch.nn.Sequential(torch.nn.Identity(), torch.nn.LeakyReLU(MODULE_SLOPE, inplace))
    assert_same_signed(functional_call(model, {}, (x * 1.0,)),
                       functional_call(control, {}, (x * 1.0,)))
    leaf = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: model(t * 1.0), (leaf,), check_forward_ad=True,
                                    check_batched_grad=True, check_batched_forward_grad=True)
