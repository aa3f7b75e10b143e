"""Registry, builders at small sizes, forward/backward passes, forms, features, saving, errors."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasconv
from kerasconv.models import count_trainable, summary

ISSUE_NAMES = (
    ["lenet5", "alexnet", "alexnet_one_tower", "zfnet"]
    + ["vgg_a", "vgg_a_lrn", "vgg_b", "vgg_c", "vgg_d", "vgg_e"]
    + ["vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
    + ["googlenet", "bn_inception"]
    + [f"resnet{d}" for d in (18, 34, 50, 101, 152)]
    + [f"cifar_{k}{d}" for k in ("resnet", "plain") for d in (20, 32, 44, 56, 110)]
    + ["model_c", "strided_cnn_c", "convpool_cnn_c", "all_cnn_c", "maxout_mlp", "maxout_cifar"]
)

# Small, cheap arguments per family: the smallest sizes the stacks accept, narrow heads.
SMALL = {
    "lenet": dict(input_shape=(32, 32, 1)),
    "alexnet": dict(input_shape=(67, 67, 3), include_top=False, pooling="avg"),
    "vgg": dict(input_shape=(32, 32, 3), width_multiplier=0.125, fc_units=16),
    "inception": dict(input_shape=(32, 32, 3)),
    "resnet": dict(input_shape=(32, 32, 3), width=4),
    "cifar_resnet": dict(input_shape=(8, 8, 3), width=4),
    "allconv": dict(input_shape=(9, 9, 3), width_multiplier=0.05),
    "maxout": dict(),
}
SMALL_SHAPES = {"zfnet": (53, 53, 3), "maxout_cifar": (10, 10, 3), "maxout_mlp": (28, 28, 1)}


def small_kwargs(name):
    info = kerasconv.models.get_info(name)
    kwargs = dict(SMALL[info.family], classes=7)
    if info.name in SMALL_SHAPES:
        kwargs["input_shape"] = SMALL_SHAPES[info.name]
    return kwargs


def test_registry_lists_every_model_of_the_issue():
    names = kerasconv.models.list_models()
    assert set(ISSUE_NAMES) <= set(names)
    assert kerasconv.models.list_models("vgg*")[:3] == ["vgg11", "vgg11_bn", "vgg13"]
    assert kerasconv.models.list_models("cifar_plain*") == [
        "cifar_plain110",
        "cifar_plain20",
        "cifar_plain32",
        "cifar_plain44",
        "cifar_plain56",
    ]
    assert kerasconv.models.get_info("vgg16").name == "vgg_d"
    assert kerasconv.models.get_info("VGG19_BN").name == "vgg_e_bn"
    infos = kerasconv.models.registry.registered_infos()
    for info in infos:
        if info.family == "autoencoder":
            # No paper counts to record; their tests check the bottleneck and exact counts.
            assert info.endpoints[:2] == ("encoder", "decoder"), info.name
            continue
        assert info.params, info.name
        assert info.endpoints and info.endpoints[-1] == "predictions", info.name
    assert sum(info.family == "autoencoder" for info in infos) == 7
    with pytest.raises(ValueError, match="Unknown model 'vgg17'"):
        kerasconv.models.create("vgg17")


def test_class_like_names_are_exported():
    for attribute in (
        "AlexNet",
        "ZFNet",
        "VGG16",
        "VGG19",
        "ResNet50",
        "ResNet152",
        "AllCNNC",
        "ModelC",
        "GoogLeNet",
        "BNInception",
        "MaxoutMLP",
        "CIFARResNet56",
        "CIFARPlain110",
        "LeNet5",
    ):
        builder = getattr(kerasconv.models, attribute)
        assert callable(builder)
    model = kerasconv.models.ResNet18(input_shape=(32, 32, 3), classes=5, width=4)
    assert model.name == "resnet18" and model.output.shape == (None, 5)


@pytest.mark.parametrize(
    # resnet152 is built (and its endpoints checked) in test_models_counts.py.
    "name",
    [n for n in ISSUE_NAMES if kerasconv.models.get_info(n).name == n and n != "resnet152"]
    + ["lenet5_classic"],
)
def test_every_entry_builds_small_with_documented_endpoints(name):
    model = kerasconv.models.create(name, **small_kwargs(name))
    info = kerasconv.models.get_info(name)
    layer_names = {layer.name for layer in model.layers}
    documented = [e for e in info.endpoints if e not in ("predictions", "fc1", "fc2", "fc6", "fc7")]
    if model.layers[-1].name == "predictions":
        documented = list(info.endpoints)
    assert set(documented) <= layer_names, set(documented) - layer_names
    assert model.output.shape[0] is None
    if model.layers[-1].name == "predictions":
        assert model.output.shape[-1] == 7


SMALL_FORWARD = [
    ("lenet5", (32, 32, 1), {}),
    ("alexnet", (67, 67, 3), {}),
    ("alexnet_one_tower", (67, 67, 3), {}),
    ("zfnet", (53, 53, 3), {}),
    ("vgg_a_lrn", (32, 32, 3), dict(width_multiplier=0.125, fc_units=16)),
    ("vgg_c_bn", (32, 32, 3), dict(width_multiplier=0.125, fc_units=16)),
    ("googlenet", (32, 32, 3), {}),
    ("bn_inception", (32, 32, 3), {}),
    ("resnet18", (32, 32, 3), dict(width=4)),
    ("resnet50", (32, 32, 3), dict(width=4, variant="v1.5")),
    ("cifar_resnet20", (16, 16, 3), dict(width=4)),
    ("cifar_plain20", (16, 16, 3), dict(width=4)),
    ("all_cnn_c", (16, 16, 3), dict(width_multiplier=0.1)),
    ("maxout_mlp", (28, 28, 1), dict(units=16)),
    ("maxout_cifar", (10, 10, 3), {}),
]


@pytest.mark.parametrize("name,shape,extra", SMALL_FORWARD, ids=[c[0] for c in SMALL_FORWARD])
def test_forward_and_backward_at_small_resolution(name, shape, extra):
    kwargs = dict(input_shape=shape, classes=3, classifier_activation=None, **extra)
    if name in ("alexnet", "alexnet_one_tower", "zfnet"):
        kwargs.update(include_top=False, pooling="avg")
    model = kerasconv.models.create(name, **kwargs)
    x = tf.random.stateless_uniform((2,) + shape, seed=(1, 2))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=True)
        loss = tf.reduce_sum(tf.square(out))
    grads = tape.gradient(loss, [x] + model.trainable_variables)
    assert out.shape[0] == 2 and np.all(np.isfinite(out.numpy()))
    # Every trainable weight and the input receive a gradient (grouped convolutions included).
    assert all(g is not None for g in grads)
    assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0
    assert sum(float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads[1:]) >= len(grads[1:]) - 2


def test_grouped_convolutions_really_are_two_towers():
    model = kerasconv.models.AlexNet(input_shape=(67, 67, 3), include_top=False)
    conv2 = model.get_layer("conv2")
    assert conv2.groups == 2 and conv2.kernel.shape == (5, 5, 48, 256)
    assert model.get_layer("conv3").kernel.shape == (3, 3, 256, 384)
    # Tower independence: output maps 0..127 of conv2 depend only on input maps 0..47.
    submodel = keras.Model(model.get_layer("pool1").output, conv2.output)
    shape = (1,) + tuple(model.get_layer("pool1").output.shape[1:])
    x = np.random.default_rng(0).uniform(size=shape).astype("float32")
    changed = x.copy()
    changed[..., 48:] += 1.0
    a, b = submodel(x).numpy(), submodel(changed).numpy()
    np.testing.assert_allclose(a[..., :128], b[..., :128], rtol=1e-5, atol=1e-5)
    assert np.abs(a[..., 128:] - b[..., 128:]).max() > 1e-3


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("lenet5", dict()),
        ("alexnet_one_tower", dict(input_shape=(67, 67, 3), include_top=False)),
        ("vgg_a_lrn", dict(input_shape=(32, 32, 3), width_multiplier=0.125, fc_units=8)),
        ("strided_cnn_c", dict(input_shape=(16, 16, 1), width_multiplier=0.1)),
        ("maxout_mlp", dict(units=8)),
    ],
)
def test_sequential_and_functional_forms_agree(name, kwargs):
    functional = kerasconv.models.create(name, **kwargs)
    sequential = kerasconv.models.create(name, form="sequential", **kwargs)
    assert isinstance(sequential, keras.Sequential)
    assert [w.shape for w in functional.weights] == [w.shape for w in sequential.weights]
    sequential.set_weights(functional.get_weights())
    shape = (2,) + tuple(functional.input.shape[1:])
    x = np.random.default_rng(1).uniform(size=shape).astype("float32")
    np.testing.assert_allclose(functional(x).numpy(), sequential(x).numpy(), rtol=1e-5, atol=1e-6)
    assert [a.name for a in functional.layers[1:]] == [b.name for b in sequential.layers]


def test_feature_extractor_gives_named_alexnet_endpoints():
    model = kerasconv.models.AlexNet(input_shape=(67, 67, 3), classes=4, dropout=0.0)
    taps = kerasconv.models.feature_extractor(model, ["conv1", "conv5", "pool5", "fc7"])
    out = taps(np.zeros((1, 67, 67, 3), "float32"))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "conv1": (1, 15, 15, 96),
        "conv5": (1, 3, 3, 256),
        "pool5": (1, 1, 1, 256),
        "fc7": (1, 4096),
    }
    assert kerasconv.models.endpoints(model)[:3] == ("conv1", "norm1", "pool1")


def test_classifier_activation_none_gives_logits():
    logits_model = kerasconv.models.ModelC(
        input_shape=(12, 12, 3), width_multiplier=0.1, classifier_activation=None, dropout=0
    )
    softmax_model = kerasconv.models.ModelC(
        input_shape=(12, 12, 3), width_multiplier=0.1, dropout=0
    )
    softmax_model.set_weights(logits_model.get_weights())
    x = np.random.default_rng(2).uniform(size=(3, 12, 12, 3)).astype("float32")
    logits = logits_model(x).numpy()
    np.testing.assert_allclose(
        softmax_model(x).numpy(), tf.nn.softmax(logits).numpy(), rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(logits.sum(-1), 1.0)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("alexnet", dict(input_shape=(67, 67, 3), include_top=False, pooling="max")),
        ("cifar_resnet20", dict(input_shape=(16, 16, 3), width=4)),
        ("maxout_mlp", dict(units=8)),
        ("googlenet", dict(input_shape=(80, 80, 3), aux_classifiers=True, classes=3)),
    ],
)
def test_keras_round_trip_and_weights_argument(tmp_path, name, kwargs):
    model = kerasconv.models.create(name, **kwargs)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    shape = (2,) + tuple(model.inputs[0].shape[1:])
    x = np.random.default_rng(3).uniform(size=shape).astype("float32")
    expected, actual = model(x), loaded(x)
    if isinstance(expected, dict):
        assert set(expected) == set(actual)
        expected, actual = expected["aux2_predictions"], actual["aux2_predictions"]
    np.testing.assert_allclose(np.asarray(expected), np.asarray(actual), rtol=1e-5, atol=1e-6)
    # weights= takes the .keras file (and a .weights.h5 file) and reproduces the outputs.
    again = kerasconv.models.create(name, weights=path, **kwargs)
    weights_path = str(tmp_path / f"{name}.weights.h5")
    model.save_weights(weights_path)
    third = kerasconv.models.create(name, weights=weights_path, **kwargs)
    for other in (again, third):
        out = other(x)
        out = out["aux2_predictions"] if isinstance(out, dict) else out
        np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_bad_arguments_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="at least 67"):
        kerasconv.models.AlexNet(input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="at least 32"):
        kerasconv.models.VGG16(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="6n \\+ 2"):
        kerasconv.models.CIFARResNet(depth=21)
    with pytest.raises(ValueError, match="depth must be one of"):
        kerasconv.models.ResNet(depth=42)
    with pytest.raises(ValueError, match="imagenet"):
        kerasconv.models.ResNet50(weights="imagenet")
    with pytest.raises(ValueError, match="does not exist"):
        kerasconv.models.VGG16(weights=str(tmp_path / "missing.weights.h5"))
    with pytest.raises(ValueError, match="config must be one of"):
        kerasconv.models.VGG(config="F")
    with pytest.raises(ValueError, match="include_top=True"):
        kerasconv.models.GoogLeNet(include_top=False, aux_classifiers=True)
    with pytest.raises(ValueError, match="at least 80"):
        kerasconv.models.GoogLeNet(input_shape=(64, 64, 3), aux_classifiers=True)
    with pytest.raises(ValueError, match="variant must be one of"):
        kerasconv.models.AllConvNet(variant="model_d")
    with pytest.raises(ValueError, match="form must be one of"):
        kerasconv.models.ZFNet(form="graph")
    with pytest.raises(ValueError, match="dropout must be in"):
        kerasconv.models.AlexNet(dropout=1.0)
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        kerasconv.models.count_macs("alexnet")


def test_zero_pad_shortcut_subsamples_and_pads():
    from kerasconv.models.resnet import ZeroPadShortcut

    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    y = ZeroPadShortcut(5, strides=2)(x).numpy()
    assert y.shape == (2, 2, 2, 5)
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2, :])
    assert np.all(y[..., 3:] == 0)


# Seed 004's AlexNet table: (layer, params, multiply-adds) as the lecture prints them.
SEED_004 = [
    ("conv1", "35K", "105M"),
    ("conv2", "307K", "223M"),
    ("conv3", "884K", "149M"),
    ("conv4", "1.3M", "112M"),
    ("conv5", "442K", "74M"),
    ("fc6", "37M", "37M"),
    ("fc7", "16M", "16M"),
    ("predictions", "4M", "4M"),
]


def _value(text):
    scale = {"K": 1e3, "M": 1e6}[text[-1]]
    return float(text[:-1]) * scale, scale


def _matches(printed, number):
    value, scale = _value(printed)
    # The lecture rounds some entries and truncates others, at the printed precision.
    step = scale * (0.1 if "." in printed else 1)
    return math.floor(number / step) * step == value or round(number / step) * step == value


def test_alexnet_layer_table_reproduces_seed_004(built):
    rows = {row["name"]: row for row in summary.layer_table(built("alexnet"))}
    for layer, params, macs in SEED_004:
        assert _matches(macs, rows[layer]["macs"]), (layer, rows[layer]["macs"])
        if layer == "conv4":
            # The lecture's 1.3M is the one-tower conv4 (3·3·384·384); two towers halve it.
            assert rows[layer]["weights"] == 3 * 3 * 192 * 384
            assert _matches(params, 3 * 3 * 384 * 384)
        else:
            assert _matches(params, rows[layer]["weights"]), (layer, rows[layer]["weights"])
    assert rows["conv1"]["params"] == 34_944 and rows["conv1"]["macs"] == 105_415_200
    assert sum(row["macs"] for row in rows.values()) == 724_406_816
    text = summary.format_layer_table(list(rows.values()))
    assert "| conv2 | Conv2D | 27×27×256 | 307,456" in text


def test_summary_table_on_a_subset():
    rows = kerasconv.models.summary_table(["cifar_resnet20", "model_c", "lenet5"])
    for row in rows:
        assert row["params"] == row["reference_params"]
        assert row["macs"] == row["reference_macs"]
    text = kerasconv.models.format_summary_table(rows)
    assert "| model_c |" in text and "954,730" in text and "228.3M" in text
    assert count_trainable(kerasconv.models.create("cifar_plain20")) == rows[0]["params"]
