"""Runtime CPU dispatch: every kernel variant this CPU runs gives the same
bits as the baseline and as PyTorch."""

import os
import subprocess
import sys

import numpy as np
import pytest

from leaky import _cpu
from leaky.ufuncs import _ufuncs_for
from helpers import assert_same_bits, special_values, torch_backward, torch_forward

VARIANTS = _cpu.supported_variants()
SLOPES = (0.01, -0.5, 1.5, 1.0 / 3.0, 0.0)


def _inputs(dtype):
    rng = np.random.default_rng(11)
    if dtype == np.float16:  # every float16 value
        x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    else:
        x = np.concatenate([special_values(dtype), rng.standard_normal(5000).astype(dtype),
                            (rng.standard_normal(1000) * np.finfo(dtype).tiny).astype(dtype)])
    return x, rng.standard_normal(x.size).astype(dtype)


def _run_all(kernels, x, grad, slope):
    """Every loop of one variant's ufuncs: unit-stride and strided."""
    ufuncs = _ufuncs_for(kernels)
    y = ufuncs["leaky_relu"](x, slope)
    y_mask, mask = ufuncs["leaky_relu_with_mask"](x, slope)
    grad_in = ufuncs["leaky_relu_backward"](grad, x > 0, slope)
    strided = np.empty(x.size * 2, x.dtype)[::2]
    ufuncs["leaky_relu"](x[::-1], slope, out=strided)
    return y, y_mask, mask, grad_in, strided


def test_baseline_is_always_supported():
    assert VARIANTS[0] == "baseline"
    assert _cpu.active_variant() in VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("slope", SLOPES)
def test_variant_matches_baseline_and_torch(variant, dtype, slope):
    x, grad = _inputs(dtype)
    got = _run_all(_cpu.load(variant), x, grad, slope)
    base = _run_all(_cpu.load("baseline"), x, grad, slope)
    for a, b in zip(got, base):
        np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint8),
                                      np.ascontiguousarray(b).view(np.uint8))  # all bits
    assert_same_bits(got[0], torch_forward(x, slope))
    assert_same_bits(got[3], torch_backward(grad, x, slope))
    assert_same_bits(got[4], torch_forward(x[::-1], slope))


@pytest.mark.parametrize("variant", VARIANTS)
def test_environment_variable_forces_a_variant(variant):
    code = "import leaky._cpu as c; print(c.active_variant())"
    env = dict(os.environ, **{_cpu.ENV_VARIABLE: variant})
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == variant, done.stderr


def test_unknown_or_unsupported_variant_is_refused_at_import():
    env = dict(os.environ, **{_cpu.ENV_VARIABLE: "no-such-isa"})
    done = subprocess.run([sys.executable, "-c", "import leaky"], capture_output=True,
                          text=True, env=env)
    assert done.returncode != 0
    assert "unknown kernel variant 'no-such-isa'" in done.stderr
