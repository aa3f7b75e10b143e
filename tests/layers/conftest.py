"""Fixtures for the layer tests: the real digits at 16×16, loaded once per session."""

import pytest


@pytest.fixture(scope="session")
def layers_digits16():
    """The real digits at 16×16: ``(x_train, y_train, x_test, y_test)``, float32 in [0, 1]."""
    import kerasconv

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=16)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=16)
    return x_train, y_train, x_test, y_test
