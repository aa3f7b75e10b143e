"""Fixtures of the visualize tests: a few real test digits and hand-weighted toy networks."""

import numpy as np
import pytest


def first_correct_of_each_class(model, x, y, classes):
    """Index of the first test image of each class in ``classes`` that ``model`` classifies right."""
    predictions = np.argmax(model.predict(x, verbose=0), axis=-1)
    return np.array([np.flatnonzero((y == c) & (predictions == c))[0] for c in classes])


@pytest.fixture(scope="session")
def digit_batch(trained_lenet, digits_32):
    """Eight real test digits (32×32) and their labels, picked by a rule, not by index: the first
    test image of each class 0–7 that the fixture LeNet-5 classifies correctly (one per class, so
    no digit is repeated and every gradient starts from a correct, confident prediction)."""
    _, _, x_test, y_test = digits_32
    chosen = first_correct_of_each_class(trained_lenet, x_test, y_test, range(8))
    return x_test[chosen], y_test[chosen]


@pytest.fixture(scope="session")
def ten_digits(trained_lenet, digits_32):
    """The first test image of each class 0–9 that the fixture LeNet-5 classifies correctly."""
    _, _, x_test, y_test = digits_32
    chosen = first_correct_of_each_class(trained_lenet, x_test, y_test, range(10))
    return x_test[chosen], y_test[chosen]


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
