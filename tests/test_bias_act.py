"""bias_act: StyleGAN's fused bias + activation + gain + clamp, held to its
reference composition (``helpers.bias_act_reference``, written from
StyleGAN's documented semantics: x + b along dim, the activation, * gain
when gain != 1, clamp when clamp >= 0), bit for bit in float32 and
float64, signed zeros, NaN and infinities included; the bits it saves;
autograd to second order; the modes."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from helpers import assert_identical, bias_act_reference, needs_cpp_operators  # noqa: E402

needs_operators = needs_cpp_operators()


def _special(shape, dtype=torch.float32, seed=0):
    """Random values with zeros of both signs, NaN and infinities sprinkled in."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(dtype)
    flat = x.view(-1)
    flat[::7], flat[1::11], flat[2::13] = 0.0, -0.0, float("nan")
    flat[3::17], flat[4::19] = -float("inf"), float("inf")
    return x


def _gradients(function, x, b, upstream, **kwargs):
    leaves = [x.detach().clone(memory_format=torch.preserve_format).requires_grad_()]
    if b is not None:
        leaves.append(b.detach().clone().requires_grad_())
    y = function(leaves[0], leaves[1] if b is not None else None, **kwargs)
    return y.detach(), *torch.autograd.grad(y, leaves, upstream)


CASES = [dict(act=act, alpha=alpha, gain=gain, clamp=clamp)
         for act in ("linear", "relu", "lrelu")
         for alpha, gain, clamp in ((None, None, None), (0.0, 1.0, 0.0), (-0.3, 0.5, 256.0),
                                    (0.2, None, 0.7), (1.5, 2.0, None))]


@needs_operators
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c.values())))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim, with_bias", [(1, True), (0, True), (-1, True), (1, False)])
def test_forward_and_input_gradient_are_the_references_bits(case, dtype, dim, with_bias):
    x = _special((3, 6, 5), dtype)
    b = _special((x.shape[dim],), dtype, seed=1) if with_bias else None
    upstream = torch.randn(x.shape, dtype=dtype, generator=torch.Generator().manual_seed(2))
    upstream.view(-1)[::5] = -0.0
    ours = _gradients(leaky.torch.bias_act, x, b, upstream, dim=dim, **case)
    theirs = _gradients(bias_act_reference, x, b, upstream, dim=dim % x.ndim, **case)
    assert_identical(ours[0], theirs[0])
    assert_identical(ours[1], theirs[1])
    if with_bias:  # a sum: equal to rounding
        torch.testing.assert_close(ours[2], theirs[2], equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_half_types_are_computed_in_float32_and_rounded_once(dtype, act):
    x, b = _special((4, 8, 3), dtype), _special((8,), dtype, seed=1)
    want = bias_act_reference(x.float(), b.float(), act=act, clamp=1.0, gain=1.7).to(dtype)
    assert_identical(leaky.torch.bias_act(x, b, act=act, clamp=1.0, gain=1.7), want)


@needs_operators
def test_channels_last_stays_channels_last():
    x = torch.randn(2, 5, 4, 3).to(memory_format=torch.channels_last).requires_grad_()
    b = torch.randn(5)
    y = leaky.torch.bias_act(x, b, act="lrelu", clamp=0.5)
    assert y.is_contiguous(memory_format=torch.channels_last)
    (grad,) = torch.autograd.grad(y, x, torch.randn_like(y))
    assert grad.is_contiguous(memory_format=torch.channels_last)
    assert_identical(y.detach(), bias_act_reference(x.detach(), b, act="lrelu", clamp=0.5))


@needs_operators
@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_gradcheck_and_gradgradcheck(act):
    x = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)

    def f(x, b):
        return leaky.torch.bias_act(x, b, act=act, alpha=0.3, gain=1.3, clamp=0.8)

    assert torch.autograd.gradcheck(f, (x, b))
    assert torch.autograd.gradgradcheck(f, (x, b))


@needs_operators
def test_r1_double_backward_matches_the_reference():
    """R1: the gradient of a penalty on d out / d x, with create_graph=True."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1).double()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    results = []
    for op in (leaky.torch.bias_act, bias_act_reference):
        conv.zero_grad()
        image = x.clone().requires_grad_()
        score = op(conv(image), conv.bias.detach() * 0.5, act="lrelu", clamp=2.0).sum()
        (grad,) = torch.autograd.grad(score, image, create_graph=True)
        grad.square().sum().backward()
        results.append(conv.weight.grad.clone())
    torch.testing.assert_close(results[0], results[1])


@needs_operators
def test_saves_one_bit_per_element_and_one_more_with_a_clamp():
    x = torch.randn(8, 16, 32, requires_grad=True)
    b = torch.randn(16, requires_grad=True)
    for clamp, planes in ((None, 1), (256.0, 2)):
        saved = []

        def pack(t):
            saved.append(t.untyped_storage().nbytes())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            leaky.torch.bias_act(x, b, act="lrelu", clamp=clamp)
        assert sum(saved) == planes * math.ceil(x.numel() / 8)
        ours = sum(saved)
        saved.clear()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            bias_act_reference(x, b, act="lrelu", clamp=clamp)
        assert ours <= 0.07 * sum(saved)


@needs_operators
def test_fake_and_meta_tensors_and_opcheck():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        x, b = torch.randn(2, 3, 4, requires_grad=True), torch.randn(3)
        y = leaky.torch.bias_act(x, b, act="lrelu", clamp=1.0)
        y.sum().backward()
        assert y.shape == x.shape and x.grad.shape == x.shape
    x = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    torch.library.opcheck(torch.ops.leaky.bias_act.default, (x, b, 1, 2, 0.2, 1.4, 0.5))
    torch.library.opcheck(torch.ops.leaky.bias_act.default, (x, None, 1, 1, 0.0, 1.4, -1.0))


def test_compile_fullgraph_and_export_give_the_eager_values():
    x, b = _special((2, 3, 4, 4)), torch.randn(3)

    def f(x, b):
        return leaky.torch.bias_act(x, b, act="lrelu", clamp=256.0)

    assert_identical(torch.compile(f, fullgraph=True, backend="aot_eager")(x, b), f(x, b))

    class Model(torch.nn.Module):
        def forward(self, x, b):
            return f(x, b)

    exported = torch.export.export(Model(), (x, b))
    assert_identical(exported.module()(x, b), f(x, b))


def test_stylegans_call_through_the_module_attribute():
    """StyleGAN's networks call ``bias_act.bias_act(...)``: the one-line patch."""
    import types
    bias_act_module = types.SimpleNamespace(bias_act=bias_act_reference)
    bias_act_module.bias_act = leaky.torch.bias_act
    x, b = torch.randn(2, 4, 3, 3), torch.randn(4)
    y = bias_act_module.bias_act(x, b, act="lrelu", gain=1.0, clamp=256, impl="ref")
    assert_identical(y, bias_act_reference(x, b, act="lrelu", gain=1.0, clamp=256))


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(act="gelu"), ValueError, "act must be one of 'linear', 'relu', 'lrelu', got 'gelu'"),
    (dict(act="lrelu", alpha=float("nan")), ValueError, "alpha must be finite"),
    (dict(gain=float("inf")), ValueError, "gain must be finite"),
    (dict(clamp="1"), TypeError, "clamp must be a real number"),
    (dict(dim=3), ValueError, "dim=3 is out of range for x with 3 dimensions"),
    (dict(impl="plugin"), ValueError, "impl must be 'cuda' or 'ref'"),
])
def test_bad_arguments_are_refused_by_name(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        leaky.torch.bias_act(torch.ones(2, 3, 4), **kwargs)


@pytest.mark.parametrize("b, error, pattern", [
    (torch.ones(4), ValueError, r"b must have shape \(3,\)"),
    (torch.ones(3, 1), ValueError, r"b must have shape \(3,\)"),
    (torch.ones(3, dtype=torch.float64), TypeError, "b has dtype float64 but x has float32"),
    (np.ones(3, np.float32), TypeError, "must be a torch.Tensor"),
])
def test_bad_biases_are_refused_by_name(b, error, pattern):
    with pytest.raises(error, match=pattern):
        leaky.torch.bias_act(torch.ones(2, 3, 4), b)


# ------------------------------------------------------- other libraries --

@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_arrays_get_the_references_bits(act, dtype):
    x = _special((3, 6, 5), getattr(torch, np.dtype(dtype).name))
    b = _special((6,), x.dtype, seed=1)
    got = leaky.bias_act(x.numpy(), b.numpy(), act=act, clamp=0.6, alpha=-0.4)
    assert isinstance(got, np.ndarray) and got.dtype == dtype
    assert_identical(torch.from_numpy(got),
                     bias_act_reference(x, b, act=act, clamp=0.6, alpha=-0.4))


def test_numpy_integers_promote_and_channels_last_bias_runs_along_the_last_dim():
    x = np.arange(-6, 6, dtype=np.int16).reshape(2, 2, 3)
    got = leaky.bias_act(x, np.array([1.0, 0.0, -1.0], np.float32), dim=-1, act="lrelu")
    want = bias_act_reference(torch.from_numpy(x.astype(np.float32)),
                              torch.tensor([1.0, 0.0, -1.0]), dim=2, act="lrelu")
    assert got.dtype == np.float32
    assert_identical(torch.from_numpy(got), want)


def test_torch_tensors_through_leaky_bias_act_stay_tensors():
    x, b = torch.randn(2, 3, 4), torch.randn(3)
    y = leaky.bias_act(x, b, act="relu", clamp=1.0)
    assert isinstance(y, torch.Tensor)
    assert_identical(y, bias_act_reference(x, b, act="relu", clamp=1.0))


def test_a_bias_of_another_library_is_refused_by_name():
    with pytest.raises(TypeError, match="b is a torch array.* but x is a numpy array"):
        leaky.bias_act(np.ones((2, 3)), torch.ones(3))


@needs_operators
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c.values())))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_reference_path_gives_the_operators_bits(case, dtype):
    """torch's-own-ops path (the CUDA fallback, the decomposition that
    exporters record) and the CPU operators: the same values and bits."""
    from leaky._backends.torch import _aten
    from leaky._bias_act import resolve
    spec = resolve(**case)
    x, b = _special((3, 6, 5), dtype), _special((6,), dtype, seed=1)
    args = (1, spec.code, spec.alpha, spec.gain, spec.clamp)
    y, bits = torch.ops.leaky.bias_act_packed(x, b, *args)
    y_ref, bits_ref = _aten.bias_act_packed(x, b, *args)
    assert_identical(y_ref, y)
    assert torch.equal(bits_ref, bits)
    upstream = _special(x.shape, dtype, seed=2)
    assert_identical(_aten.bias_act_backward(upstream, bits, *args[1:]),
                     torch.ops.leaky.bias_act_backward(upstream, bits, *args[1:]))


@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_jax_arrays_trace_and_match_the_reference(act):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, b = _special((3, 6, 5)), _special((6,), seed=1)
    kwargs = dict(act=act, alpha=-0.4, gain=1.3, clamp=0.6)
    jitted = jax.jit(lambda x, b: leaky.bias_act(x, b, **kwargs))
    got = jitted(jnp.asarray(x.numpy()), jnp.asarray(b.numpy()))
    assert isinstance(got, jax.Array) and got.dtype == jnp.float32
    assert_identical(torch.from_numpy(np.asarray(got).copy()), bias_act_reference(x, b, **kwargs))


@pytest.mark.parametrize("act", ["linear", "relu", "lrelu"])
def test_jax_gradients_to_second_order_match_torchs(act):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = torch.tensor([-1.5, -0.0, 0.0, 0.3, 2.0, -0.7])
    kwargs = dict(act=act, alpha=0.3, gain=1.7, clamp=2.5)

    def loss(v):
        return (leaky.bias_act(v, None, dim=0, **kwargs) ** 3).sum()

    v = jnp.asarray(x.numpy().astype(np.float32))
    grad = np.asarray(jax.grad(loss)(v))
    hess = np.asarray(jnp.diag(jax.hessian(loss)(v)))
    t = x.clone().requires_grad_()
    (g,) = torch.autograd.grad((bias_act_reference(t, None, dim=0, **kwargs) ** 3).sum(), t,
                               create_graph=True)
    h = torch.stack([torch.autograd.grad(g[k], t, retain_graph=True)[0][k]
                     for k in range(len(x))])
    np.testing.assert_allclose(grad, g.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(hess, h.numpy(), rtol=1e-6)


def test_array_api_strict_and_dask_arrays_keep_their_type():
    x, b = _special((4, 6, 5)), _special((6,), seed=1)
    want = bias_act_reference(x, b, act="lrelu", clamp=0.6)
    xps = pytest.importorskip("array_api_strict")
    got = leaky.bias_act(xps.asarray(x.numpy()), xps.asarray(b.numpy()), act="lrelu", clamp=0.6)
    assert type(got).__module__.startswith("array_api_strict")
    assert_identical(torch.from_numpy(np.asarray(got).copy()), want)
    da = pytest.importorskip("dask.array")
    lazy = leaky.bias_act(da.from_array(x.numpy(), chunks=(2, 4, 3)), da.from_array(b.numpy()),
                          act="lrelu", clamp=0.6)
    assert isinstance(lazy, da.Array)
    assert_identical(torch.from_numpy(lazy.compute()), want)


def _benchmark_networks():
    """asv_bench/benchmarks/networks.py (torch only, no asv): the
    discriminator the ratios time is the one trained here."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parents[1] / "asv_bench" / "benchmarks" / "networks.py"
    spec = importlib.util.spec_from_file_location("bench_networks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_operators
def test_a_stylegan2_discriminator_with_r1_trains_the_same_with_either_op():
    networks = _benchmark_networks()
    images = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    trained = []
    for op in (leaky.torch.bias_act, bias_act_reference):
        d = networks.StyleGAN2Discriminator(op, channels=(8, 16, 16), resolution=16)
        optimizer = torch.optim.Adam(d.parameters, lr=1e-3)
        losses = []
        for _ in range(5):
            optimizer.zero_grad()
            leaf = images.clone().requires_grad_()
            logits = d(leaf)
            (grads,) = torch.autograd.grad(logits.sum(), leaf, create_graph=True)
            loss = (F.softplus(-logits).squeeze(1) + 5.0 * grads.square().sum([1, 2, 3])).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        trained.append((losses, [p.detach().clone() for p in d.parameters]))
    (ours, ours_params), (theirs, theirs_params) = trained
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for a, b in zip(ours_params, theirs_params):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_library_without_bias_act_is_refused_by_name():
    mx = pytest.importorskip("mlx.core")
    with pytest.raises(TypeError, match="bias_act is not supported for MLX arrays yet"):
        leaky.bias_act(mx.ones((2, 3)), act="lrelu")


@needs_operators
@pytest.mark.parametrize("bias_batched", [False, True])
def test_vmap_and_vmap_of_grad_give_the_per_sample_results(bias_batched):
    xs = _special((4, 3, 5), seed=5)
    bs = _special((4, 3), seed=6) if bias_batched else _special((3,), seed=6)
    kwargs = dict(dim=0, act="lrelu", alpha=-0.3, gain=1.5, clamp=0.7)
    in_dims = (0, 0 if bias_batched else None)

    def f(x, b):
        return leaky.torch.bias_act(x, b, **kwargs)

    def loss(x, b):
        return (f(x, b) * torch.linspace(-1, 1, x.numel()).reshape(x.shape)).sum()

    fallback = torch._C._functorch._is_vmap_fallback_enabled()
    torch._C._functorch._set_vmap_fallback_enabled(False)  # rules only: no per-sample loop
    try:
        got = torch.vmap(f, in_dims)(xs, bs)
        got_grad = torch.vmap(torch.func.grad(loss), in_dims)(xs, bs)
    finally:
        torch._C._functorch._set_vmap_fallback_enabled(fallback)
    for k in range(xs.shape[0]):
        b = bs[k] if bias_batched else bs
        assert_identical(got[k], bias_act_reference(xs[k], b, **kwargs))
        x = xs[k].clone().requires_grad_()
        weights = torch.linspace(-1, 1, x.numel()).reshape(x.shape)
        (want,) = torch.autograd.grad((bias_act_reference(x, b, **kwargs) * weights).sum(), x)
        assert_identical(got_grad[k], want)


def test_onnx_export_holds_standard_ops_that_onnxruntime_runs_bit_for_bit(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")

    class Model(torch.nn.Module):
        def forward(self, x, b):
            return leaky.torch.bias_act(x, b, act="lrelu", clamp=0.5)

    x, b = _special((2, 3, 4, 4)), _special((3,), seed=1)
    program = torch.onnx.export(Model(), (x, b), dynamo=True, verbose=False)
    assert {n.op_type for n in program.model_proto.graph.node} <= {
        "Add", "Clip", "Greater", "Mul", "Reshape", "Where", "Max", "Min", "Constant", "Cast"}
    program.save(str(tmp_path / "bias_act.onnx"))
    session = ort.InferenceSession(str(tmp_path / "bias_act.onnx"))
    names = [i.name for i in session.get_inputs()]
    (got,) = session.run(None, dict(zip(names, (x.numpy(), b.numpy()))))
    assert_identical(torch.from_numpy(got), Model()(x, b))


@pytest.mark.parametrize("op", ["bias_act", "leaky_relu_with_mask packed"])
def test_an_integer_channels_last_input_gives_float_channels_last(op):
    """Integers promote as torch.sin does; the channels-last layout comes
    back in the result's dtype, not the input's."""
    x = torch.arange(-48, 48).reshape(2, 3, 4, 4).to(memory_format=torch.channels_last)
    if op == "bias_act":
        y = leaky.torch.bias_act(x, None, act="lrelu")
        want = bias_act_reference(x.float(), None, act="lrelu")
    else:
        y = leaky.leaky_relu_with_mask(x, 0.2, packed=True)[0]  # torch.ops.leaky's
        want = F.leaky_relu(x.float(), 0.2)
    assert y.dtype == torch.float32 and y.is_contiguous(memory_format=torch.channels_last)
    assert_identical(y, want)

