"""Exact values on hand-weighted toy networks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv import visualize
from tests._compare import assert_close_nontrivial


def _x(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype("float32")


def test_saliency_of_linear_model_is_its_weight_vector(linear_softmax):
    model, weights, _ = linear_softmax
    x = _x((5, 4, 4, 1))
    target = np.array([0, 1, 2, 1, 0])
    maps = visualize.saliency_map(model, x, target)
    # Logits (softmax removed): the gradient of class c is W[:, c] whatever the input.
    expected = np.abs(weights[:, target].T).reshape(5, 4, 4)
    assert_close_nontrivial(maps, expected, rtol=1e-6)
    times_input = visualize.gradient_times_input(model, x, target)
    assert_close_nontrivial(
        times_input, weights[:, target].T.reshape(5, 4, 4) * x[..., 0], rtol=1e-5, atol=1e-7
    )


def test_default_target_is_the_predicted_class_and_callable_targets_work(linear_softmax):
    model, weights, bias = linear_softmax
    x = _x((6, 4, 4, 1), seed=1)
    predicted = np.argmax(x.reshape(6, 16) @ weights + bias, axis=1)
    assert_close_nontrivial(
        visualize.saliency_map(model, x), np.abs(weights[:, predicted].T).reshape(6, 4, 4)
    )
    # A score function: logit 0 minus logit 2.
    difference = visualize.saliency_map(model, x, lambda logits, _: logits[:, 0] - logits[:, 2])
    assert_close_nontrivial(
        difference,
        np.abs(weights[:, 0] - weights[:, 2])[None].repeat(6, 0).reshape(6, 4, 4),
        rtol=1e-5,
    )


def test_integrated_gradients_of_linear_model_is_weight_times_difference(linear_softmax):
    model, weights, _ = linear_softmax
    x = _x((3, 4, 4, 1), seed=2)
    maps, delta = visualize.integrated_gradients(
        model, x, 1, baseline=0.25, steps=4, return_delta=True
    )
    assert_close_nontrivial(
        maps, (weights[:, 1].reshape(4, 4) * (x[..., 0] - 0.25)), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(delta, 0, atol=1e-5)  # a residual: zero is the expected value


@pytest.fixture(scope="module")
def cam_net():
    """conv 1×1 (2 maps, ReLU) -> global average pooling -> dense(2, softmax), hand-set."""
    inputs = keras.Input((4, 4, 1))
    features = keras.layers.Conv2D(2, 1, activation="relu", name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(pooled)
    model = keras.Model(inputs, outputs)
    kernel = np.array([1.0, -1.0], "float32").reshape(1, 1, 1, 2)
    conv_bias = np.array([0.0, 0.5], "float32")
    dense = np.array([[2.0, -1.0], [-3.0, 1.5]], "float32")
    model.get_layer("conv").set_weights([kernel, conv_bias])
    model.get_layer("predictions").set_weights([dense, np.zeros(2, "float32")])
    return model, kernel.reshape(2), conv_bias, dense


def test_grad_cam_equals_hand_computed_map(cam_net):
    model, kernel, conv_bias, dense = cam_net
    x = _x((2, 4, 4, 1), seed=4)
    maps = np.maximum(x[..., :1] * kernel + conv_bias, 0)  # (2, 4, 4, 2)
    for target in (0, 1):
        # dS/dA_k(i, j) = V[k, c] / 16, so alpha_k = V[k, c] / 16.
        alpha = dense[:, target] / 16
        expected = np.maximum((maps * alpha).sum(-1), 0)
        got = visualize.grad_cam(model, x, target, layer="conv", upsample=False)
        assert_close_nontrivial(got, expected, rtol=1e-5, atol=1e-7)
        # Grad-CAM++ with the constant gradient g = V[k, c] / 16.
        g = alpha
        total = maps.sum(axis=(1, 2))  # (2, K)
        denominator = 2 * g**2 + total * g**3
        a = np.where(np.abs(denominator) > 1e-12, g**2 / denominator, 0)
        weights = 16 * a * np.maximum(g, 0)
        expected_pp = np.maximum((maps * weights[:, None, None, :]).sum(-1), 0)
        got_pp = visualize.grad_cam_plus_plus(model, x, target, layer="conv", upsample=False)
        assert_close_nontrivial(got_pp, expected_pp, rtol=1e-4, atol=1e-7)
    # Default layer: the last one with spatial extent; upsampled to the input size.
    assert visualize.grad_cam(model, x).shape == (2, 4, 4)


def _mlp(style):
    inputs = keras.Input((2, 2, 1))
    hidden = keras.layers.Flatten()(inputs)
    if style == "inside":
        hidden = keras.layers.Dense(3, activation="relu", name="hidden")(hidden)
    else:
        hidden = keras.layers.Dense(3, name="hidden")(hidden)
        relu = keras.layers.ReLU() if style == "layer" else keras.layers.Activation("relu")
        hidden = relu(hidden)
    outputs = keras.layers.Dense(2, name="predictions")(hidden)
    model = keras.Model(inputs, outputs)
    w1 = np.array(
        [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-1.0, 0.5, 2.0], [2.0, -0.5, 1.0]], "float32"
    )
    b1 = np.array([0.1, 0.2, -0.3], "float32")
    w2 = np.array([[1.0, -1.0], [-2.0, 1.0], [3.0, 0.5]], "float32")
    model.get_layer("hidden").set_weights([w1, b1])
    model.get_layer("predictions").set_weights([w2, np.zeros(2, "float32")])
    return model, w1, b1, w2


@pytest.mark.parametrize("style", ["inside", "layer", "activation"])
def test_guided_backprop_and_deconvnet_rules_exact(style):
    model, w1, b1, w2 = _mlp(style)
    x = np.array([[0.9, 0.1], [0.2, 0.7]], "float32").reshape(1, 2, 2, 1)
    z = x.reshape(1, 4) @ w1 + b1
    active = (z > 0).astype("float32")[0]
    before = [w.copy() for w in model.get_weights()]
    for target in (0, 1):
        upstream = w2[:, target]
        plain = w1 @ (upstream * active)
        guided = w1 @ (np.maximum(upstream, 0) * active)
        deconv = w1 @ np.maximum(upstream, 0)
        assert_close_nontrivial(
            visualize.input_gradients(model, x, target).reshape(4), plain, rtol=1e-5
        )
        assert_close_nontrivial(
            visualize.guided_backprop(model, x, target).reshape(4), guided, rtol=1e-5
        )
        assert_close_nontrivial(visualize.deconvnet(model, x, target).reshape(4), deconv, rtol=1e-5)
    # The user's model is untouched: same weights, ordinary gradients, ReLU still ReLU.
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert_close_nontrivial(
        visualize.input_gradients(model, x, 0).reshape(4), w1 @ (w2[:, 0] * active), rtol=1e-5
    )


def test_deconvnet_unpools_with_max_pool_switches():
    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")(inputs)
    pooled = keras.layers.MaxPooling2D(2, name="pool")(conv)
    outputs = keras.layers.Dense(2, name="predictions")(keras.layers.Flatten()(pooled))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(7)
    kernel = rng.normal(size=(3, 3, 1, 2)).astype("float32")
    model.get_layer("conv").set_weights([kernel, np.array([0.1, -0.1], "float32")])
    dense = rng.normal(size=(8, 2)).astype("float32")
    model.get_layer("predictions").set_weights([dense, np.zeros(2, "float32")])
    x = _x((1, 4, 4, 1), seed=8)
    # By hand: the pooled signal is the dense weights; unpool with tf's argmax switches,
    # rectify, and project through the transposed convolution.
    activation = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME") + [0.1, -0.1])
    _, switches = tf.nn.max_pool_with_argmax(activation, 2, 2, "VALID", include_batch_in_index=True)
    signal = dense[:, 0].reshape(1, 2, 2, 2)
    unpooled = tf.scatter_nd(
        tf.reshape(switches, (-1, 1)), tf.reshape(signal, (-1,)), [int(tf.size(activation))]
    )
    unpooled = tf.nn.relu(tf.reshape(unpooled, activation.shape))
    expected = tf.nn.conv2d_transpose(unpooled, kernel, x.shape, 1, "SAME").numpy()
    assert_close_nontrivial(visualize.deconvnet(model, x, 0), expected, rtol=1e-5, atol=1e-6)


def test_occlusion_grid_on_linear_model_is_exact(linear_softmax):
    model, weights, bias = linear_softmax
    x = _x((2, 4, 4, 1), seed=5)
    pixel_map, grid, unoccluded = visualize.occlusion_sensitivity(
        model,
        x,
        2,
        patch_size=2,
        stride=2,
        patch_value=0.5,
        use_probabilities=False,
        return_grid=True,
    )
    assert grid.shape == (2, 2, 2)
    for row in range(2):
        for column in range(2):
            occluded = x.copy()
            occluded[:, 2 * row : 2 * row + 2, 2 * column : 2 * column + 2] = 0.5
            logits = occluded.reshape(2, 16) @ weights + bias
            assert_close_nontrivial(grid[:, row, column], logits[:, 2], rtol=1e-5)
    # Non-overlapping patches: each pixel's value is its one patch's score.
    assert_close_nontrivial(pixel_map[:, 0, 0], grid[:, 0, 0], rtol=1e-6)
    assert_close_nontrivial(pixel_map[:, 3, 1], grid[:, 1, 0], rtol=1e-6)
    assert_close_nontrivial(unoccluded, (x.reshape(2, 16) @ weights + bias)[:, 2], rtol=1e-5)


def test_deletion_and_insertion_endpoints(linear_softmax):
    model, weights, bias = linear_softmax
    x = _x((2, 4, 4, 1), seed=6)
    maps = np.abs(weights[:, 0]).reshape(1, 4, 4).repeat(2, 0)
    curves = visualize.deletion_insertion(
        model, x, maps, 0, steps=16, deletion_baseline=0.0, insertion_baseline=0.0
    )

    def prob(images):
        logits = images.reshape(len(images), 16) @ weights + bias
        e = np.exp(logits - logits.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True))[:, 0]

    full, empty = prob(x), prob(np.zeros_like(x))
    assert_close_nontrivial(curves.deletion[:, 0], full, rtol=1e-5)
    # The blank image gives both samples the same probability: a constant reference by design.
    assert 0 < empty[0] < 1
    np.testing.assert_allclose(curves.deletion[:, -1], empty, rtol=1e-5)
    np.testing.assert_allclose(curves.insertion[:, 0], empty, rtol=1e-5)
    assert_close_nontrivial(curves.insertion[:, -1], full, rtol=1e-5)
    # One step removes one pixel: the highest-ranked one.
    first = np.argmax(maps[0].ravel())
    removed = x.copy().reshape(2, 16)
    removed[:, first] = 0
    assert_close_nontrivial(curves.deletion[:, 1], prob(removed), rtol=1e-5)
    assert_close_nontrivial(
        curves.deletion_auc, np.trapezoid(curves.deletion, curves.fractions, axis=1)
    )
