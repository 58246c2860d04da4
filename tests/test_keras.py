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


# Keras's own harness for its layers, and the base layer's build rules
# (issue 16): a subclass that overrides build() gets it called.
LAYER_SCRIPT = textwrap.dedent("""
    import unittest
    import numpy as np
    import keras
    from keras.src import testing
    import leaky.keras

    class Scaled(leaky.keras.LeakyReLU):
        def build(self, shape):
            self.scale = self.add_weight(shape=(), initializer="ones")

        def call(self, x):
            return super().call(x) * self.scale

    class LayerTest(testing.TestCase):
        def test_keras_harness(self):
            for slope in (0.5, -0.25, 0.0, 2.0):
                self.run_layer_test(
                    leaky.keras.LeakyReLU, init_kwargs={"negative_slope": slope},
                    input_shape=(2, 3, 4), supports_masking=True,
                    expected_output_shape=(2, 3, 4), expected_num_trainable_weights=0,
                    expected_num_non_trainable_weights=0, expected_num_seed_generators=0,
                    expected_num_losses=0, assert_built_after_instantiation=True)

        def test_keras_harness_checks_values(self):
            x = np.array([[-2.0, -0.0, 0.0, 3.0]], "float32")
            self.run_layer_test(
                leaky.keras.LeakyReLU, init_kwargs={"negative_slope": 0.5},
                input_data=keras.ops.convert_to_tensor(x),
                expected_output=keras.ops.convert_to_tensor(leaky.leaky_relu(x, 0.5)),
                supports_masking=True,
                assert_built_after_instantiation=True)

        def test_subclass_with_its_own_build_gets_built(self):
            layer = Scaled(0.5)
            self.assertFalse(layer.built)
            y = layer(np.array([[-2.0, 2.0]], "float32"))
            self.assertTrue(layer.built)
            self.assertEqual(len(layer.trainable_weights), 1)
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(y), [[-1.0, 2.0]])

        def test_slope_none_is_a_value_error_as_in_keras(self):
            for cls in (keras.layers.LeakyReLU, leaky.keras.LeakyReLU):
                with self.assertRaisesRegex(ValueError, "negative_slope"):
                    cls(negative_slope=None)

        def test_the_string_leaky_relu_stays_kerass_own(self):
            # What docs/keras.rst says: slope 0.2, Keras's built-in.
            dense = keras.layers.Dense(2, activation="leaky_relu")
            self.assertIs(dense.activation, keras.activations.leaky_relu)

    result = unittest.main(argv=["layer"], exit=False, verbosity=2).result
    print("ran", result.testsRun, "failures", len(result.failures) + len(result.errors))
""")

BACKENDS = ["jax", "torch", "tensorflow"]


def _run_under(backend, script):
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec(backend) is None:
        pytest.skip(f"needs keras and {backend}")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    return done


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_models_train_save_and_reload_as_leaky(backend):
    done = _run_under(backend, SCRIPT)
    assert "activation ok" in done.stdout and "layer ok" in done.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_passes_keras_run_layer_test_and_builds_subclasses(backend):
    done = _run_under(backend, LAYER_SCRIPT)
    assert "ran 5 failures 0" in done.stdout, done.stdout + done.stderr[-4000:]


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
