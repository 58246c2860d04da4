"""Keras 3 on the JAX backend, with ``activation=leaky.leaky_relu``: the
model trains and its loss goes down.  Runs in a subprocess, because Keras
picks its backend once, at import."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None,
    reason="needs keras and jax")

SCRIPT = textwrap.dedent("""
    import numpy as np
    import keras
    import leaky

    assert keras.backend.backend() == "jax", keras.backend.backend()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 8)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2).astype("float32")
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(32, activation=leaky.leaky_relu),
        keras.layers.Dense(32, activation=lambda t: leaky.leaky_relu(t, 0.2)),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    print("losses", losses)
    assert losses[-1] < 0.5 * losses[0], losses
""")


def test_keras_model_with_leaky_activation_trains():
    env = dict(os.environ, KERAS_BACKEND="jax")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "losses" in done.stdout
