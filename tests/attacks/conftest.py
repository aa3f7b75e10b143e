"""Fixtures of the attack tests: a batch of real test digits and a small third model."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def attack_batch(digits_32, trained_lenet):
    """64 test digits that the fixture LeNet classifies correctly, with their labels."""
    x_test, y_test = digits_32[2], digits_32[3]
    predictions = np.argmax(trained_lenet.predict(x_test, verbose=0), -1)
    keep = np.flatnonzero(predictions == y_test)[:64]
    return x_test[keep].copy(), y_test[keep].copy()


@pytest.fixture(scope="session")
def small_convnet(digits_32):
    """A small convnet of another architecture (for ensembles), trained briefly on the digits."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="small_convnet",
    )
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(digits_32[0], digits_32[1], epochs=6, batch_size=64, verbose=0)
    return model
