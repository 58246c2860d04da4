"""bfloat16 (ml_dtypes): computed in float32 and rounded once, bit-identical
to PyTorch's CPU kernels on every bit pattern; never read as float16."""

import numpy as np
import pytest

import leaky
from leaky import _cpu, ufuncs
from leaky.ufuncs import _ufuncs_for
from helpers import SLOPES

ml_dtypes = pytest.importorskip("ml_dtypes")
torch = pytest.importorskip("torch")
BF16 = np.dtype(ml_dtypes.bfloat16)


def to_torch(a):
    return torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).view(torch.bfloat16)


def from_torch(t):
    return t.contiguous().view(torch.int16).numpy().view(BF16)


def assert_same_bf16(got, want):
    """Same bits wherever the value is a number; NaN where it is NaN.

    PyTorch's own NaN bits depend on the element's position (0xFFFF from its
    vector body, 0x7FC0 from its scalar tail), so NaN payloads and signs are
    not compared."""
    assert got.dtype == BF16 and want.dtype == BF16
    assert got.shape == want.shape
    got32, want32 = got.astype(np.float32), want.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got32), np.isnan(want32))
    numbers = ~np.isnan(want32)
    np.testing.assert_array_equal(got[numbers].view(np.uint16), want[numbers].view(np.uint16))


def every_bfloat16():
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(BF16)


def test_regression_bfloat16_is_not_read_as_float16():
    got = leaky.leaky_relu(np.array([-2.0, 3.0], dtype=BF16), 0.1)
    assert got.dtype == BF16
    np.testing.assert_array_equal(got.astype(np.float32), np.array([-0.2001953125, 3.0], np.float32))


@pytest.mark.parametrize("slope", SLOPES)
def test_every_bit_pattern_matches_torch(slope):
    x = every_bfloat16()
    grad = np.random.default_rng(1).permutation(x)
    want = from_torch(torch.nn.functional.leaky_relu(to_torch(x), slope))
    assert_same_bf16(leaky.leaky_relu(x, slope), want)
    assert_same_bf16(ufuncs.leaky_relu(x, slope), want)
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    assert_same_bf16(y, want)
    np.testing.assert_array_equal(mask, x.astype(np.float32) > 0)
    want_grad = from_torch(torch.ops.aten.leaky_relu_backward(
        to_torch(grad), to_torch(x), slope, False))
    assert_same_bf16(leaky.leaky_relu_backward(grad, mask, slope), want_grad)


@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5])
def test_strided_and_reversed_layouts_match_torch(slope):
    x = every_bfloat16()
    view = x.reshape(256, 256)[::-3, ::2]
    want = from_torch(torch.nn.functional.leaky_relu(to_torch(view), slope))
    assert_same_bf16(leaky.leaky_relu(view, slope), want)
    out = np.empty((view.shape[1], view.shape[0]), BF16).T
    assert leaky.leaky_relu(view, slope, out=out) is out
    assert_same_bf16(out, want)
    grad = np.ones(view.shape, BF16)[:, ::-1]
    mask = leaky.leaky_relu_with_mask(view, slope)[1]
    assert_same_bf16(leaky.leaky_relu_backward(grad, mask, slope),
                     from_torch(torch.ops.aten.leaky_relu_backward(
                         to_torch(grad), to_torch(view), slope, False)))


def test_in_place_and_integers_into_bfloat16():
    x = np.array([-4.0, 2.0, -0.0, np.inf], BF16)
    assert leaky.leaky_relu(x, 0.25, out=x) is x
    np.testing.assert_array_equal(x.astype(np.float32), [-1.0, 2.0, -0.0, np.inf])
    out = np.empty(3, BF16)
    leaky.leaky_relu(np.array([-4, 0, 3], np.int8), 0.5, out=out)
    np.testing.assert_array_equal(out.astype(np.float32), [-2.0, 0.0, 3.0])


def _same_bits(got, want):
    np.testing.assert_array_equal(np.asarray(got).view(np.uint16), np.asarray(want).view(np.uint16))


# The SIMD tiers (AVX2: 16 elements a step, AVX-512: 32) round in integers;
# they must give the baseline's bits (the element functions of
# leaky_convert.h, which the portable tier runs) for every pattern, NaN
# payloads and signs included, at every offset and tail length, and read
# any nonzero mask byte as true.
@pytest.mark.parametrize("variant", _cpu.supported_variants())
@pytest.mark.parametrize("slope", [0.01, -0.5, 1.0 / 3.0, 0.0, -0.0, 2.5, 1e38])
def test_every_cpu_variant_gives_the_same_bits(variant, slope):
    every = every_bfloat16()
    base = _ufuncs_for(_cpu.load("baseline"))
    mine = _ufuncs_for(_cpu.load(variant))
    mask_bytes = np.random.default_rng(2).integers(0, 4, every.size, dtype=np.uint8) * 85
    for layout in (slice(None), slice(None, None, -1), slice(1, None), slice(3, -5)):
        x = every[layout]
        _same_bits(mine["leaky_relu"](x, slope), base["leaky_relu"](x, slope))
        y_base, m_base = base["leaky_relu_with_mask"](x, slope)
        y, m = mine["leaky_relu_with_mask"](x, slope)
        _same_bits(y, y_base)
        np.testing.assert_array_equal(m, m_base)
        mask = mask_bytes[layout].view(np.bool_)  # bytes 0, 85, 170, 255
        _same_bits(mine["leaky_relu_backward"](x, mask, slope),
                   base["leaky_relu_backward"](x, mask, slope))


def test_bfloat16_slope_too_large_for_float32_is_refused():
    with pytest.raises(ValueError, match="overflows float32"):
        leaky.leaky_relu(np.ones(2, BF16), 1e39)
