"""Depth ablation: exact parameter counts of the rebuilt chains and the seed's table."""

import keras
import numpy as np
import pytest

import kerasconv
from kerasconv.transfer import (
    ablate,
    ablated_model,
    ablation_presets,
    convolution_layers,
    fully_connected_layers,
)

# LeNet-5 (modern, 10 classes): C1 156, C3 2,416, C5 48,120, F6 10,164, output 850 = 61,706.
LENET_VARIANTS = {
    # without F6 the output reads C5's 120 units: 120*10+10 = 1,210
    "top fully connected layer": (["f6"], 156 + 2_416 + 48_120 + 1_210),
    # without C5 and F6 the output reads S4's 5*5*16 = 400 values: 4,010
    "both fully connected layers": (["c5", "f6"], 156 + 2_416 + 4_010),
    # without C3, S4 gives 7*7*6; C5 (5*5*6*120+120 = 18,120) gives 3*3*120 = 1,080 for F6
    "middle convolutional layers": (["c3"], 156 + 18_120 + (1_080 * 84 + 84) + 850),
    # only C1 and the output remain: S4 gives 7*7*6 = 294 values, 2,950 weights
    "middle convolutional and fully connected layers": (["c3", "c5", "f6"], 156 + 2_950),
}


def test_lenet_layer_kinds_and_presets():
    model = kerasconv.models.LeNet5(classes=10)
    assert fully_connected_layers(model) == ["c5", "f6"]  # C5's output is 1x1: fully connected
    assert convolution_layers(model) == ["c1", "c3"]
    presets = ablation_presets(model)
    assert presets == {label: layers for label, (layers, _) in LENET_VARIANTS.items()}


@pytest.mark.parametrize("form", ["functional", "sequential"])
def test_ablated_models_have_the_stated_layers_and_parameter_counts(form):
    model = kerasconv.models.LeNet5(classes=10, form=form)
    assert model.count_params() == 61_706
    for label, (removed, parameters) in LENET_VARIANTS.items():
        variant = ablated_model(model, removed)
        names = [layer.name for layer in variant.layers]
        assert not set(removed) & set(names), label
        kept = [n for n in ["c1", "s2", "c3", "s4", "c5", "flatten", "f6", "predictions"]]
        assert names[1:] == [n for n in kept if n not in removed], label
        assert variant.count_params() == parameters, label
        assert variant.output.shape == (None, 10)
    # The original is untouched and the rebuilt layers are fresh.
    assert model.count_params() == 61_706
    assert ablated_model(model, ["f6"]).get_layer("c1") is not model.get_layer("c1")


def test_companion_layers_go_with_their_layer_and_non_chains_are_refused():
    inputs = keras.Input((8,), name="input")
    x = keras.layers.Dense(6, activation="relu", name="fc1")(inputs)
    x = keras.layers.Dropout(0.5, name="fc1_dropout")(x)
    x = keras.layers.Dense(5, activation="relu", name="fc2")(x)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    chain = keras.Model(inputs, outputs)
    variant = ablated_model(chain, ["fc1"])
    assert [layer.name for layer in variant.layers] == ["input", "fc2", "predictions"]
    assert variant.count_params() == (8 * 5 + 5) + (5 * 3 + 3)
    with pytest.raises(ValueError, match="classifier"):
        ablated_model(chain, ["predictions"])
    with pytest.raises(ValueError, match="cannot remove 'fc9'"):
        ablated_model(chain, ["fc9"])
    a = keras.layers.Dense(4, name="a")(inputs)
    b = keras.layers.Dense(4, name="b")(inputs)
    branched = keras.Model(inputs, keras.layers.Add(name="add")([a, b]))
    with pytest.raises(ValueError, match="not a chain"):
        ablated_model(branched, ["a"])


def test_ablate_table_reports_parameters_dropped_and_accuracy_change(digits_32):
    x_train, y_train, x_test, y_test = digits_32
    table = ablate(
        kerasconv.models.LeNet5,
        (x_train[:300], y_train[:300]),
        (x_test[:120], y_test[:120]),
        remove={"top fully connected layer": ["f6"], "both groups": ["c3", "c5", "f6"]},
        epochs=2,
    )
    labels = [row.label for row in table.rows]
    assert labels == ["full model", "top fully connected layer", "both groups"]
    assert [row.parameters for row in table.rows] == [61_706, 51_902, 3_106]
    assert [row.depth for row in table.rows] == [5, 4, 2]
    assert table.parameters_dropped(table.rows[1]) == 9_804
    assert table.parameters_dropped(table.rows[2]) == 58_600
    for row in table.rows:
        assert 0.0 <= row.accuracy <= 1.0
        change = table.accuracy_change(row)
        assert change == pytest.approx(100 * (row.accuracy - table.rows[0].accuracy))
    markdown = table.to_markdown()
    assert "| top fully connected layer | f6 | 4 | 51,902 | 9,804 |" in markdown
    assert "| both groups | c3, c5, f6 | 2 | 3,106 | 58,600 |" in markdown
    records = table.to_dict()
    assert records[2]["parameters_dropped"] == 58_600
    assert np.isfinite(records[1]["accuracy_change_points"])


def test_alexnet_presets_drop_the_seeds_parameter_counts():
    # Seed 000 (Zeiler & Fergus on Krizhevsky's net): fc7 "16 million", fc6+fc7 "~50 million",
    # conv3+conv4 "~1 million". Two-tower AlexNet, counted by hand:
    model = kerasconv.models.create("alexnet")
    presets = ablation_presets(model)
    assert presets["top fully connected layer"] == ["fc7"]
    assert presets["both fully connected layers"] == ["fc6", "fc7"]
    assert presets["middle convolutional layers"] == ["conv3", "conv4"]
    total = model.count_params()

    def dropped(label):
        return total - ablated_model(model, presets[label]).count_params()

    fc7 = 4096 * 4096 + 4096
    fc6 = 9216 * 4096 + 4096
    assert dropped("top fully connected layer") == fc7  # 16,781,312
    # without fc6 and fc7 the classifier reads 9,216 features instead of 4,096
    assert dropped("both fully connected layers") == fc6 + fc7 - (9216 - 4096) * 1000
    conv3 = 3 * 3 * 256 * 384 + 384
    conv4 = 3 * 3 * 192 * 384 + 384  # two towers: 192 input channels each
    conv5_change = 3 * 3 * (192 - 128) * 256  # conv5 now reads conv2's 256 channels (128 per tower)
    assert dropped("middle convolutional layers") == conv3 + conv4 + conv5_change  # 1,696,512
