"""Contract tests run on every layer of kerasconv.layers.

For each layer: ``get_config`` round trip, ``.keras`` save/load and ``model.export()`` round trips
with identical outputs, output shapes with unknown batch and spatial sizes (and agreement with
``compute_output_shape``), and gradients against central finite differences in float64.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv import layers as kl


def _zca(dtype=None):
    layer = kl.ZCAWhitening(epsilon=0.1, dtype=dtype)
    data = np.random.default_rng(3).random((64, 4, 4, 1))
    layer.adapt(data)
    return layer


# name -> (factory(dtype) returning a layer, concrete input shape without batch, unknown H/W ok)
CASES = {
    "lrn": (
        lambda d: kl.LocalResponseNormalization(
            depth_radius=2, bias=1.0, alpha=0.3, beta=0.75, dtype=d
        ),
        (5, 5, 6),
        True,
    ),
    "lcn": (lambda d: kl.LocalContrastNormalization(3, sigma=1.0, dtype=d), (6, 6, 3), True),
    "zca": (_zca, (4, 4, 1), False),
    "maxout": (lambda d: kl.Maxout(3, dtype=d), (4, 4, 6), True),
    "locally_connected": (
        lambda d: kl.LocallyConnected2D(3, 3, bias_initializer="random_normal", dtype=d),
        (6, 6, 2),
        False,
    ),
    "tiled": (
        lambda d: kl.TiledConv2D(3, 3, tile_size=2, bias_initializer="random_normal", dtype=d),
        (6, 7, 2),
        True,
    ),
    "argmax_pooling": (lambda d: kl.MaxPoolingWithArgmax2D(2, dtype=d), (6, 6, 2), True),
    "unpooling": (None, (6, 6, 2), True),
    "subsampling": (
        lambda d: kl.Subsampling2D(2, activation=kl.lecun_tanh, dtype=d),
        (6, 6, 2),
        True,
    ),
    "connection_table": (
        lambda d: kl.ConnectionTableConv2D(((0,), (0, 1), (1,)), kernel_size=3, dtype=d),
        (6, 6, 2),
        True,
    ),
}


def _model(name, input_shape, dtype="float32"):
    factory = CASES[name][0]
    inputs = keras.Input(input_shape, name="images", dtype=dtype)
    if name == "unpooling":
        pooled, argmax = kl.MaxPoolingWithArgmax2D(2, dtype=dtype)(inputs)
        outputs = kl.MaxUnpooling2D(dtype=dtype)([pooled, argmax, inputs])
    elif name == "argmax_pooling":
        outputs = factory(dtype)(inputs)[0]
    else:
        outputs = factory(dtype)(inputs)
    return keras.Model(inputs, outputs, name=f"{name}_model")


def _inputs(shape, batch=3, seed=0, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(batch,) + shape).astype(dtype)


def _randomise(model, seed=1):
    # Non-default weights, so that a round trip which lost them would show.
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.trainable_weights:
            layer.set_weights([rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()])


@pytest.mark.parametrize("name", sorted(CASES))
def test_get_config_round_trip(name):
    model = _model(name, CASES[name][1])
    for layer in model.layers[1:]:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_file_round_trip(name, tmp_path):
    shape = CASES[name][1]
    model = _model(name, shape)
    _randomise(model)
    x = _inputs(shape)
    expected = model.predict(x, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    if name == "zca":
        assert loaded.layers[1].adapted


@pytest.mark.parametrize("name", sorted(CASES))
def test_export_round_trip(name, tmp_path):
    shape = CASES[name][1]
    model = _model(name, shape)
    _randomise(model)
    x = _inputs(shape)
    expected = model.predict(x, verbose=0)
    model.export(str(tmp_path / name), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / name))  # keep a reference: it owns the variables
    served = reloaded.serve(tf.constant(x))
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_with_unknown_batch_and_spatial_sizes(name):
    _, shape, spatial_free = CASES[name]
    channels = shape[-1]
    symbolic = shape if not spatial_free else (None, None, channels)
    model = _model(name, symbolic)
    assert model.output.shape[0] is None
    if spatial_free:
        assert model.output.shape[1:3] == (None, None)
    sizes = [shape, (shape[0] + 2, shape[1] + 4, channels)] if spatial_free else [shape]
    layer = model.layers[-1]
    for batch, size in zip((1, 4), sizes):
        x = _inputs(size, batch=batch)
        y = model(x)
        if name == "unpooling":
            assert y.shape == x.shape
            continue
        expected = layer.compute_output_shape((batch,) + size)
        if name == "argmax_pooling":
            expected = expected[0]
        assert tuple(y.shape) == tuple(expected)


def test_layers_that_need_known_sizes_say_so():
    with pytest.raises(ValueError, match="known input height and width"):
        kl.LocallyConnected2D(2, 3)(keras.Input((None, None, 1)))
    with pytest.raises(ValueError, match="fully known shape"):
        kl.ZCAWhitening()(keras.Input((None, 4, 1)))
    with pytest.raises(ValueError, match="not divisible"):
        kl.Maxout(4)(keras.Input((3, 3, 6)))
    with pytest.raises(ValueError, match="known size"):
        kl.Maxout(2)(keras.Input((3, 3, None)))


def _finite_difference_gradient(function, x, step=1e-6):
    gradient = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), gradient.reshape(-1)
    for index in range(flat_x.size):
        saved = flat_x[index]
        flat_x[index] = saved + step
        upper = function(x)
        flat_x[index] = saved - step
        lower = function(x)
        flat_x[index] = saved
        flat_g[index] = (upper - lower) / (2 * step)
    return gradient


GRADIENT_SHAPES = {
    "lrn": (2, 2, 5),
    "lcn": (4, 4, 2),
    "zca": (4, 4, 1),
    "maxout": (2, 2, 6),
    "locally_connected": (4, 4, 2),
    "tiled": (4, 5, 2),
    "argmax_pooling": (4, 4, 2),
    "unpooling": (4, 4, 2),
    "subsampling": (4, 4, 2),
    "connection_table": (4, 4, 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name):
    shape = GRADIENT_SHAPES[name]
    model = _model(name, CASES[name][1] if name == "zca" else shape, dtype="float64")
    _randomise(model)
    x = _inputs(shape, batch=1, seed=5, dtype="float64")
    weights = np.random.default_rng(6).normal(size=model(x).shape)

    def score(inputs):
        return float(np.sum(model(inputs).numpy() * weights))

    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        value = tf.reduce_sum(model(x_tensor) * weights)
    analytic = tape.gradient(value, x_tensor).numpy()
    numeric = _finite_difference_gradient(score, x.copy())
    assert np.abs(analytic).max() > 1e-3  # a zero gradient would pass trivially
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)
