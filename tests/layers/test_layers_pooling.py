"""MaxPoolingWithArgmax2D and MaxUnpooling2D (Zeiler & Fergus's switches)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv.layers import MaxPoolingWithArgmax2D, MaxUnpooling2D


def test_argmax_pooling_and_unpooling_hand_computed():
    x = np.array([[4, 1, 0, 2], [3, 2, 7, 1], [0, 9, 1, 1], [5, 0, 2, 8]], "float32")
    pooled, argmax = MaxPoolingWithArgmax2D(2)(x.reshape(1, 4, 4, 1))
    np.testing.assert_array_equal(pooled.numpy()[0, ..., 0], [[4, 7], [9, 8]])
    np.testing.assert_array_equal(argmax.numpy()[0, ..., 0], [[0, 6], [9, 15]])
    assert argmax.dtype == "int64"
    restored = MaxUnpooling2D()([pooled, argmax]).numpy()[0, ..., 0]
    np.testing.assert_array_equal(
        restored, [[4, 0, 0, 0], [0, 0, 7, 0], [0, 9, 0, 0], [0, 0, 0, 8]]
    )


def test_unpooling_is_per_image_and_per_channel():
    # Positive values, so that re-pooling the zero-filled map must find the same maxima.
    x = np.random.default_rng(0).random((3, 4, 6, 2)).astype("float32") + 0.1
    pooled, argmax = MaxPoolingWithArgmax2D(2)(x)
    restored = MaxUnpooling2D()([pooled, argmax]).numpy()
    kept = restored != 0
    # Exactly one non-zero per window, at the window's maximum, equal to it.
    np.testing.assert_array_equal(restored[kept], x[kept])
    windows = kept.reshape(3, 2, 2, 3, 2, 2).sum(axis=(2, 4))
    np.testing.assert_array_equal(windows, 1)
    np.testing.assert_array_equal(tf.nn.max_pool2d(restored, 2, 2, "VALID").numpy(), pooled.numpy())


def test_unpooling_odd_sizes_need_the_reference():
    x = np.random.default_rng(1).normal(size=(2, 5, 7, 1)).astype("float32")
    pooled, argmax = MaxPoolingWithArgmax2D(2)(x)
    assert pooled.shape == (2, 2, 3, 1)
    with_reference = MaxUnpooling2D()([pooled, argmax, x]).numpy()
    with_size = MaxUnpooling2D(output_size=(5, 7))([pooled, argmax]).numpy()
    np.testing.assert_array_equal(with_reference, with_size)
    kept = with_reference != 0
    np.testing.assert_array_equal(with_reference[kept], x[kept])
    assert kept.sum() == 2 * 2 * 3


def test_unpooling_equals_max_pooling_gradient_with_overlap():
    # Overlapping 3x3 windows, stride 2: shared maxima receive the sum, as in the gradient.
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 7, 7, 3)).astype("float32"))
    pooled, argmax = MaxPoolingWithArgmax2D(3, strides=2)(x)
    signal = tf.constant(np.random.default_rng(3).normal(size=pooled.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        reference = tf.nn.max_pool2d(x, 3, 2, "VALID")
    gradient = tape.gradient(reference, x, output_gradients=signal)
    unpooled = MaxUnpooling2D()([signal, argmax, x])
    np.testing.assert_allclose(unpooled.numpy(), gradient.numpy(), rtol=1e-6, atol=1e-6)


def test_same_padding_shapes():
    layer = MaxPoolingWithArgmax2D(2, padding="same")
    pooled, argmax = layer(np.zeros((1, 5, 5, 2), "float32"))
    assert pooled.shape == argmax.shape == (1, 3, 3, 2)
    assert layer.compute_output_shape((None, 5, 5, 2)) == ((None, 3, 3, 2),) * 2


def test_pooling_errors():
    with pytest.raises(ValueError, match="padding"):
        MaxPoolingWithArgmax2D(2, padding="full")
    with pytest.raises(ValueError, match="pooled, argmax"):
        MaxUnpooling2D()([keras.Input((2, 2, 1))])
    with pytest.raises(ValueError, match="batch, height, width, channels"):
        MaxPoolingWithArgmax2D()(keras.Input((4, 4)))
