"""Fixtures of the visualize tests: a few real test digits and hand-weighted toy networks."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digit_batch(digits_32):
    """Eight real test digits (32×32) and their labels."""
    _, _, x_test, y_test = digits_32
    return x_test[:8], y_test[:8]


@pytest.fixture(scope="session")
def linear_softmax():
    """A linear classifier on 4×4 images ending in softmax, with hand-set weights ``(W, b)``."""
    import keras

    rng = np.random.default_rng(3)
    weights = rng.normal(size=(16, 3)).astype("float32")
    bias = np.array([0.1, -0.2, 0.3], "float32")
    inputs = keras.Input((4, 4, 1))
    hidden = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(hidden)
    model = keras.Model(inputs, outputs, name="linear")
    model.get_layer("predictions").set_weights([weights, bias])
    return model, weights, bias
