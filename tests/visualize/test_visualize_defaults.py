"""Visualiser defaults that used to mislead: dead units, self-matches, ReLU variants, bad sizes."""

import warnings

import keras
import numpy as np
import pytest

from kerasconv import visualize
from tests._compare import assert_close_nontrivial


def _dead_channel_model():
    """A 1×1 convolution with one live channel (weight +1) and one dead one (bias −1, ReLU)."""
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="conv")
    outputs = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    model = keras.Model(inputs, outputs)
    conv.set_weights([np.array([1.0, 0.0], "float32").reshape(1, 1, 1, 2), np.array([0, -1.0])])
    return model


def test_top_patches_refuses_a_dead_channel_and_warns_on_ties():
    model = _dead_channel_model()
    images = np.random.default_rng(0).random((5, 6, 6, 1)).astype("float32")
    with pytest.raises(ValueError, match="dead unit"):
        visualize.top_patches(model, "conv", images, channel=1, k=3)
    live = visualize.top_patches(model, "conv", images, channel=0, k=3)
    # Channel 0 is the pixel itself: each image's patch is its brightest pixel, strongest first.
    np.testing.assert_array_equal(live.values, np.sort(images.max(axis=(1, 2, 3)))[::-1][:3])
    images[3:] = 0.0  # two black images tie at the minimum
    with pytest.warns(UserWarning, match="ties"):
        visualize.top_patches(model, "conv", images, channel=0, k=4)


def test_activation_maximization_wakes_or_reports_dead_units():
    model = _dead_channel_model()
    # From the default start (noise of std 0.1 around 0) channel 1 (bias -1) is dead: the wake
    # restart (uniform in [0, 1)) cannot wake it either (its weight is 0), so it is reported.
    with pytest.warns(UserWarning, match=r"targets \[1\]"):
        result = visualize.activation_maximization(model, [0, 1], layer="conv", steps=3)
    assert result.stuck.tolist() == [False, True]
    assert result.restarted.tolist() == [False, True]
    assert result.scores[0] > result.history["score"][0, 0]
    # A unit dead at a black start but alive for bright images: weight +1, bias -0.5.
    model.get_layer("conv").set_weights(
        [np.array([1.0, 1.0], "float32").reshape(1, 1, 1, 2), np.array([0, -0.5])]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        woken = visualize.activation_maximization(
            model, [1], layer="conv", steps=3, init="zeros", learning_rate=0.1
        )
    assert woken.restarted.tolist() == [True] and woken.stuck.tolist() == [False]
    assert woken.scores[0] > 0


def test_out_of_range_channel_and_wrong_image_size_get_clear_errors(trained_lenet, digit_batch):
    x, _ = digit_batch
    with pytest.raises(ValueError, match=r"channel indices of layer 'c3' in \[0, 15\]"):
        visualize.activation_maximization(trained_lenet, [16], layer="c3", steps=1)
    with pytest.raises(ValueError, match=r"\(batch, 32×32×1\)"):
        visualize.invert_features(trained_lenet, np.zeros((1, 28, 28, 1), "float32"), "c1")


def test_nearest_neighbors_excludes_the_query_itself_at_large_norms():
    rng = np.random.default_rng(0)
    # Feature norms of 1e5: squared distances by expansion are off by ~1e-6 relative, far more
    # than the old "distance <= 1e-9" test for self-matches allowed.
    database = (1e5 + rng.normal(size=(50, 8))).astype("float32")
    queries = database[[3, 17, 42]]
    found = visualize.nearest_neighbors(queries, database, k=3, exclude_self=True)
    assert not np.any(found == np.array([[3], [17], [42]]))
    by_index = visualize.nearest_neighbors(
        queries, database, k=3, exclude_self=np.array([3, 17, 42])
    )
    np.testing.assert_array_equal(by_index, found)
    # The neighbours agree with a direct computation in float64.
    direct = ((queries[:, None].astype("float64") - database[None].astype("float64")) ** 2).sum(-1)
    direct[np.arange(3), [3, 17, 42]] = np.inf
    np.testing.assert_array_equal(found[:, 0], direct.argmin(1))
    with pytest.raises(ValueError, match="one database index per query"):
        visualize.nearest_neighbors(queries, database, exclude_self=[1, 2])


def _capped_net(activation_layer):
    inputs = keras.Input((3, 3, 1))
    hidden = keras.layers.Conv2D(2, 1, name="conv")(inputs)
    hidden = activation_layer(hidden)
    outputs = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(hidden))
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights(
        [np.array([1.0, -1.0], "float32").reshape(1, 1, 1, 2), np.zeros(2, "float32")]
    )
    weights = np.random.default_rng(1).normal(size=(18, 2)).astype("float32")
    model.get_layer("logits").set_weights([weights, np.zeros(2, "float32")])
    return model, weights


def test_guided_backprop_follows_capped_relus_and_warns_on_leaky_ones():
    model, weights = _capped_net(keras.layers.ReLU(max_value=0.5, name="relu6ish"))
    x = np.linspace(-1, 1, 9, dtype="float32").reshape(1, 3, 3, 1)
    guided = visualize.guided_backprop(model, x, 0)[0, ..., 0]
    # By hand: unit (i, c) of the conv is c=0: x, c=1: -x; it is active when 0 < value < 0.5.
    upstream = np.maximum(weights[:, 0].reshape(3, 3, 2), 0)
    value = np.stack([x[0, ..., 0], -x[0, ..., 0]], axis=-1)
    active = (value > 0) & (value < 0.5)
    expected = (upstream * active * np.array([1.0, -1.0])).sum(-1)
    assert_close_nontrivial(guided, expected, atol=1e-6)
    leaky, _ = _capped_net(keras.layers.LeakyReLU(negative_slope=0.1, name="leaky"))
    with pytest.warns(UserWarning, match=r"leaky \(LeakyReLU\)"):
        visualize.guided_backprop(leaky, x, 0)
