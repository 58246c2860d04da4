"""Packed gradient masks: one bit per element, in C order, little bit order.

The contract (issue 12): ``leaky_relu_with_mask(x, packed=True)`` returns
``(y, bits)`` where ``bits`` equals ``np.packbits((x > 0).ravel(),
bitorder="little")`` for any layout of ``x``, and ``leaky_relu_backward``
gives the same bits from them as from the bool mask, on every backend.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import leaky
from leaky import _cpu
from helpers import (assert_same_bits, same_bytes_for_thread_counts, special_values,
                     torch_backward, torch_forward)

DTYPES = (np.float16, np.float32, np.float64)
SLOPES = (0.01, -0.5, 1.5, 0.0)


def _positive(x):
    with np.errstate(invalid="ignore"):  # ml_dtypes' bfloat16 warns on NaN
        return np.asarray(x) > 0


def _reference_bits(x):
    return np.packbits(_positive(x).ravel(), bitorder="little")


def _with_specials(x):
    flat = x.reshape(-1)
    specials = special_values(x.dtype)[: flat.size]
    flat[: specials.size] = specials
    return x


# ------------------------------------------------------------- the bits --

@st.composite
def laid_out_arrays(draw):
    """Arrays of any float dtype, shape and layout (views, transposes,
    negative and zero strides), sizes not divisible by 8 included."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=19))
    base = draw(hnp.arrays(dtype, shape, elements=st.floats(
        allow_nan=True, allow_infinity=True, width=8 * np.dtype(dtype).itemsize)))
    view = draw(st.sampled_from(["plain", "transpose", "reverse", "step", "fortran"]))
    if view == "transpose":
        return base.T
    if view == "reverse":
        return base[::-1]
    if view == "step":
        return base[..., ::2]
    if view == "fortran":
        return np.asfortranarray(base)
    return base


@settings(max_examples=300, deadline=None)
@given(x=laid_out_arrays(), slope=st.sampled_from(SLOPES))
def test_bits_equal_numpy_packbits_for_any_layout(x, slope):
    y, bits = leaky.leaky_relu_with_mask(x, slope, packed=True)
    assert bits.dtype == np.uint8 and bits.shape == ((x.size + 7) // 8,)
    np.testing.assert_array_equal(bits, _reference_bits(x))  # unused bits are 0 there too
    assert_same_bits(y, leaky.leaky_relu(x, slope))


@settings(max_examples=200, deadline=None)
@given(x=laid_out_arrays(), slope=st.sampled_from(SLOPES))
def test_backward_from_bits_equals_backward_from_the_bool_mask(x, slope):
    grad = np.random.default_rng(x.size).standard_normal(x.shape).astype(x.dtype)
    _, bits = leaky.leaky_relu_with_mask(x, slope, packed=True)
    assert_same_bits(leaky.leaky_relu_backward(grad, bits, slope),
                     leaky.leaky_relu_backward(grad, x > 0, slope))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", SLOPES)
def test_special_values_against_torch(dtype, slope):
    x = _with_specials(np.random.default_rng(2).standard_normal(1001).astype(dtype))
    grad = np.random.default_rng(3).standard_normal(x.size).astype(dtype)
    y, bits = leaky.leaky_relu_with_mask(x, slope, packed=True)
    assert_same_bits(y, torch_forward(x, slope))
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert_same_bits(leaky.leaky_relu_backward(grad, bits, slope), torch_backward(grad, x, slope))


def test_every_float16_pattern_packs_like_numpy():
    x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    y, bits = leaky.leaky_relu_with_mask(x, 0.1, packed=True)
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert_same_bits(y, torch_forward(x, 0.1))


def test_bfloat16_and_integers_are_packed_too():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = np.linspace(-3, 3, 21).astype(ml_dtypes.bfloat16)
    y, bits = leaky.leaky_relu_with_mask(x, 0.5, packed=True)
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert y.dtype == x.dtype
    ints = np.arange(-4, 9)
    y, bits = leaky.leaky_relu_with_mask(ints, 0.5, packed=True)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(bits, _reference_bits(ints))


@pytest.mark.parametrize("variant", _cpu.supported_variants())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [0, 1, 3, 5])  # start the arrays off vector alignment
def test_every_cpu_variant_gives_the_same_bits(variant, dtype, offset):
    kernels = _cpu.load(variant)
    n = 4099
    x = _with_specials(np.random.default_rng(9).standard_normal(n + offset).astype(dtype))[offset:]
    grad = np.random.default_rng(10).standard_normal(n + offset).astype(dtype)[offset:]
    y = np.empty(n + offset, dtype)[offset:]
    bits = np.empty((n + 7) // 8 + 1, np.uint8)[1:]
    assert kernels.forward_bits_fast(x, -0.5, y, bits) is not None
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert_same_bits(y, torch_forward(x, -0.5))
    assert_same_bits(kernels.backward_bits_fast(grad, bits, -0.5, None),
                     torch_backward(grad, x, -0.5))
    # An output off vector alignment starts the SIMD steps mid-byte of bits.
    grad_in = np.empty(n + offset, dtype)[offset:]
    assert kernels.backward_bits_fast(grad, bits, -0.5, grad_in) is grad_in
    assert_same_bits(grad_in, torch_backward(grad, x, -0.5))


@pytest.mark.parametrize("variant", _cpu.supported_variants())
@pytest.mark.parametrize("n", [1, 255, 257, 4099])
def test_every_cpu_variant_gives_the_same_bfloat16_bits(variant, n):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from leaky.ufuncs import _ufuncs_for
    kernels = _cpu.load(variant)
    _ufuncs_for(kernels)  # registers the bfloat16 loops with that module
    values = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    x = _with_specials(values).astype(ml_dtypes.bfloat16)
    grad = values[::-1].astype(ml_dtypes.bfloat16)
    y, bits = kernels.forward_bits_fast(x, 0.3, None, None)
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert_same_bits(y, leaky.leaky_relu(x, 0.3))
    assert_same_bits(kernels.backward_bits_fast(grad, bits, 0.3, None),
                     leaky.leaky_relu_backward(grad, _positive(x), 0.3))


@pytest.mark.parametrize("variant", _cpu.supported_variants())
@pytest.mark.parametrize("slope", SLOPES)
def test_every_bfloat16_pattern_packs_and_unpacks_like_the_ufuncs(variant, slope):
    """All 65536 bfloat16 bit patterns, NaN payloads included, through each
    variant's packed forward and backward (SIMD where the variant has it),
    against the same variant's ufuncs (which test_bfloat16.py holds to
    torch)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from leaky.ufuncs import _ufuncs_for
    kernels = _cpu.load(variant)
    ufuncs = _ufuncs_for(kernels)
    patterns = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    grad = np.random.default_rng(16).standard_normal(patterns.size).astype(ml_dtypes.bfloat16)
    for offset in (0, 3):  # off vector alignment too
        x = patterns[offset:].copy().view(ml_dtypes.bfloat16)
        y, bits = kernels.forward_bits_fast(x, slope, None, None)
        want_y, mask = ufuncs["leaky_relu_with_mask"](x, slope)
        np.testing.assert_array_equal(y.view(np.uint16), want_y.view(np.uint16))
        np.testing.assert_array_equal(bits, _reference_bits(x))
        got = kernels.backward_bits_fast(grad[offset:], bits, slope, None)
        want = ufuncs["leaky_relu_backward"](grad[offset:], mask, slope)
        np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_from_bits_in_place(dtype):
    x = np.random.default_rng(8).standard_normal((37, 3)).astype(dtype)
    grad = np.random.default_rng(9).standard_normal((37, 3)).astype(dtype)
    _, bits = leaky.leaky_relu_with_mask(x, -0.5, packed=True)
    want = leaky.leaky_relu_backward(grad, x > 0, -0.5)
    assert leaky.leaky_relu_backward(grad, bits, -0.5, out=grad) is grad
    assert_same_bits(grad, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [65, 1000, 70001])
def test_thread_counts_give_identical_bits(dtype, n, small_parallel_threshold):
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    grad = np.random.default_rng(n + 1).standard_normal(n).astype(dtype)

    def compute():
        y, bits = leaky.leaky_relu_with_mask(x, 0.01, packed=True)
        return y, bits, leaky.leaky_relu_backward(grad, bits, 0.01)

    _, bits, _ = same_bytes_for_thread_counts(compute)
    np.testing.assert_array_equal(bits, _reference_bits(x))


# ------------------------------------------------------------------- out= --

def test_backward_reads_any_shape_of_the_right_number_of_bytes(xp):
    if xp.name == "dask":
        pytest.skip("Dask refuses packed masks")
    x = np.random.default_rng(14).standard_normal((4, 5)).astype(np.float32)
    grad = np.random.default_rng(15).standard_normal((4, 5)).astype(np.float32)
    bits = _reference_bits(x).reshape(1, 3)
    got = leaky.leaky_relu_backward(xp.asarray(grad), xp.asarray(bits), 0.1)
    assert_same_bits(xp.to_numpy(got), leaky.leaky_relu_backward(grad, x > 0, 0.1))


def test_out_pair_and_in_place():
    x = np.array([-2.0, 0.0, 3.0, -0.0, np.nan, 1e-300, -4.0, 5.0, 6.0])
    y_out, bits_out = np.empty_like(x), np.zeros(2, np.uint8)
    y, bits = leaky.leaky_relu_with_mask(x, -0.5, packed=True, out=(y_out, bits_out))
    assert y is y_out and bits is bits_out
    np.testing.assert_array_equal(bits, _reference_bits(x))
    inplace = x.copy()
    y, bits = leaky.leaky_relu_with_mask(inplace, -0.5, packed=True, out=(inplace, None))
    assert y is inplace  # the signs were read before they were overwritten:
    np.testing.assert_array_equal(bits, _reference_bits(x))
    assert_same_bits(inplace, leaky.leaky_relu(x, -0.5))


def test_out_into_strided_views_falls_back_to_the_same_result():
    x = np.random.default_rng(4).standard_normal((6, 10)).astype(np.float32)
    y_out = np.empty((10, 6), np.float32).T
    bits_out = np.empty(16, np.uint8)[::2]
    y, bits = leaky.leaky_relu_with_mask(x, 0.2, packed=True, out=(y_out, bits_out))
    assert y is y_out and bits is bits_out
    assert_same_bits(y_out, leaky.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(bits_out, _reference_bits(x))


# ----------------------------------------------------------------- errors --

@pytest.mark.parametrize("bits, error, match", [
    (np.zeros(3, np.uint8), ValueError, r"packed bits for 10 elements.* = 2 bytes, got 3"),
    (np.zeros((2, 2), np.uint8), ValueError, r"got 4 \(shape \(2, 2\)\)"),
    (np.zeros(10, np.int8), TypeError, "bool array .* or uint8 packed bits"),
    (np.zeros(10, np.float32), TypeError, "float32"),
])
def test_backward_refuses_bad_masks_before_writing(bits, error, match):
    grad = np.ones(10)
    out = np.full(10, 7.0)
    with pytest.raises(error, match=match):
        leaky.leaky_relu_backward(grad, bits, 0.1, out=out)
    assert (out == 7.0).all()


@pytest.mark.parametrize("bits_out, error", [
    (np.zeros(3, np.uint8), ValueError),
    (np.zeros(2, np.int8), TypeError),
    (np.zeros(2, np.uint8)[:0], ValueError),
    ([0, 0], TypeError),
])
def test_forward_refuses_a_bad_bits_out_before_writing(bits_out, error):
    x = np.arange(-5.0, 5.0)
    y_out = np.full(10, 7.0)
    with pytest.raises(error, match="out\\[1\\]"):
        leaky.leaky_relu_with_mask(x, 0.1, packed=True, out=(y_out, bits_out))
    assert (y_out == 7.0).all()


def test_bits_out_must_not_overlap():
    x = np.arange(-5.0, 5.0)
    raw = np.zeros(100, np.uint8)
    y_out = raw[:80].view(np.float64)
    with pytest.raises(ValueError, match="overlap"):
        leaky.leaky_relu_with_mask(x, 0.1, packed=True, out=(y_out, raw[:2]))


def test_packed_takes_a_bool_and_no_ufunc_keywords():
    x = np.arange(-3.0, 3.0)
    with pytest.raises(TypeError, match="packed must be True or False"):
        leaky.leaky_relu_with_mask(x, packed="yes")
    with pytest.raises(TypeError, match="where="):
        leaky.leaky_relu_with_mask(x, packed=True, where=x > 0)
    y, mask = leaky.leaky_relu_with_mask(x, packed=np.bool_(False))
    assert mask.dtype == np.bool_


def test_dask_refuses_packed_masks_by_name():
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.arange(-4.0, 4.0), chunks=3)
    with pytest.raises(TypeError, match="Dask.*position in the whole array"):
        leaky.leaky_relu_with_mask(x, packed=True)
    with pytest.raises(TypeError, match="Dask"):
        leaky.leaky_relu_backward(x, da.from_array(np.zeros(1, np.uint8)))


# --------------------------------------------------------------- backends --

def test_every_backend_packs_and_unpacks_like_numpy(xp):
    if xp.name == "dask":
        pytest.skip("Dask refuses packed masks (tested above)")
    rng = np.random.default_rng(6)
    x = _with_specials(rng.standard_normal((5, 7)).astype(np.float32))
    grad = xp.asarray(rng.standard_normal((5, 7)).astype(np.float32))
    y, bits = leaky.leaky_relu_with_mask(xp.asarray(x), 0.1, packed=True)
    y_bool, mask = leaky.leaky_relu_with_mask(xp.asarray(x), 0.1)
    assert xp.is_native(bits) and xp.dtype_name(bits) == "uint8"
    assert xp.device(bits) == xp.device(xp.asarray(x))
    # The library's own x > 0 (XLA flushes subnormals: its mask says so too).
    np.testing.assert_array_equal(xp.to_numpy(bits), _reference_bits(xp.to_numpy(mask)))
    if not xp.flushes_subnormals:
        np.testing.assert_array_equal(xp.to_numpy(bits), _reference_bits(x))
    assert_same_bits(xp.to_numpy(y), xp.to_numpy(y_bool))
    assert_same_bits(xp.to_numpy(leaky.leaky_relu_backward(grad, bits, 0.1)),
                     xp.to_numpy(leaky.leaky_relu_backward(grad, mask, 0.1)))


def test_jax_packs_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = np.random.default_rng(7).standard_normal(21).astype(np.float32)
    forward = jax.jit(lambda a: leaky.leaky_relu_with_mask(a, 0.1, packed=True))
    backward = jax.jit(lambda g, b: leaky.leaky_relu_backward(g, b, 0.1))
    _, bits = forward(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(bits), _reference_bits(x))
    np.testing.assert_array_equal(np.asarray(backward(jnp.ones(21, jnp.float32), bits)),
                                  leaky.leaky_relu_backward(np.ones(21, np.float32), x > 0, 0.1))


def test_torch_packed_forward_under_autograd_and_out():
    torch = pytest.importorskip("torch")
    x = torch.randn(3, 11, requires_grad=True)
    y, bits = leaky.leaky_relu_with_mask(x, 0.2, packed=True)
    assert bits.dtype == torch.uint8 and not bits.requires_grad
    np.testing.assert_array_equal(bits.numpy(), _reference_bits(x.detach().numpy()))
    y.sum().backward()
    assert torch.equal(x.grad, torch.where(x > 0, 1.0, 0.2))
    grad = torch.randn(3, 11)
    assert torch.equal(leaky.leaky_relu_backward(grad, bits, 0.2),
                       leaky.leaky_relu_backward(grad, x.detach() > 0, 0.2))
    t = x.detach().t()  # not contiguous: through the bool mask, packed
    y_out, bits_out = torch.empty(11, 3), torch.empty(5, dtype=torch.uint8)
    version = bits_out._version
    leaky.leaky_relu_with_mask(t, 0.2, packed=True, out=(y_out, bits_out))
    np.testing.assert_array_equal(bits_out.numpy(), _reference_bits(t.numpy()))
    assert bits_out._version > version
    with pytest.raises(ValueError, match="out\\[1\\]"):
        leaky.leaky_relu_with_mask(t, 0.2, packed=True, out=(None, torch.empty(4, dtype=torch.uint8)))


def test_torch_compile_traces_packed_masks_without_graph_breaks():
    torch = pytest.importorskip("torch")
    import torch._dynamo as dynamo

    def step(x, grad):
        y, bits = leaky.leaky_relu_with_mask(x, 0.1, packed=True)
        return y, bits, leaky.leaky_relu_backward(grad, bits, 0.1)

    x, grad = torch.randn(5, 7), torch.randn(5, 7)
    dynamo.reset()
    assert dynamo.explain(step)(x, grad).graph_break_count == 0
    dynamo.reset()
    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")
    for got, want in zip(compiled(x, grad), step(x, grad)):
        assert torch.equal(got, want)
    np.testing.assert_array_equal(compiled(x, grad)[1].numpy(), _reference_bits(x.numpy()))


def test_containers_keep_their_type_and_the_bits_are_numpy():
    pd = pytest.importorskip("pandas")
    xr = pytest.importorskip("xarray")
    series = pd.Series([-1.0, 2.0, 0.0, 3.0], index=list("abcd"))
    y, series_bits = leaky.leaky_relu_with_mask(series, 0.1, packed=True)
    assert isinstance(y, pd.Series) and list(y.index) == list("abcd")
    np.testing.assert_array_equal(series_bits, _reference_bits(series.to_numpy()))
    array = xr.DataArray(np.array([[-1.0, 2.0], [3.0, -4.0]]), dims=("x", "y"))
    y, bits = leaky.leaky_relu_with_mask(array, 0.1, packed=True)
    assert isinstance(y, xr.DataArray) and y.dims == ("x", "y")
    np.testing.assert_array_equal(bits, _reference_bits(array.values))
    grad_in = leaky.leaky_relu_backward(pd.Series(np.ones(4), index=list("abcd")), series_bits, 0.1)
    assert isinstance(grad_in, pd.Series)
    np.testing.assert_array_equal(grad_in.to_numpy(), [0.1, 1.0, 0.1, 1.0])


def test_torch_negative_bit_views_and_in_place_out():
    torch = pytest.importorskip("torch")
    z = torch.randn(9, dtype=torch.complex64)
    view = z.conj().imag  # a float32 view with the negative bit set
    assert view.is_neg()
    values = view.resolve_neg().numpy().copy()
    y, bits = leaky.leaky_relu_with_mask(view, -0.5, packed=True)
    np.testing.assert_array_equal(bits.numpy(), _reference_bits(values))
    assert_same_bits(y.numpy(), torch_forward(values, -0.5))
    t = torch.from_numpy(values.copy())
    version = t._version
    y, bits = leaky.leaky_relu_with_mask(t, -0.5, packed=True, out=(t, None))
    assert y is t and t._version > version
    assert_same_bits(t.numpy(), torch_forward(values, -0.5))
    np.testing.assert_array_equal(bits.numpy(), _reference_bits(values))


def test_torch_vmap_packs_and_unpacks_sample_by_sample():
    torch = pytest.importorskip("torch")
    from torch.func import vmap
    x, grad = torch.randn(3, 4, 5), torch.randn(3, 4, 5)
    bits = vmap(lambda a: leaky.leaky_relu_with_mask(a, 0.1, packed=True)[1])(x)
    assert bits.shape == (3, 3)  # ceil(20 / 8) bytes per sample
    for sample, row in zip(x, bits):
        np.testing.assert_array_equal(row.numpy(), _reference_bits(sample.numpy()))
    step = lambda a, g: leaky.leaky_relu_backward(  # noqa: E731
        g, leaky.leaky_relu_with_mask(a, 0.1, packed=True)[1], 0.1)
    assert torch.equal(vmap(step)(x, grad), leaky.leaky_relu_backward(grad, x > 0, 0.1))
    shared = bits[0]  # unbatched bits serve every sample
    assert torch.equal(vmap(lambda g: leaky.leaky_relu_backward(g, shared, 0.1))(grad),
                       leaky.leaky_relu_backward(grad, (x[0] > 0).expand(3, 4, 5), 0.1))


def _saved_bytes(run, parameters):
    """Bytes autograd keeps for backward while ``run()`` builds its graph,
    each storage once, parameters' storages not counted."""
    import torch
    params = {p.untyped_storage().data_ptr() for p in parameters}
    storages = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = run()
    return sum(storages.values()), out


def test_mlp_training_step_keeps_about_half_of_torchs_activation_memory():
    """4 blocks of Linear(1024, 1024) + LeakyReLU at batch 512, float32:
    torch keeps each Linear's input and each LeakyReLU's input; leaky keeps
    the Linear's input and 1/32 of it."""
    torch = pytest.importorskip("torch")
    import leaky.torch

    def mlp(layer):
        torch.manual_seed(0)
        return torch.nn.Sequential(*[m for _ in range(4)
                                     for m in (torch.nn.Linear(1024, 1024), layer(0.1))])

    x = torch.randn(512, 1024)
    saved = {}
    for name, layer in (("leaky", leaky.torch.LeakyReLU), ("torch", torch.nn.LeakyReLU)):
        model = mlp(layer)
        saved[name], out = _saved_bytes(lambda: model(x), model.parameters())
        out.sum().backward()  # the step completes from what was saved
    activation = 512 * 1024 * 4
    assert saved["torch"] == 4 * 2 * activation
    assert saved["leaky"] == 4 * activation + 4 * activation // 32
    assert saved["leaky"] / saved["torch"] <= 0.55


@pytest.mark.parametrize("shape", [(4, 8, 4, 4), (3, 5, 7), (2, 16, 4, 4, 2), (7,), (256, 3),
                                   (3, 128), (1, 128, 1), (8, 0), (0, 3, 8)])
def test_the_internal_layout_of_compiled_bits_unpacks_to_the_mask(shape):
    """leaky._packing.pack_internal: channels last, blocks of 8 x 16 where
    the size allows; ceil(n / 8) bytes; the inverse gives the mask back."""
    torch = pytest.importorskip("torch")
    from leaky import _packing
    from leaky._backends.torch import _aten
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(1)) > 0.5
    bits = _packing.pack_internal(_aten.BIT_OPS, mask)
    assert bits.dtype == torch.uint8 and bits.shape == ((mask.numel() + 7) // 8,)
    assert torch.equal(_packing.unpack_internal(_aten.BIT_OPS, bits, mask.shape), mask)
    channels_last = mask.movedim(1, -1) if mask.dim() > 2 else mask
    if mask.numel() and mask.numel() % 128 == 0:  # byte j of a block: elements j, 16 + j, ...
        rows = channels_last.reshape(-1, 8, 16).to(torch.int32)
        want = sum(rows[:, k] << k for k in range(8)).reshape(-1).to(torch.uint8)
    else:
        want = _packing.pack(_aten.BIT_OPS, channels_last)
    assert torch.equal(bits, want)

