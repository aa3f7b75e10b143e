"""ZCAWhitening: a hand-computed 2-D case, the real digits, streaming adapt, inverse, plot."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv.layers import ZCAWhitening


def test_zca_hand_computed_two_dimensional_case():
    # Four points with covariance [[2, 1], [1, 2]] (eigenvalues 3 and 1) around the mean (10, -2).
    r = np.sqrt(0.75)
    x = np.array([[1.5, 1.5], [-1.5, -1.5], [r, -r], [-r, r]]) + [10.0, -2.0]
    layer = ZCAWhitening(epsilon=0.0)
    layer.adapt(x.astype("float32"))
    a, b = (
        1 / np.sqrt(3),
        1.0,
    )  # C^(-1/2) = U diag(1/sqrt(3), 1) U^T with U = [[1, 1], [1, -1]]/sqrt(2)
    expected = 0.5 * np.array([[a + b, a - b], [a - b, a + b]])
    np.testing.assert_allclose(layer.whitening_matrix.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(layer.mean.numpy(), [10.0, -2.0], rtol=1e-6)
    np.testing.assert_allclose(layer.eigenvalues.numpy(), [3.0, 1.0], rtol=1e-6)
    y = layer(x.astype("float32")).numpy()
    # The lecture notes' identity: Y Y^T = (n - 1) I.
    np.testing.assert_allclose(y.T @ y, 3.0 * np.eye(2), atol=1e-5)


def test_zca_whitens_the_real_digits(layers_digits16):
    x = layers_digits16[0][:600, ::2, ::2]  # 8 x 8 = 64 pixels
    epsilon = 1e-3
    layer = ZCAWhitening(epsilon=epsilon)
    layer.adapt(x)
    y = layer(x).numpy().reshape(len(x), -1)
    flat = x.reshape(len(x), -1).astype("float64")
    covariance = np.cov(flat, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    values = np.maximum(values, 0)
    # Exactly what regularised ZCA should leave: U diag(S / (S + eps)) U^T.
    expected = (vectors * (values / (values + epsilon))) @ vectors.T
    np.testing.assert_allclose(np.cov(y, rowvar=False), expected, atol=2e-4)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    w = layer.whitening_matrix.numpy()
    np.testing.assert_allclose(w, w.T, atol=1e-5)  # ZCA's W is symmetric
    # Rows of W are centre-surround: each row's largest weight is on its own pixel (where it
    # has variance).
    varying = np.flatnonzero(flat.std(axis=0) > 0.1)
    # 1.0 on this set and on two other 600-digit slices, oneDNN on and off (no seed involved).
    assert np.mean(np.argmax(np.abs(w[varying]), axis=1) == varying) > 0.9
    np.testing.assert_allclose(layer.inverse(layer(x)).numpy(), x, atol=1e-4)


def test_zca_adapt_streams_datasets_and_matches_array(layers_digits16):
    x, labels = layers_digits16[0][:300, ::2, ::2], layers_digits16[1][:300]
    from_array = ZCAWhitening(epsilon=0.01)
    from_array.adapt(x, batch_size=1000)
    pairs = tf.data.Dataset.from_tensor_slices((x, labels)).batch(7)
    from_pairs = ZCAWhitening(epsilon=0.01)
    from_pairs.adapt(pairs)

    def generate():  # a stream that is never held in memory at once
        for start in range(0, len(x), 50):
            yield x[start : start + 50]

    stream = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec((None, 8, 8, 1), tf.float32)
    )
    from_stream = ZCAWhitening(epsilon=0.01)
    from_stream.adapt(stream)
    for other in (from_pairs, from_stream):
        np.testing.assert_allclose(
            other.whitening_matrix.numpy(), from_array.whitening_matrix.numpy(), atol=1e-4
        )
        assert int(other.sample_count.numpy()) == 300


def test_zca_errors():
    layer = ZCAWhitening()
    # Unadapted, like keras.layers.Normalization: the identity (mean 0, W = I), flagged.
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert not layer.adapted
    with pytest.raises(ValueError, match="both mean and whitening_matrix"):
        ZCAWhitening(mean=[0.0, 0.0])
    with pytest.raises(ValueError, match="2 × 2"):
        ZCAWhitening(mean=[0.0, 0.0], whitening_matrix=np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        ZCAWhitening(mean=[0.0, 0.0], whitening_matrix=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        ZCAWhitening(mean=[0.0, 0.0], whitening_matrix=[[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="mean of 2 values"):
        ZCAWhitening(mean=[0.0, 0.0], whitening_matrix=np.eye(2))(x)
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer.adapt(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        layer.adapt(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        layer.adapt("images")
    with pytest.raises(ValueError, match="known shape"):
        layer.adapt(tf.data.Dataset.from_tensor_slices(np.zeros((4, 3), "float32")))
    layer.adapt(np.random.default_rng(0).random((10, 3)))
    with pytest.raises(ValueError, match="built for inputs of shape"):
        layer.adapt(np.zeros((10, 4)))
    with pytest.raises(ValueError, match="epsilon"):
        ZCAWhitening(epsilon=-1.0)


def test_zca_in_a_model_before_adapt_then_adapted():
    inputs = keras.Input((2,))
    layer = ZCAWhitening(epsilon=0.0)
    model = keras.Model(inputs, layer(inputs))
    layer.adapt(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]))
    # Variances 2/3 and 8/3, no correlation: W = diag(sqrt(3/2), sqrt(3/8)).
    out = model.predict(np.array([[1.0, 2.0]]), verbose=0)
    np.testing.assert_allclose(out, [[np.sqrt(1.5), 2 * np.sqrt(3 / 8)]], rtol=1e-6)


def test_whitening_filters_plot(tmp_path):
    from kerasconv.visualize import plot

    layer = ZCAWhitening(epsilon=0.01)
    layer.adapt(np.random.default_rng(0).random((50, 4, 4, 1)))
    path = tmp_path / "filters.png"
    figure = plot.whitening_filters(layer, (4, 4), n=4, path=path)
    assert path.stat().st_size > 1000
    assert len([axis for axis in figure.axes if axis.images]) == 4
    # Row (1, 1) of a 4x4 image with n=4 spread positions is the first shown.
    np.testing.assert_allclose(
        figure.axes[0].images[0].get_array(), layer.whitening_matrix.numpy()[5].reshape(4, 4)
    )
    with pytest.raises(ValueError, match="whitening matrix must be"):
        plot.whitening_filters(np.eye(9), (4, 4))
