"""JAX: jit, grad and vmap work, the gradient at 0 is the slope, and the
computation never leaves the device."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

import leaky  # noqa: E402


def test_jit_equals_eager():
    x = jnp.linspace(-3, 3, 41, dtype=jnp.float32)
    f = jax.jit(lambda a: leaky.leaky_relu(a, 0.2))
    np.testing.assert_array_equal(f(x), leaky.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(f(x), leaky.leaky_relu(np.asarray(x), 0.2))


@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5])
def test_grad_is_slope_at_zero_and_one_above(slope):
    g = jax.grad(lambda a: leaky.leaky_relu(a, slope))
    assert g(0.0) == np.float32(slope)
    assert g(-0.0) == np.float32(slope)
    assert g(2.0) == 1.0
    assert g(-2.0) == np.float32(slope)


def test_grad_under_jit_and_vmap_match_the_mask_backward():
    x = jnp.array([-2.0, -0.0, 0.0, 1e-3, 5.0], dtype=jnp.float32)
    grads = jax.jit(jax.vmap(jax.grad(lambda a: leaky.leaky_relu(a, 0.3))))(x)
    _, mask = leaky.leaky_relu_with_mask(x, 0.3)
    np.testing.assert_array_equal(grads, leaky.leaky_relu_backward(jnp.ones(5, dtype=x.dtype), mask, 0.3))


def test_float16_computed_in_float32_under_jit():
    x = jnp.asarray(np.linspace(-60000, 60000, 1001).astype(np.float16))
    y = jax.jit(lambda a: leaky.leaky_relu(a, 1.0 / 3.0))(x)
    assert y.dtype == jnp.float16
    np.testing.assert_array_equal(np.asarray(y), leaky.leaky_relu(np.asarray(x), 1.0 / 3.0))


def test_no_host_round_trip():
    x = jnp.linspace(-1, 1, 8)
    with jax.transfer_guard_device_to_host("disallow"):
        y = jax.jit(lambda a: leaky.leaky_relu_with_mask(a, 0.1))(x)
        y = leaky.leaky_relu(x, 0.1)
    assert isinstance(y, jax.Array)


# ----------------------------------------------- a slope that is traced too --

def _all_three(v, s):
    """The three public functions, with the slope as an argument."""
    y, mask = leaky.leaky_relu_with_mask(v, s)
    _, bits = leaky.leaky_relu_with_mask(v, s, packed=True)
    return (leaky.leaky_relu(v, s), y, mask, bits,
            leaky.leaky_relu_backward(v, mask, s), leaky.leaky_relu_backward(v, bits, s))


SPECIALS = [-2.0, -0.0, 0.0, 1e-3, 5.0, -np.inf, np.inf, np.nan, -7.5]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("slope", [0.1, -0.5, 1.5, 0.0, 1.0 / 3.0])
def test_slope_traced_under_jit_gives_the_eager_result(dtype, slope):
    """Issue 16: ``jax.jit(lambda v, s: leaky.leaky_relu(v, s))(x, 0.1)``
    raised ConcretizationTypeError; ``jax.nn.leaky_relu`` takes it."""
    x = jnp.asarray(SPECIALS, dtype=dtype)
    got = jax.jit(_all_three)(x, slope)
    want = _all_three(x, slope)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.asarray(g).view(np.uint8), np.asarray(w).view(np.uint8))


def test_slope_traced_under_grad_and_vmap():
    x = jnp.asarray(SPECIALS[:5] + [-3.0], dtype=jnp.float32)
    # d/ds of sum(leaky_relu(x, s)) = sum of x where x <= 0
    dslope = jax.grad(lambda s: leaky.leaky_relu(x, s).sum())(0.2)
    assert dslope == np.float32(x[x <= 0].sum())
    dx = jax.jit(jax.grad(lambda v, s: leaky.leaky_relu(v, s).sum()))(x, 0.2)
    np.testing.assert_array_equal(dx, jnp.where(x > 0, 1.0, jnp.float32(0.2)))
    slopes = jnp.asarray([0.0, 0.1, -0.5, 2.0], dtype=jnp.float32)
    batched = jax.vmap(lambda s: _all_three(x, s))(slopes)
    for k, s in enumerate([0.0, 0.1, -0.5, 2.0]):
        for got, want in zip(batched, _all_three(x, s), strict=True):
            np.testing.assert_array_equal(got[k], want)


def test_concrete_slope_still_validated_and_traced_slope_needs_jax_x():
    x = jnp.ones(3)
    with pytest.raises(ValueError, match="finite"):
        leaky.leaky_relu(x, float("nan"))
    with pytest.raises(TypeError, match="real number"):
        jax.jit(leaky.leaky_relu)(x, True)
    with pytest.raises(TypeError, match="traced JAX value"):
        jax.jit(lambda s: leaky.leaky_relu(np.ones(3), s))(0.1)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32"])
def test_integers_promote_as_jnp_sin_does_silently(dtype, recwarn):
    """Issue 16: an integer JAX array warned about float64 being truncated."""
    x = jnp.asarray([-3, 0, 2, 1] if "u" not in dtype else [3, 0, 2, 1], dtype=dtype)
    y = leaky.leaky_relu(x, 0.5)
    assert y.dtype == jnp.sin(x).dtype
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)], \
        [str(w.message) for w in recwarn]
    want = leaky.leaky_relu(np.asarray(x).astype(jnp.sin(x).dtype), 0.5)
    np.testing.assert_array_equal(np.asarray(y), want)
