"""Deployment: a model using leaky ships wherever the framework's own model
ships, and the shipped model computes what eager did.

Each path runs beside the framework's own LeakyReLU as a control, the same
way.  Loading happens in a fresh process; where the path promises a model
that runs without leaky (``torch.export``, AOTInductor, ONNX, a TF
SavedModel), that process cannot import leaky at all.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers import assert_same_bits

SLOPES = (0.01, -0.5, 1.5)
# Values whose signs, zeros and specials a deployed graph must keep.
SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, float("nan"), float("inf"), float("-inf"),
            1e-45, -1e-45, 3e38, -3e38]


def _fresh(code, tmp_path, without_leaky=False, timeout=600):
    """Run ``code`` in a fresh Python, in ``tmp_path``; return its stdout.
    ``without_leaky``: leaky cannot be imported there."""
    prelude = "import sys; sys.modules['leaky'] = None\n" if without_leaky else ""
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


# ------------------------------------------------------------------ torch --

def _torch():
    return pytest.importorskip("torch")


def _activation(implementation, slope, inplace):
    torch = _torch()
    if implementation == "leaky":
        import leaky.torch
        return leaky.torch.LeakyReLU(slope, inplace=inplace)
    return torch.nn.LeakyReLU(slope, inplace=inplace)


def _model(implementation, slope=0.2, inplace=False):
    torch = _torch()
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), _activation(implementation, slope, inplace),
                               torch.nn.Linear(16, 4)).eval()


def _inputs(dtype="float32"):
    torch = _torch()
    x = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    return x.to(getattr(torch, dtype))


def _specials(dtype="float32"):
    torch = _torch()
    return torch.tensor([SPECIALS] * 2).to(getattr(torch, dtype))


def _call_targets(graph):
    return [str(node.target) for node in graph.nodes if node.op == "call_function"]


def _ort_run(path, x):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def _export_onnx(module, x, path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    torch = _torch()
    torch.onnx.export(module, (x,), str(path), dynamo=True, verbose=False)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.mark.parametrize("inplace", [False, True], ids=["out of place", "in place"])
@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("implementation", ["leaky", "torch"])
def test_onnx_export_runs_in_onnxruntime(implementation, slope, inplace, tmp_path):
    """A model with the activation exports with no extra arguments, to the
    standard ONNX domain only, and onnxruntime gives eager's values."""
    torch = _torch()
    model = _model(implementation, slope, inplace)
    x = _inputs()
    onnx_model = _export_onnx(model, x, tmp_path / "model.onnx")
    assert {node.domain for node in onnx_model.graph.node} == {""}
    ops = {node.op_type for node in onnx_model.graph.node}
    if implementation == "leaky":
        assert ops == {"Gemm", "Greater", "Mul", "Where"}, ops
    else:
        assert ops == {"Gemm", "LeakyRelu"}, ops
    with torch.no_grad():
        want = model(x.clone()).numpy()
    np.testing.assert_allclose(_ort_run(tmp_path / "model.onnx", x), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("slope", SLOPES + (0.0, -0.0))
def test_onnx_activation_keeps_torchs_bits_signed_zeros_included(slope, dtype, tmp_path):
    """leaky's graph is ``Where(Greater(x, 0), x, Mul(x, s))``: the contract's
    select, bit for bit (float16 through float32, rounded once)."""
    torch = _torch()
    z = _specials(dtype)
    _export_onnx(_activation("leaky", slope, False), z, tmp_path / "act.onnx")
    want = torch.nn.functional.leaky_relu(z, slope).numpy()
    assert_same_bits(_ort_run(tmp_path / "act.onnx", z), want)


@pytest.mark.parametrize("slope", SLOPES)
def test_onnx_leakyrelu_of_torchs_own_module_differs_only_at_zeros_for_negative_slopes(
        slope, tmp_path):
    """The control: torch's module exports to ONNX's LeakyRelu, defined as a
    select on ``x >= 0``.  For a slope >= 0 that agrees with torch's
    ``x > 0`` bit for bit; for a negative slope the two zeros come out with
    the other sign.  docs/deployment.rst says so."""
    torch = _torch()
    z = _specials()
    _export_onnx(_activation("torch", slope, False), z, tmp_path / "act.onnx")
    got = _ort_run(tmp_path / "act.onnx", z)
    want = torch.nn.functional.leaky_relu(z, slope).numpy()
    if slope >= 0:
        assert_same_bits(got, want)
    else:
        zero = z.numpy() == 0
        assert_same_bits(got[~zero], want[~zero])
        assert np.array_equal(np.signbit(got[zero]), ~np.signbit(want[zero]))


def test_onnx_export_of_a_direct_operator_call(tmp_path):
    """A graph that calls ``torch.ops.leaky`` itself keeps the operator in
    ``torch.export`` and ONNX learns it from leaky's registered
    decomposition."""
    torch = _torch()
    import leaky.torch  # noqa: F401  (registers the operators)

    class Direct(torch.nn.Module):
        def forward(self, x):
            return torch.ops.leaky.leaky_relu(x, -0.5)

    z = _specials()
    assert "leaky.leaky_relu.default" in _call_targets(torch.export.export(Direct(), (z,)).graph)
    onnx_model = _export_onnx(Direct(), z, tmp_path / "direct.onnx")
    assert {node.op_type for node in onnx_model.graph.node} <= {"Greater", "Mul", "Where"}
    assert_same_bits(_ort_run(tmp_path / "direct.onnx", z),
                     torch.nn.functional.leaky_relu(z, -0.5).numpy())


@pytest.mark.parametrize("inplace", [False, True], ids=["out of place", "in place"])
@pytest.mark.parametrize("implementation", ["leaky", "torch"])
def test_torch_export_saves_loads_and_decomposes_to_aten(implementation, inplace, tmp_path):
    """``torch.export``: the program holds aten ops only (leaky's is torch's
    own select), ``run_decompositions()`` too, and it loads and runs in a
    process that cannot import leaky."""
    torch = _torch()
    model = _model(implementation, -0.5, inplace)
    x = _inputs()
    program = torch.export.export(model, (x,))
    for graph in (program.graph, program.run_decompositions().graph):
        targets = _call_targets(graph)
        assert all(t.startswith("aten.") for t in targets), targets
    torch.export.save(program, tmp_path / "program.pt2")
    with torch.no_grad():
        torch.save({"x": x, "y": model(x.clone())}, tmp_path / "values.pt")
    out = _fresh("""
        import torch
        values = torch.load("values.pt")
        program = torch.export.load("program.pt2")
        print("equal", torch.equal(program.module()(values["x"]), values["y"]))
    """, tmp_path, without_leaky=True)
    assert "equal True" in out


@pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                    reason="AOTInductor needs a C++ compiler")
@pytest.mark.parametrize("implementation", ["leaky", "torch"])
def test_aoti_package_runs_in_a_fresh_process(implementation, tmp_path):
    """``aoti_compile_and_package`` + ``aoti_load_package`` in a process that
    cannot import leaky give eager's values."""
    torch = _torch()
    model = _model(implementation, -0.5)
    x = _inputs()
    program = torch.export.export(model, (x,))
    torch._inductor.aoti_compile_and_package(program, package_path=str(tmp_path / "m.pt2"))
    with torch.no_grad():
        torch.save({"x": x, "y": model(x)}, tmp_path / "values.pt")
    out = _fresh("""
        import torch
        values = torch.load("values.pt")
        run = torch._inductor.aoti_load_package("m.pt2")
        got = run(values["x"])
        print("close", torch.allclose(got, values["y"], rtol=1e-5, atol=1e-6))
    """, tmp_path, without_leaky=True)
    assert "close True" in out


class _Net:
    """A module with both activations, and a function using the functional
    form: what TorchScript must script and trace."""

    @staticmethod
    def build(implementation):
        torch = _torch()
        first = _activation(implementation, -0.5, False)
        second = _activation(implementation, 0.2, True)

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear, self.first, self.second = torch.nn.Linear(8, 8), first, second

            def forward(self, x):
                return self.second(self.first(self.linear(x)))

        torch.manual_seed(0)
        return Net().eval()


def _functional(implementation):
    torch = _torch()
    if implementation == "leaky":
        import leaky.torch

        def f(x: torch.Tensor) -> torch.Tensor:
            return leaky.torch.leaky_relu(x, 0.3) * 2.0
    else:
        def f(x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.leaky_relu(x, 0.3) * 2.0
    return f


@pytest.mark.parametrize("implementation", ["leaky", "torch"])
def test_torchscript_script_and_trace_save_and_load(implementation, tmp_path):
    """``torch.jit.script`` and ``torch.jit.trace`` of a module and of a
    function; saved, then loaded in a fresh process after ``import
    leaky.torch``; a traced module computes a new input's result."""
    torch = _torch()
    net, f = _Net.build(implementation), _functional(implementation)
    example, new = _inputs(), -_inputs()
    with torch.no_grad():
        torch.jit.script(net).save(str(tmp_path / "script_module.pt"))
        torch.jit.trace(net, (example.clone(),)).save(str(tmp_path / "trace_module.pt"))
        torch.jit.script(f).save(str(tmp_path / "script_function.pt"))
        torch.jit.trace(f, (example.clone(),)).save(str(tmp_path / "trace_function.pt"))
        torch.save({"x": new, "module": net(new.clone()), "function": f(new.clone())},
                   tmp_path / "values.pt")
    out = _fresh(f"""
        import torch
        {"import leaky.torch" if implementation == "leaky" else ""}
        values = torch.load("values.pt")
        with torch.no_grad():
            for kind in ("module", "function"):
                for how in ("script", "trace"):
                    loaded = torch.jit.load(f"{{how}}_{{kind}}.pt")
                    print(how, kind, torch.equal(loaded(values["x"].clone()), values[kind]))
    """, tmp_path)
    assert out.count("True") == 4, out


# ------------------------------------------------------------------ Keras --

_KERAS_EXPORT = """
    import os
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    import keras
    {imports}
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(0))(inputs)
    outputs = {activation}
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((5, 8)).astype("float32")
    np.save("values.npy", np.stack([x, np.asarray(model(x))]))
    model.export("saved", format="tf_saved_model")
    print("exported")
"""

_KERAS_SERVE = """
    import numpy as np
    import tensorflow as tf
    x, want = np.load("values.npy")
    loaded = tf.saved_model.load("saved")  # kept: its variables live as long as it does
    got = loaded.serve(x).numpy()
    print("equal", np.array_equal(got.view(np.uint32), want.view(np.uint32)))
"""

_KERAS_MODELS = {
    "leaky layer": ("import leaky.keras",
                    "leaky.keras.LeakyReLU(negative_slope=-0.5)(hidden)"),
    "leaky activation": ("import leaky.keras",
                         "keras.layers.Dense(8, activation=leaky.keras.leaky_relu)(hidden)"),
    "keras layer": ("", "keras.layers.LeakyReLU(negative_slope=0.3)(hidden)"),
}


@pytest.mark.parametrize("kind", list(_KERAS_MODELS))
def test_keras_tf_saved_model_serves_without_leaky(kind, tmp_path):
    """``model.export(format="tf_saved_model")`` on the TensorFlow backend,
    served by TensorFlow alone in a process that cannot import leaky."""
    pytest.importorskip("keras")
    if importlib.util.find_spec("tensorflow") is None:  # not imported: see conftest.py
        pytest.skip("needs tensorflow")
    imports, activation = _KERAS_MODELS[kind]
    assert "exported" in _fresh(_KERAS_EXPORT.format(imports=imports, activation=activation),
                                tmp_path)
    assert "equal True" in _fresh(_KERAS_SERVE, tmp_path, without_leaky=True)
