"""Keras 3 on every backend (jax, torch, tensorflow), each in its own
process because Keras picks its backend once, at import: models with
``activation=leaky.leaky_relu`` and with ``leaky.keras.LeakyReLU`` train,
save and reload as leaky's own (no ``custom_objects``), and predict what a
NumPy reference computes."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, tempfile
    import numpy as np
    import keras
    import leaky
    import leaky.keras

    assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 8)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2).astype("float32")

    def reference(model, inputs):
        '''The model's forward pass in NumPy, with leaky's NumPy path.'''
        h = inputs
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                w, b = (np.asarray(v) for v in layer.get_weights())
                h = h @ w + b
                if layer.activation is leaky.leaky_relu:
                    h = leaky.leaky_relu(h)
            else:
                h = leaky.leaky_relu(h, layer.negative_slope)
        return h

    for kind in ("activation", "layer"):
        middle = (keras.layers.Dense(16, activation=leaky.leaky_relu) if kind == "activation"
                  else leaky.keras.LeakyReLU(0.1))
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), middle,
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        losses = model.fit(x, y, epochs=30, batch_size=64, verbose=0).history["loss"]
        assert losses[-1] < 0.5 * losses[0], (kind, losses)

        path = os.path.join(tempfile.mkdtemp(), "model.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
        if kind == "activation":
            assert reloaded.layers[1].activation is leaky.leaky_relu, reloaded.layers[1].activation
        else:
            assert type(reloaded.layers[1]) is leaky.keras.LeakyReLU
            assert reloaded.layers[1].negative_slope == 0.1
        predicted = model.predict(x, verbose=0)
        assert np.array_equal(reloaded.predict(x, verbose=0), predicted)
        np.testing.assert_allclose(predicted, reference(model, x), rtol=1e-5, atol=1e-5)
        print(kind, "ok", losses[0], losses[-1])
""")


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_keras_models_train_save_and_reload_as_leaky(backend):
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec(backend) is None:
        pytest.skip(f"needs keras and {backend}")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert "activation ok" in done.stdout and "layer ok" in done.stdout


def test_without_registration_keras_would_reload_its_own_leaky_relu():
    """Regression: leaky.keras registers leaky.leaky_relu with keras.saving."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("needs keras and jax")
    code = textwrap.dedent("""
        import keras, leaky
        print(keras.saving.get_registered_object("leaky>leaky_relu_array_api") is None)
        import leaky.keras
        print(keras.saving.get_registered_object("leaky>leaky_relu_array_api") is leaky.leaky_relu)
        print(keras.saving.get_registered_name(leaky.leaky_relu))
    """)
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.stdout.split() == ["True", "True", "leaky>leaky_relu_array_api"], done.stderr
