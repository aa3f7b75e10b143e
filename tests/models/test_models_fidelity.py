"""Fidelity to the papers and the reference code (issue 19): all-conv heads, maxout_cifar's
pooling, exact multiply-adds of untied layers, builder contract points."""

import warnings

import keras
import numpy as np
import pytest

import kerasconv
from kerasconv.gradients import logits_function
from kerasconv.layers import LocallyConnected2D, TiledConv2D
from kerasconv.models import count_macs, count_trainable, layer_table

ALLCONV = ("model_c", "strided_cnn_c", "convpool_cnn_c", "all_cnn_c")


@pytest.mark.parametrize("name", ALLCONV)
def test_allconv_head_is_relu_class_maps_then_averaging(name):
    # Springenberg et al. 2015, Tables 1/2: "1×1 conv. 10 ReLU, global averaging over 6×6, softmax".
    model = kerasconv.models.create(name, input_shape=(16, 16, 3), width_multiplier=0.1)
    conv = model.get_layer("class_conv")
    assert conv.kernel_size == (1, 1) and conv.filters == 10
    assert conv.activation is keras.activations.relu
    # Make some class maps take both signs, so the ReLU before the averaging matters.
    keras.utils.set_random_seed(3)
    conv.bias.assign(np.linspace(-0.05, 0.05, 10).astype("float32"))
    x = np.random.default_rng(0).random((4, 16, 16, 3)).astype("float32")
    features = keras.Model(model.inputs, model.get_layer("block3_conv2").output)(x).numpy()
    kernel, bias = (w.numpy() for w in conv.weights)
    maps = np.einsum("bhwc,ck->bhwk", features, kernel[0, 0]) + bias
    paper = np.maximum(maps, 0.0).mean(axis=(1, 2))  # ReLU, then average
    linear = maps.mean(axis=(1, 2))  # the old head: average, then a linear classifier
    assert np.abs(paper - linear).max() > 1e-4  # the two heads really differ here
    logits = logits_function(model)(x).numpy()
    assert np.ptp(paper) > 0
    np.testing.assert_allclose(logits, paper, rtol=1e-4, atol=1e-6)
    probabilities = np.exp(paper) / np.exp(paper).sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), probabilities, rtol=1e-4, atol=1e-6)
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"
    assert "class_conv" in kerasconv.models.get_info(name).endpoints


def test_allconv_keeps_parameter_counts_and_logits_form():
    model = kerasconv.models.create("all_cnn_c")
    assert count_trainable(model) == 1_369_738  # = a Dense(10) on the averaged maps
    assert model.get_layer("class_conv").output.shape[1:] == (6, 6, 10)
    logits = kerasconv.models.create(
        "model_c", input_shape=(16, 16, 3), width_multiplier=0.1, classifier_activation=None
    )
    x = np.random.default_rng(1).random((2, 16, 16, 3)).astype("float32")
    assert np.all(logits.predict(x, verbose=0) >= 0)  # averaged rectified maps


def test_maxout_cifar_pools_like_pylearn2():
    # pylearn2 (cuda-convnet) pooling covers every pixel: ceil((size - pool) / stride) + 1.
    model = kerasconv.models.create("maxout_cifar")
    sizes = [model.get_layer(f"pool{i}").output.shape[1] for i in (1, 2, 3)]
    assert sizes == [16, 7, 5]
    assert model.get_layer("maxout4_linear").kernel.shape == (4800, 2500)
    assert count_trainable(model) == 16_247_830
    # cifar10_no_aug.yaml: h0 max_kernel_norm .9, h1/h2 1.9365, h3 max_col_norm 1.9, y 1.9365.
    norms = [
        model.get_layer(name).kernel_constraint.max_value
        for name in ("maxout1_linear", "maxout2_linear", "maxout3_linear", "maxout4_linear")
    ] + [model.get_layer("predictions").kernel_constraint.max_value]
    assert norms == [0.9, 1.9365, 1.9365, 1.9, 1.9365]


def test_covering_pooling_takes_the_maximum_of_the_pixels_that_exist():
    x = -np.arange(1, 26, dtype="float32").reshape(1, 5, 5, 1)  # all negative: padding must not win
    out = kerasconv.layers.CoveringMaxPooling2D(2)(x).numpy()[0, ..., 0]
    np.testing.assert_array_equal(out, [[-1, -3, -5], [-11, -13, -15], [-21, -23, -25]])
    with pytest.raises(ValueError, match="smaller than pool_size"):
        kerasconv.layers.CoveringMaxPooling2D(4)(np.zeros((1, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="skip pixels"):
        kerasconv.layers.CoveringMaxPooling2D(2, strides=3)


def test_untied_layers_count_exact_multiply_adds():
    inputs = keras.Input((8, 8, 3))
    local = LocallyConnected2D(4, 3, name="local")(inputs)  # 6×6 outputs
    tiled = TiledConv2D(5, 3, tile_size=2, name="tiled")(local)  # 4×4 outputs
    model = keras.Model(inputs, tiled)
    # Hand counts: one receptive field per output unit.
    local_macs = 6 * 6 * (3 * 3 * 3) * 4  # 3,888
    tiled_macs = 4 * 4 * (3 * 3 * 4) * 5  # 2,880
    assert count_macs(model) == local_macs + tiled_macs
    rows = {row["name"]: row for row in layer_table(model)}
    assert rows["local"]["macs"] == local_macs and rows["tiled"]["macs"] == tiled_macs
    # Parameters are untied: LC has one kernel per position, tiled one per tile position.
    assert rows["local"]["params"] == 36 * 27 * 4 + 36 * 4
    assert rows["tiled"]["params"] == 4 * 36 * 5 + 4 * 5


def test_alexnet_too_small_input_tensor_gets_a_size_message():
    with pytest.raises(ValueError, match="at least 67×67"):
        kerasconv.models.AlexNet(input_tensor=keras.Input((40, 40, 3)), include_top=False)
    with pytest.raises(ValueError, match="at least 53×53"):
        kerasconv.models.ZFNet(input_tensor=keras.Input((40, 40, 3)), include_top=False)
    model = kerasconv.models.AlexNet(
        input_tensor=keras.Input((67, 67, 3)), include_top=False, pooling="avg"
    )
    assert model.output.shape == (None, 256)


def test_input_tensor_after_a_layer_gives_a_one_input_model():
    # keras.applications-style input_tensor that is not an Input: a preprocessing layer first.
    inputs = keras.Input((32, 32, 1), name="pixels")
    x = keras.layers.Rescaling(2.0, offset=-1.0)(inputs)
    model = kerasconv.models.LeNet5(input_tensor=x, classes=10)
    assert model.inputs[0] is inputs and len(model.inputs) == 1
    images = np.random.default_rng(0).random((2, 32, 32, 1)).astype("float32")
    plain = kerasconv.models.LeNet5(classes=10)
    plain.set_weights(model.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "structure of inputs doesn't match" warning
        out = model(images)
    expected = plain(2.0 * images - 1.0)
    assert float(np.abs(np.asarray(expected)).max()) > 0
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), atol=1e-6)


def test_resnet_weights_with_conv_biases_say_conv_bias_true(tmp_path):
    # keras.applications' ResNets have conv biases; the same file layout, at a small width.
    source = kerasconv.models.ResNet(depth=18, width=4, conv_bias=True, input_shape=(32, 32, 3))
    path = str(tmp_path / "biased.weights.h5")
    source.save_weights(path)
    with pytest.raises(ValueError, match="conv_bias=True"):
        kerasconv.models.ResNet(depth=18, width=4, input_shape=(32, 32, 3), weights=path)
    loaded = kerasconv.models.ResNet(
        depth=18, width=4, conv_bias=True, input_shape=(32, 32, 3), weights=path
    )
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    reference = source.predict(x, verbose=0)
    assert np.ptp(reference) > 0
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), reference)


def test_googlenet_auxiliary_loss_weights_and_inference_form():
    weights = kerasconv.models.auxiliary_loss_weights()
    assert weights == {"predictions": 1.0, "aux1_predictions": 0.3, "aux2_predictions": 0.3}
    full = kerasconv.models.GoogLeNet(aux_classifiers=True, input_shape=(80, 80, 3), classes=5)
    inference = kerasconv.models.without_auxiliary_classifiers(full)
    plain = kerasconv.models.GoogLeNet(input_shape=(80, 80, 3), classes=5)
    assert len(inference.outputs) == 1
    assert inference.count_params() == plain.count_params() < full.count_params()
    x = np.random.default_rng(0).random((2, 80, 80, 3)).astype("float32")
    parts = full.predict(x, verbose=0)
    reference = parts["predictions"]
    np.testing.assert_allclose(inference.predict(x, verbose=0), reference, rtol=1e-5, atol=1e-7)
    # Compiled with the paper's weights, the total loss is main + 0.3 · (aux1 + aux2).
    full.compile(
        loss={key: "sparse_categorical_crossentropy" for key in weights}, loss_weights=weights
    )
    y = np.array([1, 3])
    labels = {key: y for key in weights}
    total = float(full.compute_loss(x=x, y=labels, y_pred=parts, training=False))
    ce = {
        key: float(np.mean(-np.log(parts[key][np.arange(2), y])))
        for key in ("predictions", "aux1_predictions", "aux2_predictions")
    }
    expected = ce["predictions"] + 0.3 * (ce["aux1_predictions"] + ce["aux2_predictions"])
    np.testing.assert_allclose(total, expected, rtol=1e-4)
    with pytest.raises(ValueError, match="no auxiliary classifiers"):
        kerasconv.models.without_auxiliary_classifiers(plain)
