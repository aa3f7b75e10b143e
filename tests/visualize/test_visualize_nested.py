"""Nested models: every tool that reaches an inner layer gives what it gives on the flat model.

A trained LeNet-5 is rebuilt three ways with its own weights: a functional backbone inside a
functional classifier, ``Sequential([backbone, head])`` with a nested head, and a backbone called
inside a wrapper model inside the classifier (two levels, as ``keras.applications`` backbones are
used). The maps and features of every layer that the flat and nested models share must agree, and
the flat model's maps must not be zero (a layer the logits do not depend on gives zero gradients).
"""

import keras
import numpy as np
import pytest

import kerasconv
from kerasconv import visualize
from tests._compare import assert_close_nontrivial, assert_nontrivial

SPATIAL = ("c1", "s2", "c3", "s4")  # every LeNet-5 layer with spatial extent (c5 is 1×1)


def _copy(layer):
    return layer.__class__.from_config(layer.get_config())


def _with_weights(model, flat):
    for layer in _all_layers(model):
        if layer.weights:
            layer.set_weights(flat.get_layer(layer.name).get_weights())
    return model


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _backbone(flat, name="backbone"):
    inputs = keras.Input((32, 32, 1))
    x = inputs
    for layer_name in ("c1", "s2", "c3", "s4", "c5"):
        x = _copy(flat.get_layer(layer_name))(x)
    return keras.Model(inputs, x, name=name)


def _head_layers(flat):
    return [_copy(flat.get_layer(name)) for name in ("flatten", "f6", "predictions")]


@pytest.fixture(scope="module")
def nested_forms(trained_lenet):
    flat = trained_lenet
    # 1. A functional backbone inside a functional classifier.
    inputs = keras.Input((32, 32, 1))
    x = _backbone(flat)(inputs)
    for layer in _head_layers(flat):
        x = layer(x)
    functional = _with_weights(keras.Model(inputs, x, name="functional"), flat)
    # 2. Sequential([backbone, head]), the head itself a nested Sequential ending in softmax.
    head = keras.Sequential([keras.Input((1, 1, 120)), *_head_layers(flat)], name="head")
    sequential = _with_weights(
        keras.Sequential([keras.Input((32, 32, 1)), _backbone(flat), head], name="sequential"),
        flat,
    )
    # 3. Two levels: a wrapper model (as a keras.applications backbone) holding the backbone.
    wrapper_inputs = keras.Input((32, 32, 1))
    wrapper = keras.Model(wrapper_inputs, _backbone(flat)(wrapper_inputs), name="wrapper")
    inputs = keras.Input((32, 32, 1))
    x = wrapper(inputs)
    for layer in _head_layers(flat):
        x = layer(x)
    deep = _with_weights(keras.Model(inputs, x, name="deep"), flat)
    return {"backbone/": functional, "seq:backbone/": sequential, "wrapper/backbone/": deep}


def _forms(nested_forms):
    for key, model in nested_forms.items():
        yield key.split(":")[-1], model


@pytest.fixture(scope="module")
def examples(digits_32, trained_lenet):
    """The least confident correctly classified test digit of each of four classes (a rule)."""
    _, _, x_test, y_test = digits_32
    probabilities = trained_lenet.predict(x_test, verbose=0)
    confidence = probabilities[np.arange(len(y_test)), y_test]
    correct = np.argmax(probabilities, -1) == y_test
    chosen = []
    for digit in (0, 3, 6, 8):
        candidates = np.flatnonzero(correct & (y_test == digit))
        chosen.append(candidates[np.argmin(confidence[candidates])])
    return x_test[chosen], y_test[chosen]


def _map_tolerance(reference):
    # The nested graph runs the same float32 operations as the flat one; 1e-5 of the map's scale.
    return 1e-5 * float(np.max(np.abs(reference)))


@pytest.mark.parametrize(
    "method", [visualize.grad_cam, visualize.grad_cam_plus_plus, visualize.guided_grad_cam]
)
def test_class_activation_maps_of_nested_layers_equal_the_flat_models(
    method, nested_forms, trained_lenet, examples
):
    x, y = examples
    for prefix, model in _forms(nested_forms):
        for layer in SPATIAL:
            reference = method(trained_lenet, x, y, layer=layer)
            nested = method(model, x, y, layer=prefix + layer)
            assert_close_nontrivial(
                nested, reference, rtol=0, atol=_map_tolerance(reference), err_msg=prefix + layer
            )


def test_default_layer_of_a_nested_model_is_found_inside(nested_forms, trained_lenet, examples):
    from kerasconv.visualize._common import default_spatial_layer

    x, y = examples
    assert default_spatial_layer(nested_forms["backbone/"]) == "backbone/s4"
    assert default_spatial_layer(nested_forms["wrapper/backbone/"]) == "wrapper/backbone/s4"
    reference = visualize.grad_cam(trained_lenet, x, y, layer="s4")
    for _, model in _forms(nested_forms):
        maps = visualize.grad_cam(model, x, y)
        assert_close_nontrivial(maps, reference, rtol=0, atol=_map_tolerance(reference))
    assert visualize.receptive_field(nested_forms["backbone/"], "backbone/c5").size == (32, 32)


def test_input_gradients_and_guided_backprop_of_nested_models(
    nested_forms, trained_lenet, examples
):
    x, y = examples
    for method in (visualize.saliency_map, visualize.guided_backprop, visualize.deconvnet):
        reference = method(trained_lenet, x, y)
        for _, model in _forms(nested_forms):
            maps = method(model, x, y)
            assert_close_nontrivial(maps, reference, rtol=0, atol=_map_tolerance(reference))


def test_feature_extractor_and_activations_reach_nested_layers(
    nested_forms, trained_lenet, examples
):
    import tensorflow as tf

    x, _ = examples
    names = list(SPATIAL) + ["c5"]
    flat_taps = kerasconv.models.feature_extractor(trained_lenet, names)
    reference = {name: value.numpy() for name, value in flat_taps(x).items()}
    for prefix, model in _forms(nested_forms):
        taps = kerasconv.models.feature_extractor(model, [prefix + name for name in names])
        values = taps(x)
        for name in names:
            assert_close_nontrivial(values[prefix + name], reference[name], atol=1e-6)
        # The taps are connected to the input: d(sum of c3)/dx equals the flat model's.
        tensor = tf.constant(x)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(tensor)
            nested_sum = tf.reduce_sum(taps(tensor)[prefix + "c3"])
            flat_sum = tf.reduce_sum(flat_taps(tensor)["c3"])
        flat_gradient = tape.gradient(flat_sum, tensor).numpy()
        assert_close_nontrivial(
            tape.gradient(nested_sum, tensor).numpy(),
            flat_gradient,
            rtol=0,
            atol=_map_tolerance(flat_gradient),
        )
        acts = visualize.activations(model, x, [prefix + "c3"])
        assert_close_nontrivial(acts[prefix + "c3"], reference["c3"], atol=1e-6)


def test_transfer_features_of_nested_layers(nested_forms, trained_lenet, examples):
    x, _ = examples
    reference = kerasconv.transfer.extract_features(trained_lenet, ["c3", "f6"], x)
    for prefix, model in _forms(nested_forms):
        features = kerasconv.transfer.extract_features(model, [prefix + "c3", "f6"], x)
        assert_close_nontrivial(features[prefix + "c3"], reference["c3"], atol=1e-6)
        assert_close_nontrivial(features["f6"], reference["f6"], atol=1e-6)


def test_synthesis_on_nested_layers_equals_the_flat_model(nested_forms, trained_lenet, examples):
    """Activation maximisation, inversion and the style losses through nested taps."""
    x, _ = examples
    model = nested_forms["wrapper/backbone/"]
    prefix = "wrapper/backbone/"
    flat_max = visualize.activation_maximization(trained_lenet, [0, 10], layer="c3", steps=2)
    nested_max = visualize.activation_maximization(model, [0, 10], layer=prefix + "c3", steps=2)
    assert_nontrivial(flat_max.history["score"])
    assert_close_nontrivial(nested_max.images, flat_max.images, atol=1e-5)
    flat_inv = visualize.invert_features(trained_lenet, x[:2], "c3", steps=2)
    nested_inv = visualize.invert_features(model, x[:2], prefix + "c3", steps=2)
    assert_close_nontrivial(nested_inv.images, flat_inv.images, atol=1e-5)
    flat_loss = visualize.PerceptualLoss(trained_lenet, "c3", ["c1", "c3"])
    nested_loss = visualize.PerceptualLoss(model, prefix + "c3", [prefix + "c1", prefix + "c3"])
    reference = np.stack(flat_loss.losses(x[2:], *flat_loss.targets(x[:1], x[1:2]))[:2])
    losses = np.stack(nested_loss.losses(x[2:], *nested_loss.targets(x[:1], x[1:2]))[:2])
    assert_close_nontrivial(losses, reference, rtol=1e-5)


def test_endpoints_of_an_unregistered_nested_model_list_the_inner_layers(nested_forms):
    names = kerasconv.models.endpoints(nested_forms["wrapper/backbone/"])
    assert "wrapper/backbone/c3" in names and "predictions" in names
