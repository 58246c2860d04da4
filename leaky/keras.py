"""leaky for Keras 3, on every backend: a layer and an activation that save
with ``model.save`` and reload as leaky's own.

Importing this module imports keras (``import leaky`` alone does not) and
registers with ``keras.saving``, under the package name ``leaky``:

* :class:`LeakyReLU`, the layer (``leaky>LeakyReLU``);
* :func:`leaky_relu`, the activation (``leaky>leaky_relu``);
* :func:`leaky.leaky_relu` itself (``leaky>leaky_relu_array_api``), so that
  ``activation=leaky.leaky_relu`` reloads as leaky's function and not as
  Keras's built-in ``leaky_relu`` (slope 0.2) of the same name.

Under each backend the layer and the activation run leaky's path for that
backend's tensors: the generic array-API code for JAX, the registered torch
operators for PyTorch, TensorFlow ops with a custom gradient for TensorFlow.
"""

import keras

from . import _api
from . import _contract

__all__ = ["LeakyReLU", "leaky_relu"]

_PACKAGE = "leaky"


@keras.saving.register_keras_serializable(package=_PACKAGE, name="leaky_relu")
def leaky_relu(x, negative_slope=_contract.DEFAULT_SLOPE):
    """Leaky ReLU activation: ``x if x > 0 else negative_slope * x``.

    Parameters
    ----------
    x : tensor
        A tensor of the Keras backend in use.
    negative_slope : float, optional
        Any finite real number.  Default 0.01 (Keras's own defaults to 0.2).

    Returns
    -------
    tensor
        Of ``x``'s dtype; the gradient is the slope at 0.
    """
    return _api.leaky_relu(x, negative_slope)


# activation=leaky.leaky_relu must reload as itself.
keras.saving.register_keras_serializable(package=_PACKAGE, name="leaky_relu_array_api")(
    _api.leaky_relu)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LeakyReLU(keras.layers.Layer):
    """Leaky ReLU layer, as ``keras.layers.LeakyReLU`` but with leaky's
    semantics (select, any finite slope, default 0.01) and kernels.

    Parameters
    ----------
    negative_slope : float, optional
        Any finite real number.  Default 0.01.
    **kwargs
        Keras layer arguments (``name``, ``dtype``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> import leaky.keras
    >>> layer = leaky.keras.LeakyReLU(0.5)
    >>> layer.get_config()["negative_slope"]
    0.5
    >>> np.asarray(layer(np.array([-2.0, 2.0], dtype="float32")))
    array([-1.,  2.], dtype=float32)
    """

    def __init__(self, negative_slope=_contract.DEFAULT_SLOPE, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is None:  # as keras.layers.LeakyReLU says it
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be "
                             "None. Expected a finite float. Received: negative_slope=None")
        self.negative_slope = _contract.validate_slope(negative_slope)
        self.supports_masking = True
        # No weights: built now, unless a subclass overrides build() (Keras's
        # own rule, from the base layer, as keras.layers.LeakyReLU uses it).
        self._build_at_init()

    def call(self, inputs):
        return _api.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config
