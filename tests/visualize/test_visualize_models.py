"""Receptive fields against published values; multi-output and mixed-precision models."""

import keras
import numpy as np
import pytest

import kerasconv
from kerasconv import visualize


def test_receptive_fields_of_lenet():
    fields = visualize.receptive_fields(kerasconv.models.LeNet5())
    sizes = {name: fields[name].size[0] for name in ("c1", "s2", "c3", "s4", "c5")}
    assert sizes == {"c1": 5, "s2": 6, "c3": 14, "s4": 16, "c5": 32}
    assert fields["c5"].stride == (4, 4)
    assert fields["c1"].box(0, 0) == (0, 0, 5, 5)
    assert fields["c3"].box(1, 2) == (2, 4, 16, 18)
    sequential = kerasconv.models.LeNet5(form="sequential")
    assert visualize.receptive_field(sequential, "c5").size == (32, 32)


def test_receptive_fields_of_alexnet_and_vgg16_match_published_values():
    alexnet = kerasconv.models.create("alexnet", include_top=False)
    fields = visualize.receptive_fields(alexnet)
    conv5 = [name for name in fields if name.endswith("conv5")][0]
    pool5 = [name for name in fields if name.endswith("pool5")][0]
    # Girshick et al. 2014: "pool5 units have a receptive field of 195×195 pixels".
    assert fields[conv5].size == (163, 163) and fields[pool5].size == (195, 195)
    assert fields[pool5].stride == (32, 32)
    vgg = kerasconv.models.create("vgg16", include_top=False)
    fields = visualize.receptive_fields(vgg)
    assert fields["block5_conv3"].size == (196, 196)
    assert fields["block5_pool"].size == (212, 212)
    assert fields["block5_pool"].stride == (32, 32)


def test_receptive_field_dilation_padding_and_merges():
    inputs = keras.Input((16, 16, 1))
    padded = keras.layers.ZeroPadding2D(2, name="pad")(inputs)
    dilated = keras.layers.Conv2D(1, 3, dilation_rate=2, name="dilated")(padded)
    left = keras.layers.Conv2D(1, 3, padding="same", name="left")(dilated)
    right = keras.layers.Conv2D(1, 1, name="right")(dilated)
    merged = keras.layers.Add(name="add")([left, right])
    model = keras.Model(inputs, merged)
    fields = visualize.receptive_fields(model)
    assert fields["dilated"].size == (5, 5)
    assert fields["dilated"].start == (0.0, 0.0)  # padding 2 then a 5-wide window
    assert fields["left"].size == (7, 7) and fields["add"].size == (7, 7)


# Nested models (functional, Sequential, two levels) are tested in test_visualize_nested.py.


def test_multi_output_model_by_output_name(digit_batch):
    x, _ = digit_batch
    inputs = keras.Input((32, 32, 1))
    hidden = keras.layers.Conv2D(4, 5, activation="relu", name="conv")(inputs)
    hidden = keras.layers.GlobalAveragePooling2D()(hidden)
    digits = keras.layers.Dense(10, activation="softmax", name="digit")(hidden)
    parity = keras.layers.Dense(2, name="parity")(hidden)
    model = keras.Model(inputs, [digits, parity])
    with pytest.raises(ValueError, match="output"):
        visualize.saliency_map(model, x[:2], 0)
    a = visualize.saliency_map(model, x[:2], 1, output="parity")
    b = visualize.saliency_map(model, x[:2], 1, output="digit")
    assert a.shape == b.shape == (2, 32, 32) and not np.allclose(a, b)
    assert visualize.grad_cam(model, x[:2], 1, output="parity").shape == (2, 32, 32)


def test_mixed_precision_model_gives_float32_maps(digit_batch):
    x, y = digit_batch
    policy = "mixed_float16"
    inputs = keras.Input((32, 32, 1))
    hidden = keras.layers.Conv2D(4, 5, activation="relu", name="conv", dtype=policy)(inputs)
    hidden = keras.layers.MaxPooling2D(2, dtype=policy)(hidden)
    hidden = keras.layers.Flatten(dtype=policy)(hidden)
    outputs = keras.layers.Dense(10, activation="softmax", dtype="float32", name="predictions")(
        hidden
    )
    model = keras.Model(inputs, outputs)
    for method in (visualize.saliency_map, visualize.grad_cam, visualize.guided_backprop):
        maps = method(model, x[:2], y[:2])
        assert maps.dtype == np.float32 and np.all(np.isfinite(maps)) and maps.any()


def test_bad_arguments_get_clear_errors(trained_lenet, digit_batch):
    x, _ = digit_batch
    with pytest.raises(ValueError, match="32×32"):
        visualize.saliency_map(trained_lenet, np.zeros((1, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        visualize.saliency_map(trained_lenet, x[:2], 12)
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        visualize.grad_cam(trained_lenet, x[:2], layer="conv9")
    with pytest.raises(ValueError, match="spatial"):
        visualize.grad_cam(trained_lenet, x[:2], layer="f6")
    with pytest.raises(TypeError, match="keras.Model"):
        visualize.saliency_map("lenet", x[:2])
    with pytest.raises(ValueError, match="exactly one"):
        visualize.top_patches(trained_lenet, "c1", x, k=2)
    with pytest.raises(ValueError, match="NaN"):
        visualize.saliency_map(trained_lenet, np.full((1, 32, 32, 1), np.nan, "float32"))
