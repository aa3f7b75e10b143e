"""Maxout: hand-computed values, grouping convention and parameter counts."""

import keras
import numpy as np
import pytest

from kerasconv.layers import Maxout


def test_maxout_hand_computed_values():
    x = np.array([[1.0, 3.0, -2.0, -5.0, 0.5, 0.25]], "float32")
    np.testing.assert_array_equal(Maxout(2)(x).numpy(), [[3.0, -2.0, 0.5]])
    np.testing.assert_array_equal(Maxout(3)(x).numpy(), [[3.0, 0.5]])
    np.testing.assert_array_equal(Maxout(1)(x).numpy(), x)


def test_maxout_groups_consecutive_channels_of_feature_maps():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 6)).astype("float32")
    out = Maxout(3)(x).numpy()
    np.testing.assert_array_equal(out[..., 0], x[..., 0:3].max(-1))
    np.testing.assert_array_equal(out[..., 1], x[..., 3:6].max(-1))
    along_height = Maxout(3, axis=1)(x).numpy()
    assert along_height.shape == (2, 1, 4, 6)
    np.testing.assert_array_equal(along_height[:, 0], x.max(axis=1))


def test_maxout_network_parameter_count():
    # Goodfellow et al.'s permutation-invariant MNIST net: 2 x (240 units x 5 pieces) + softmax.
    inputs = keras.Input((784,))
    h = Maxout(5)(keras.layers.Dense(240 * 5)(inputs))
    h = Maxout(5)(keras.layers.Dense(240 * 5)(h))
    model = keras.Model(inputs, keras.layers.Dense(10)(h))
    assert model.count_params() == 1_233_610
    assert model.output.shape == (None, 10)


def test_maxout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_pieces"):
        Maxout(0)
    with pytest.raises(TypeError, match="num_pieces"):
        Maxout(2.5)
    with pytest.raises(ValueError, match="axis"):
        Maxout(2, axis=0)(keras.Input((4,)))
