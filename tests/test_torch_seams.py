"""Issue 24's reproductions, each beside torch's own op run the same way:
every mode gives torch's answer, in place and out of place, float32 and
float64; under FakeTensorMode, on meta tensors and on a
``__torch_dispatch__`` subclass every mode runs (no kernel of ours ever sees
a tensor without storage); the legacy ONNX exporter writes torch's ops."""

import io
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vmap  # noqa: E402

needs_cpp = pytest.mark.skipif(torch_backend.LIBRARY.kind != "C++",
                               reason="forward-mode AD needs the C++ operators")
SLOPE = 0.2
DTYPES = [torch.float32, torch.float64]


def ours(inplace):
    return lambda v: leaky.torch.LeakyReLU(SLOPE, inplace)(v * 1.0)


def theirs(inplace):
    return lambda v: torch.nn.LeakyReLU(SLOPE, inplace)(v * 1.0)


def _x(dtype, shape=(2, 5)):
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x.view(-1)[:2] = torch.tensor([0.0, -0.0])
    return x.to(dtype)


def _same(a, b):
    for p, q in zip(torch.utils._pytree.tree_leaves(a), torch.utils._pytree.tree_leaves(b)):
        assert p.dtype == q.dtype and p.shape == q.shape
        assert torch.equal(p, q) and torch.equal(torch.signbit(p), torch.signbit(q)), (p, q)


_W = torch.linspace(-1.5, 2.0, 10, dtype=torch.float64).reshape(2, 5)


def _cubed(act):
    return lambda t: (act(t) ** 3 * _W.to(t.dtype)).sum()


# Each mode: act -> x -> result; run on leaky's activation and torch's.
MODES = {
    "autograd.functional.hessian forward-mode": lambda act, x: torch.autograd.functional.hessian(
        _cubed(act), x, vectorize=True, outer_jacobian_strategy="forward-mode"),
    "func.hessian": lambda act, x: hessian(_cubed(act))(x),
    "jvp": lambda act, x: jvp(act, (x,), (torch.ones_like(x),)),
    "vmap": lambda act, x: vmap(act)(x),
    "vmap(grad)": lambda act, x: vmap(grad(lambda v: act(v).sum()))(x),
    "vmap(jvp)": lambda act, x: vmap(lambda p: jvp(act, (p,), (p * 2,))[1])(x),
    "jacfwd(jacrev)": lambda act, x: jacfwd(jacrev(act))(x[0]),
    "jacrev(jacfwd)": lambda act, x: jacrev(jacfwd(act))(x[0]),
    "grad(grad)": lambda act, x: grad(grad(lambda v: act(v).sum()))(x[0, 2]),
    "double backward": lambda act, x: _double_backward(act, x),
    "checkpoint": lambda act, x: _checkpointed(act, x),
}


def _double_backward(act, x):
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(act(x), x, torch.ones_like(x) * 0.5, create_graph=True)
    return g, torch.autograd.grad((g * g).sum(), x, allow_unused=True)[0]


def _checkpointed(act, x):
    x = x.clone().requires_grad_()
    y = torch.utils.checkpoint.checkpoint(act, x, use_reentrant=False)
    return y, torch.autograd.grad(y.sum(), x)[0]


@needs_cpp
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_gives_torchs_answer(mode, inplace, dtype):
    x = _x(dtype)
    _same(MODES[mode](ours(inplace), x), MODES[mode](theirs(inplace), x))


@needs_cpp
@pytest.mark.parametrize("inplace", [False, True])
def test_regression_forward_mode_hessian_is_not_zero(inplace):
    """Issue 24: ``outer_jacobian_strategy="forward-mode"`` gave zeros."""
    x = _x(torch.float64)
    h = MODES["autograd.functional.hessian forward-mode"](ours(inplace), x)
    assert h.reshape(10, 10).diagonal().abs().sum() > 0


@needs_cpp
@pytest.mark.parametrize("inplace", [False, True])
def test_functional_call_and_gradcheck_with_forward_ad(inplace):
    x = torch.tensor([-2.0, -0.5, -0.1, 0.3, 1.0, 2.5], dtype=torch.float64)  # away from 0
    model = torch.nn.Sequential(torch.nn.Identity(), leaky.torch.LeakyReLU(SLOPE, inplace))
    control = torch.nn.Sequential(torch.nn.Identity(), torch.nn.LeakyReLU(SLOPE, inplace))
    _same(functional_call(model, {}, (x * 1.0,)), functional_call(control, {}, (x * 1.0,)))
    leaf = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: model(t * 1.0), (leaf,), check_forward_ad=True,
                                    check_batched_grad=True, check_batched_forward_grad=True)


@needs_cpp
def test_a_torch_function_mode_is_handed_the_operator():
    from torch.overrides import TorchFunctionMode
    seen = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    with Record():
        leaky.torch.leaky_relu(torch.ones(3), SLOPE)
    assert torch.ops.leaky.leaky_relu.default in seen, seen


# ------------------------------------------------ tensors without storage --

ALL_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def _train_step(act, x):
    leaf = x.clone().requires_grad_()
    y = act(leaf)
    return y, torch.autograd.grad((y * 3).sum(), leaf)[0]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_fake_and_meta_tensors_give_torchs_shapes_and_never_reach_a_kernel(inplace, dtype):
    from torch._subclasses.fake_tensor import FakeTensorMode
    for make in (lambda: torch.empty(3, 5, dtype=dtype, device="meta"),):
        got, want = (_train_step(act(inplace), make()) for act in (ours, theirs))
        assert [(t.shape, t.dtype, t.device) for t in got] == \
            [(t.shape, t.dtype, t.device) for t in want]
    with FakeTensorMode():
        got, want = (_train_step(act(inplace), torch.empty(3, 5, dtype=dtype))
                     for act in (ours, theirs))
        assert [(t.shape, t.dtype) for t in got] == [(t.shape, t.dtype) for t in want]


def test_out_under_fake_tensors_reads_no_data_pointer():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with FakeTensorMode():
            x, out = torch.empty(4, 3), torch.empty(4, 3)
            assert leaky.leaky_relu(x, SLOPE, out=out) is out
            assert leaky.leaky_relu(x, SLOPE, out=x) is x


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_a_torch_dispatch_subclass_gives_torchs_values(inplace, dtype):
    from torch.testing._internal.two_tensor import TwoTensor
    a = torch.linspace(-2, 2, 7, dtype=dtype)
    got, want = (_train_step(act(inplace), TwoTensor(a.clone(), -a)) for act in (ours, theirs))
    for g, w in zip(got, want):
        _same((g.a, g.b), (w.a, w.b))


MODES_UNDER_FAKE = textwrap.dedent("""
    import sys, warnings
    warnings.filterwarnings("error", message=".*data pointer.*")
    import torch, leaky.torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.testing._internal.two_tensor import TwoTensor
    sys.path.insert(0, "tests")
    import test_torch_seams as seams

    def run(mode, act, how):
        if how == "fake":
            with FakeTensorMode():
                mode(act, torch.empty(2, 5, dtype=torch.float64))
        else:
            x = seams._x(torch.float64)
            mode(act, TwoTensor(x, x.clone()))

    failures = []
    for name, mode in seams.MODES.items():
        for inplace in (False, True):
            for how in ("fake", "subclass"):
                try:
                    run(mode, seams.ours(inplace), how)
                except Exception as exc:
                    try:  # torch's own op must fail the same way, else it is ours
                        run(mode, seams.theirs(inplace), how)
                        failures.append(f"{name} {how} inplace={inplace}: {exc!r}"[:300])
                    except Exception:
                        pass
    print(failures)
""")



@needs_cpp
def test_the_mode_suite_under_fake_tensors_and_a_subclass_never_reads_a_data_pointer():
    """Fresh process: torch's "data pointer of FakeTensor" warning is an
    error there, so no leaky kernel may be handed a tensor without storage."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", MODES_UNDER_FAKE], cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-3000:]


# ------------------------------------------------------ legacy ONNX export --

def _mlp(act):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), act(0.2), torch.nn.Linear(16, 4), act(-0.5))


def _convnet(act):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), act(0.2), torch.nn.Conv2d(4, 2, 3),
                               act(0.1))


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("net, shape", [(_mlp, (5, 8)), (_convnet, (2, 3, 9, 9))])
def test_legacy_onnx_export_checks_and_runs_in_onnxruntime(net, shape, inplace):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = net(lambda s: leaky.torch.LeakyReLU(s, inplace))
    x = torch.randn(shape)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buffer, dynamo=False)
    graph = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(graph, full_check=True)
    assert {"Greater", "Where"} <= {node.op_type for node in graph.graph.node}
    session = ort.InferenceSession(buffer.getvalue())
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------- torch's own ModuleInfo --

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
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
            _same(*(tuple(t.detach() for t in r) for r in results))
