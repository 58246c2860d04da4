"""leaky's torch activation compiled, traced and exported: torch.compile
with fullgraph (no graph breaks, aot_eager bit-identical to eager, inductor
fusing it with no extern leaky call, saving only the packed mask),
torch.export, the legacy ONNX exporter (checked and run in onnxruntime),
and TorchScript (jit.trace and jit.script issue 17, saved and loaded in a
fresh process)."""

import io
import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import leaky  # noqa: E402
import leaky.torch  # noqa: E402

from helpers import (SLOPE, assert_identical, assert_same_signed, bias_act_reference,  # noqa: E402
                     needs_cpp_operators, theirs_fn, torch_x)

needs_operators = needs_cpp_operators()


# ---------------------------------------------------------- torch.compile --

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

    x_eager, x_compiled = torch_x(dtype, requires_grad=True), torch_x(dtype, requires_grad=True)
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


@pytest.mark.parametrize("slope", [0.1, -0.5])
def test_compiled_in_place_keeps_bits_only_for_a_negative_slope(slope):
    """y > 0 exactly where x > 0 for a slope >= 0, so in place derives the
    mask from the result, as torch's own leaky_relu_ does (the next layer
    keeps it anyway); a negative slope keeps the bits taken before the
    overwrite."""
    import torch._dynamo
    torch._dynamo.reset()

    def f(x):
        return leaky.torch.leaky_relu(x * 1.0, slope, inplace=True) * 2.0

    x = torch.randn(64, requires_grad=True)
    compiled = torch.compile(f, fullgraph=True, backend="inductor")
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        out = compiled(x)
    bits = [tuple(t.shape) for t in saved if t.dtype == torch.uint8]
    assert bits == ([] if slope >= 0 else [(8,)]), saved
    out.sum().backward()
    want = x.detach().clone().requires_grad_()
    torch.nn.functional.leaky_relu(want * 1.0, slope).mul(2.0).sum().backward()
    assert_identical(x.grad, want.grad)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
@pytest.mark.parametrize("size", [8, 7])  # 2*16*8*8 elements: blocked bits; 2*16*7*7: not
def test_bits_saved_inside_a_compiled_graph_give_torchs_gradient(size, backend):
    """Such bits lie channels last (and, for sizes a multiple of 128, in
    blocks of 8 x 16); leaky_relu's and bias_act's gradients are torch's."""
    import torch._dynamo
    torch._dynamo.reset()
    x = torch.randn(2, 16, size, size, generator=torch.Generator().manual_seed(2))
    b = torch.randn(16)

    def f(t, relu, bias_act):
        return (relu(t * 1.0, 0.2) * 2.0).sum() + (bias_act(t * 1.0, b, act="lrelu", clamp=1.0)
                                                   * 3.0).sum()

    grads = []
    for run, relu, bias_act in ((torch.compile(f, fullgraph=True, backend=backend),
                                 leaky.torch.leaky_relu, leaky.torch.bias_act),
                                (f, F.leaky_relu, bias_act_reference)):
        leaf = x.clone().requires_grad_()
        run(leaf, relu, bias_act).backward()
        grads.append(leaf.grad)
    assert_identical(*grads)


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


# --------------------------------------------------------------- inductor --

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
    if not inplace:  # the forward's select and packing are one kernel, and so
        # are the backward's unpacking and select; in place with a slope >= 0
        # the result is the mask, as in torch
        assert any("where" in k and "gt" in k for k in kernels(ours_code))


class _Numbers(torch.nn.Module):
    """A layer whose numbers are attributes, as a model keeps them: the
    second model of a process with other values gets them from Dynamo as
    symbolic floats."""

    def __init__(self, op, *numbers):
        super().__init__()
        self.op, self.count = op, len(numbers)
        for k, number in enumerate(numbers):
            setattr(self, f"number{k}", number)

    def forward(self, x):
        return self.op(x, *[getattr(self, f"number{k}") for k in range(self.count)])


@pytest.mark.parametrize("op, values", [
    (lambda x, s: leaky.torch.leaky_relu(x, s), [(0.01,), (0.2,), (-0.5,), (0.2,)]),
    (lambda x, s: leaky.torch.leaky_relu(x * 1.0, s, inplace=True), [(0.1,), (-0.3,), (0.0,)]),
    (lambda x, s: leaky.leaky_relu(x, s), [(0.1,), (0.3,)]),
    (lambda x, a, g, c: leaky.torch.bias_act(x, None, act="lrelu", alpha=a, gain=g, clamp=c),
     [(0.2, 1.5, 256.0), (0.1, 2.0, 0.5), (0.3, 1.0, -1.0)]),
])
def test_models_with_other_numbers_compile_whole_and_exact(op, values):
    """Once Dynamo has seen a layer's number take two values, it passes the
    next as a symbolic float; leaky's checks broke the graph there
    (``math.isfinite``), and ``fullgraph=True`` refused the model.  Each
    model compiles whole and gives the eager result, bit for bit."""
    torch._dynamo.reset()
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    for numbers in values:
        leaf = x.clone().requires_grad_()
        compiled = torch.compile(_Numbers(op, *numbers), fullgraph=True, backend="aot_eager")
        y = compiled(leaf)
        y.sum().backward()
        eager_leaf = x.clone().requires_grad_()
        want = op(eager_leaf, *numbers)
        want.sum().backward()
        assert_identical(y.detach(), want.detach())
        assert_identical(leaf.grad, eager_leaf.grad)


def test_bits_recomputed_in_a_compiled_backward_are_packed_in_one_pass():
    """After a BatchNorm, inductor's partitioner recomputes the bits in the
    backward (the convolution's output is saved anyway).  Packing them
    reads the recomputed activation once: no buffer of one byte an element
    is written and read back (ORs of 8 strided slices made one), and the
    gradients are torch's, bit for bit."""
    import re
    from torch._inductor.utils import run_and_get_code
    grads, codes = [], []
    for act in (leaky.torch.LeakyReLU(SLOPE), torch.nn.LeakyReLU(SLOPE)):
        torch._dynamo.reset()
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                                    act, torch.nn.Conv2d(16, 1, 3))
        compiled = torch.compile(model, fullgraph=True, backend="inductor")
        x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
        _, code = run_and_get_code(lambda: compiled(x).sum().backward())
        codes.append("\n".join(code))
        grads.append([p.grad for p in model.parameters()])
    uint8_buffer = r"empty_strided_cpu\(\(([\d, ]+)\),[^)]*\), torch\.uint8\)"
    byte_buffers = re.findall(uint8_buffer, codes[0])
    sizes = [math.prod(int(d) for d in shape.split(",") if d.strip()) for shape in byte_buffers]
    assert sizes and all(size * 8 <= 4 * 16 * 8 * 8 for size in sizes), byte_buffers
    for ours, theirs in zip(*grads):
        assert_identical(ours, theirs)


# ----------------------------------------------------------- torch.export --

def test_export_works_without_warnings():
    """Exporting records torch's own select: the program deploys without
    leaky (tests/test_deployment.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        program = torch.export.export(_model(False), (torch.randn(5, 8),))
    assert "leaky" not in str(program.graph) and "aten.where" in str(program.graph)
    inputs = torch.randn(5, 8)
    assert torch.equal(program.module()(inputs), _model(False)(inputs))


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
        x = torch_x(torch.float32, 12)
        assert_same_signed(scripted(x.clone()), theirs_fn(x))
    scripted_fn = torch.jit.script(leaky.torch.leaky_relu)
    assert_same_signed(scripted_fn(torch_x(torch.float64, 12), 0.3, False),
                       theirs_fn(torch_x(torch.float64, 12), 0.3))
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
