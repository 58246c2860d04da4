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
