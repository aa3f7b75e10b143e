"""Session-wide fixtures: the real digits and a LeNet-5 trained on them once per test session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def digits_28():
    """The real digits at 28×28: ``(x_train, y_train, x_test, y_test)``, float32 in [0, 1]."""
    import kerasconv

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=28)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=28)
    return x_train, y_train, x_test, y_test


@pytest.fixture(scope="session")
def digits_32():
    """The real digits at 32×32 (LeNet-5's input size): ``(x_train, y_train, x_test, y_test)``."""
    import kerasconv

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    return x_train, y_train, x_test, y_test


# Backwards-friendly names used by several test modules.
@pytest.fixture(scope="session")
def digits_train(digits_32):
    return digits_32[0], digits_32[1]


@pytest.fixture(scope="session")
def digits_test(digits_32):
    return digits_32[2], digits_32[3]


def _train_lenet(digits, seed):
    import keras

    import kerasconv

    x_train, y_train, x_test, y_test = digits
    # Seed before building: the initial weights are part of what makes the fixture reproducible.
    keras.utils.set_random_seed(seed)
    model = kerasconv.models.LeNet5(classes=10, name=f"lenet5_seed{seed}")
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=15,
        batch_size=32,
        learning_rate=0.05,
        seed=seed,
        verbose=0,
    )
    return model


@pytest.fixture(scope="session")
def trained_lenet(digits_32):
    """LeNet-5 (modern, softmax output) trained on the real digits at 32×32; >= 94% test accuracy.

    Tests must not modify it (every kerasconv tool promises not to).
    """
    model = _train_lenet(digits_32, seed=0)
    accuracy = float(np.mean(np.argmax(model.predict(digits_32[2], verbose=0), -1) == digits_32[3]))
    # Seeds 0-4, oneDNN on and off: 0.964-0.983 (mean 0.973, sd 0.006). This only guards that the
    # fixture learned; its dependents need >= 0.93 (test_visualize_lenet's neighbour agreement).
    # 0.94 is 5 sd under the mean (0.95 was 3.6 sd, 2 sd under the minimum).
    assert accuracy >= 0.94, f"fixture LeNet-5 reached only {accuracy:.3f} test accuracy"
    return model


@pytest.fixture(scope="session")
def trained_lenet_b(digits_32):
    """A second LeNet-5 trained from another seed (for transfer attacks and comparisons)."""
    return _train_lenet(digits_32, seed=1)
