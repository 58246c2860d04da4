"""Every torch mode gives torch's answer (issue 17), each beside
``torch.nn.LeakyReLU`` / ``F.leaky_relu`` run the same way as the control:
batched gradients, double backward, ``torch.func`` compositions,
checkpointing, FakeTensor and meta, dispatch modes, TorchScript (trace and
script, saved and loaded in a fresh process), and inductor's fused code."""

import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

needs_operators = pytest.mark.skipif(
    torch_backend.LIBRARY.kind != "C++",
    reason="needs the C++ operators (torch.ops.leaky: the operators themselves, TorchScript, "
           "forward-mode AD); this machine computes with torch's own ops")

SLOPE = 0.1


def ours(t, slope=SLOPE):
    return leaky.torch.leaky_relu(t, slope)


def theirs(t, slope=SLOPE):
    return F.leaky_relu(t, slope)


def _x(n=12, dtype=torch.float64):
    x = torch.linspace(-3, 3, n, dtype=dtype)
    x[n // 2], x[n // 2 + 1] = 0.0, -0.0
    return x


def _same(a, b):
    """Equal values with the same sign bits (so +0 and -0 differ)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    assert torch.equal(a, b) and torch.equal(torch.signbit(a), torch.signbit(b))


# ---------------------------------------------------------------- autograd --

def test_batched_gradients_as_torch():
    """Issue 17: "Batching rule not implemented for aten::detach"."""
    results = []
    for f in (ours, theirs):
        x = _x().requires_grad_()
        (jac,) = torch.autograd.grad(f(x), x, torch.eye(12, dtype=x.dtype), is_grads_batched=True)
        results.append(jac)
        away_from_zero = torch.randn(12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        away_from_zero = (away_from_zero + away_from_zero.sign() * 0.1).requires_grad_()
        assert torch.autograd.gradcheck(f, (away_from_zero,), check_batched_grad=True)
        results.append(torch.autograd.functional.jacobian(f, x.detach(), vectorize=True))
    _same(results[0], results[2])
    _same(results[1], results[3])


@pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++",
                    reason="without the C++ operators, double backward does not reach x: "
                           "torch says the input was not used in the graph")
@pytest.mark.parametrize("op", ["module", "operator"])
def test_double_backward_gives_x_a_positive_zero_as_torch(op):
    f = ours if op == "module" else (lambda t: torch.ops.leaky.leaky_relu(t, SLOPE))
    results = []
    for fn in (f, theirs):
        x = _x().requires_grad_()
        upstream = torch.linspace(-1, 1, 12, dtype=x.dtype, requires_grad=True)
        (g,) = torch.autograd.grad(fn(x), x, upstream, create_graph=True)
        gx, gu = torch.autograd.grad(g.sum(), (x, upstream))
        results.append((g, gx, gu))
    for got, want in zip(*results):
        _same(got.detach(), want.detach())
    away_from_zero = torch.tensor([-2.0, -0.5, 0.25, 3.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(f, (away_from_zero,), check_batched_grad=True)


def test_checkpoint_recomputes_the_same():
    results = []
    for f in (ours, theirs):
        x = _x().requires_grad_()
        y = torch.utils.checkpoint.checkpoint(lambda t: f(t * 2.0) * 3.0, x, use_reentrant=False)
        y.backward(torch.linspace(-1, 1, 12, dtype=x.dtype))
        results.append((y.detach(), x.grad))
    for got, want in zip(*results):
        _same(got, want)


# -------------------------------------------------------------- torch.func --

@needs_operators
def test_func_compositions_as_torch():
    from torch.func import grad, jacfwd, jacrev, jvp, vmap
    batch = torch.randn(4, 12, dtype=torch.float64)
    tangents = torch.randn(4, 12, dtype=torch.float64)
    cases = {
        "vmap(jvp)": lambda f: vmap(lambda p, t: jvp(f, (p,), (t,))[1])(batch, tangents),
        "vmap(grad)": lambda f: vmap(grad(lambda t: f(t).sum()))(batch),
        "jacfwd(jacrev)": lambda f: jacfwd(jacrev(f))(_x()),
        "jacrev(jacrev)": lambda f: jacrev(jacrev(f))(_x()),
        "vmap(vmap)": lambda f: vmap(vmap(f))(batch.reshape(2, 2, 12)),
        "grad(grad)": lambda f: grad(grad(lambda t: f(t).sum()))(torch.tensor(-2.0,
                                                                 dtype=torch.float64)),
    }
    for name, run in cases.items():
        got, want = run(ours), run(theirs)
        assert torch.equal(got, want), name


# ----------------------------------------------------------- fake and meta --

@needs_operators
def test_fake_tensors_and_meta_give_shapes_and_dtypes():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        x = torch.empty(3, 5, dtype=torch.bfloat16)
        y, bits = torch.ops.leaky.leaky_relu_packed(x, SLOPE)
        assert (y.shape, y.dtype, bits.shape, bits.dtype) == \
            ((3, 5), torch.bfloat16, (2,), torch.uint8)
        assert ours(x).shape == (3, 5)
    meta = torch.empty(4, 6, device="meta", dtype=torch.int16)
    y = torch.ops.leaky.leaky_relu(meta, SLOPE)
    assert y.device.type == "meta" and y.dtype == torch.float32 == torch.sin(meta).dtype


@needs_operators
def test_dispatch_mode_sees_leakys_operators():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen.append(str(func))
            return func(*args, **(kwargs or {}))

    x = _x().requires_grad_()
    with Record() as record:
        y = ours(x)
        y.sum().backward()
    forward = {"C++": "leaky.leaky_relu_packed.default", "Python": "leaky.leaky_relu.default"}
    assert forward[torch_backend.LIBRARY.kind] in record.seen, record.seen
    assert "leaky.leaky_relu_backward.default" in record.seen
    _same(y.detach(), theirs(_x()))


# ------------------------------------------------------------- TorchScript --

def test_trace_follows_a_new_input():
    """Issue 17: the traced module returned the example's output for any input."""
    for act in (leaky.torch.LeakyReLU(SLOPE), torch.nn.LeakyReLU(SLOPE)):
        traced = torch.jit.trace(act, (torch.tensor([-1.0, 2.0]),))
        assert torch.equal(traced(torch.tensor([3.0, -4.0])), torch.tensor([3.0, -0.4]))


def test_trace_keeps_an_in_place_activation():
    """Issue 17: traced under no_grad, the in-place activation vanished."""
    for act in (leaky.torch.LeakyReLU(0.2, inplace=True), torch.nn.LeakyReLU(0.2, inplace=True)):
        model = torch.nn.Sequential(torch.nn.Identity(), act)
        with torch.no_grad():
            traced = torch.jit.trace(model, (torch.tensor([-1.0, 2.0]),))
        assert torch.equal(traced(torch.tensor([-1.0, 2.0])), torch.tensor([-0.2, 2.0]))


def test_trace_of_a_model_with_parameters_checks_and_trains():
    """Issue 17: "Graphs differed across invocations"."""
    for act in (leaky.torch.LeakyReLU(SLOPE), torch.nn.LeakyReLU(SLOPE)):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), act, torch.nn.Linear(8, 1))
        x = torch.randn(16, 4)
        traced = torch.jit.trace(model, (x,), check_inputs=[(torch.randn(3, 4),)])
        assert torch.equal(traced(x), model(x))
        traced(x).sum().backward()
        assert all(p.grad is not None for p in traced.parameters())


@needs_operators
def test_script_of_module_and_function():
    """Issue 17: "__float__ cannot be used as a value"."""
    for act in (leaky.torch.LeakyReLU(SLOPE), torch.nn.LeakyReLU(SLOPE),
                leaky.torch.LeakyReLU(SLOPE, inplace=True)):
        scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Identity(), act))
        x = _x(dtype=torch.float32)
        _same(scripted(x.clone()), theirs(x))
    scripted_fn = torch.jit.script(leaky.torch.leaky_relu)
    _same(scripted_fn(_x(), 0.3, False), theirs(_x(), 0.3))
    assert "leaky::leaky_relu" in str(scripted_fn.graph)


LOAD_SCRIPT = textwrap.dedent("""
    import sys, torch
    import leaky.torch
    x = torch.tensor([-2.0, -0.0, 0.0, 3.0])
    for path in sys.argv[1:]:
        module = torch.jit.load(path)
        print(path.rsplit("/", 1)[-1], module(x.clone()).tolist())
""")


@needs_operators
def test_saved_torchscript_loads_in_a_fresh_process(tmp_path):
    x = torch.tensor([-2.0, 1.0])
    paths = []
    for name, act in (("leaky", leaky.torch.LeakyReLU(0.5)), ("torch", torch.nn.LeakyReLU(0.5))):
        for how in ("script", "trace"):
            model = torch.nn.Sequential(torch.nn.Identity(), act)
            compiled = torch.jit.script(model) if how == "script" else torch.jit.trace(model, (x,))
            path = str(tmp_path / f"{name}-{how}.pt")
            compiled.save(path)
            paths.append(path)
    done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, *paths], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.split("\n")
    want = str([-1.0, -0.0, 0.0, 3.0])
    assert sorted(lines[:4]) == sorted(f"{name}-{how}.pt {want}" for name in ("leaky", "torch")
                                       for how in ("script", "trace")), done.stdout


# ---------------------------------------------------------------- inductor --

def _compiled_code(activation, inplace_safe=True):
    from torch._inductor.utils import run_and_get_code
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), activation, torch.nn.Linear(16, 1))
    compiled = torch.compile(model, fullgraph=True, backend="inductor")
    x = torch.randn(5, 8)

    def step():
        out = compiled(x)
        out.sum().backward()
        return out
    _, code = run_and_get_code(step)
    return "\n".join(code)


@pytest.mark.parametrize("inplace", [False, True])
def test_inductor_fuses_forward_and_backward_with_no_extern_leaky_call(inplace):
    import re
    ours_code = _compiled_code(leaky.torch.LeakyReLU(SLOPE, inplace=inplace))
    theirs_code = _compiled_code(torch.nn.LeakyReLU(SLOPE, inplace=inplace))
    assert "torch.ops.leaky" not in ours_code and "leaky.leaky_relu" not in ours_code

    def kernels(code):
        return set(re.findall(r"cpp_fused_\w+", code))
    assert len(kernels(ours_code)) == len(kernels(theirs_code)), (kernels(ours_code),
                                                                  kernels(theirs_code))
    # the forward's select and packing are one kernel; so are the backward's
    # unpacking and select
    assert any("where" in k and "gt" in k for k in kernels(ours_code))


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
