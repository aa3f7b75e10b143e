"""extract_features: exact values on a hand-weighted net, tf.data input, and the on-disk cache."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv.transfer import extract_features, model_fingerprint


def _toy_model():
    """A 2×2 box-sum convolution (no bias), a flatten and a 2-unit dense layer of known weights."""
    inputs = keras.Input((4, 4, 1), name="input")
    x = keras.layers.Conv2D(1, 2, use_bias=False, name="box", kernel_initializer="ones")(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(2, name="dense")(x)
    model = keras.Model(inputs, outputs, name="toy")
    kernel = np.zeros((9, 2), "float32")
    kernel[:, 0] = 1.0  # unit 0: total of the box sums
    kernel[4, 1] = 2.0  # unit 1: twice the central box sum
    model.get_layer("dense").set_weights([kernel, np.array([0.5, -1.0], "float32")])
    return model


def _images(n=5, seed=0):
    return np.random.default_rng(seed).random((n, 4, 4, 1)).astype("float32")


def test_exact_values_and_flattening():
    model, x = _toy_model(), _images()
    features = extract_features(model, ["input", "box", "dense"], x, batch_size=2)
    assert list(features) == ["input", "box", "dense"]
    np.testing.assert_array_equal(features["input"], x.reshape(5, 16))
    box = x[:, :-1, :-1, 0] + x[:, 1:, :-1, 0] + x[:, :-1, 1:, 0] + x[:, 1:, 1:, 0]
    np.testing.assert_allclose(features["box"], box.reshape(5, 9), rtol=1e-6)
    expected = np.stack([box.reshape(5, 9).sum(1) + 0.5, 2 * box[:, 1, 1] - 1.0], axis=1)
    np.testing.assert_allclose(features["dense"], expected, rtol=1e-5)


def test_arrays_and_datasets_agree_and_batch_size_does_not_matter():
    model, x = _toy_model(), _images(7)
    y = np.arange(7)
    reference = extract_features(model, "box", x, batch_size=7)["box"]
    for data in (
        tf.data.Dataset.from_tensor_slices(x).batch(3),
        tf.data.Dataset.from_tensor_slices(x),  # unbatched: batched inside
        tf.data.Dataset.from_tensor_slices((x, y)).batch(2),
    ):
        np.testing.assert_allclose(extract_features(model, "box", data)["box"], reference, 1e-6)
    features, labels = extract_features(
        model, "box", tf.data.Dataset.from_tensor_slices((x, y)).batch(4), return_labels=True
    )
    np.testing.assert_array_equal(labels, y)
    _, labels = extract_features(model, "box", (x, y), return_labels=True)
    np.testing.assert_array_equal(labels, y)
    _, labels = extract_features(model, "box", x, return_labels=True)
    assert labels is None


def test_cache_is_read_and_keyed_by_weights_layer_and_data(tmp_path):
    model, x = _toy_model(), _images()
    first = extract_features(model, ["box", "dense"], x, cache_dir=tmp_path)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.endswith(".npy") for f in files)
    # Overwrite the cached box features with a sentinel: a cache hit must return it unchanged.
    box_file = next(f for f in files if "__box__" in f)
    np.save(tmp_path / box_file, np.full_like(first["box"], 7.0))
    again = extract_features(model, ["box", "dense"], x, cache_dir=tmp_path)
    assert np.all(again["box"] == 7.0)
    np.testing.assert_array_equal(again["dense"], first["dense"])
    # Other data: a new key, computed afresh.
    other = extract_features(model, "box", x[:3], cache_dir=tmp_path)["box"]
    np.testing.assert_allclose(other, first["box"][:3], rtol=1e-6)
    # Changed weights: a new fingerprint, so the stale sentinel is not read.
    key = model_fingerprint(model)
    model.get_layer("box").set_weights([np.full((2, 2, 1, 1), 2.0, "float32")])
    assert model_fingerprint(model) != key
    doubled = extract_features(model, "box", x, cache_dir=tmp_path)["box"]
    np.testing.assert_allclose(doubled, 2 * first["box"], rtol=1e-6)
    assert len(os.listdir(tmp_path)) == 4


def test_cache_refuses_a_reshuffling_dataset(tmp_path):
    model, x = _toy_model(), _images(40)
    shuffled = tf.data.Dataset.from_tensor_slices(x).shuffle(40, reshuffle_each_iteration=True)
    with pytest.raises(ValueError, match="fixed order"):
        extract_features(model, "box", shuffled.batch(8), cache_dir=tmp_path)


def test_does_not_retrace_on_new_data():
    from kerasconv.transfer.features import _compiled_extractor

    model = _toy_model()
    extract_features(model, "box", _images(5), batch_size=2)
    step = _compiled_extractor(model, ("box",), False)
    traces = step.experimental_get_tracing_count()
    extract_features(model, "box", _images(9, seed=1), batch_size=4)
    assert _compiled_extractor(model, ("box",), False) is step
    assert step.experimental_get_tracing_count() == traces


def test_bad_input_gets_clear_errors():
    model = _toy_model()
    with pytest.raises(ValueError, match="no layer 'nope'"):
        extract_features(model, "nope", _images())
    with pytest.raises(ValueError, match="shape"):
        extract_features(model, "box", np.zeros((4, 4)))
    with pytest.raises(TypeError, match="keras.Model"):
        extract_features("model", "box", _images())
    with pytest.raises(ValueError, match="duplicates"):
        extract_features(model, ["box", "box"], _images())
    with pytest.raises(ValueError, match="labels"):
        extract_features(model, "box", (_images(3), np.zeros(2)))
