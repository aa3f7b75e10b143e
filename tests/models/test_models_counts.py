"""Exact parameter counts and multiply-adds against the references (REFERENCE.md, the papers)."""

import pytest

import kerasconv
from kerasconv.models import count_macs, count_trainable

# name: (trainable parameters, multiply-adds) at the canonical input size and classes.
EXACT = {
    "lenet5": (61_706, 416_520),
    "alexnet": (60_965_224, 724_406_816),
    "vgg_d": (138_357_544, 15_470_264_320),
    "googlenet": (6_998_552, 1_582_671_872),
    "bn_inception": (11_285_224, 2_032_600_064),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 3_857_973_248),
    "cifar_resnet20": (269_722, 40_551_040),
    "cifar_resnet56": (853_018, 125_485_696),
    "cifar_plain20": (269_722, 40_551_040),
    "model_c": (954_730, 228_331_008),
    "strided_cnn_c": (954_730, 100_929_024),
    "convpool_cnn_c": (1_369_738, 398_200_320),
    "all_cnn_c": (1_369_738, 270_798_336),
    "maxout_mlp": (1_233_610, 1_231_200),
    "maxout_cifar": (16_247_830, 732_290_696),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_counts_at_canonical_size(built, name):
    model = built(name)
    params, macs = EXACT[name]
    assert count_trainable(model) == params
    assert count_macs(model) == macs
    info = kerasconv.models.get_info(name)
    # The registry records the same numbers, so `kerasconv models table` compares like with like.
    assert (info.params, info.macs) == (params, macs)
    assert model.output.shape[1:] == (info.classes,)
    assert model.input.shape[1:] == info.input_shape


def test_vgg16_and_resnet50_equal_keras_applications(built):
    # keras.applications.VGG16: 138,357,544 parameters; ResNet50 (conv biases, v1): 25,636,712.
    assert built("vgg16").count_params() == 138_357_544
    keras_form = built("resnet50", conv_bias=True)
    assert keras_form.count_params() == 25_636_712
    assert count_trainable(keras_form) == 25_583_592
    assert count_macs(keras_form) == 3_857_973_248  # He et al.: "3.8 x 10^9 FLOPs"
    assert keras_form.get_layer("conv2_block1_0_conv").kernel.shape == (1, 1, 64, 256)


def test_resnet50_v15_moves_the_stride_and_costs_more(built):
    v15 = built("resnet50", variant="v1.5")
    assert count_trainable(v15) == 25_557_032
    assert count_macs(v15) == 4_089_184_256
    assert v15.get_layer("conv3_block1_2_conv").strides == (2, 2)
    assert built("resnet50").get_layer("conv3_block1_1_conv").strides == (2, 2)


def test_resnet152_count():
    model = kerasconv.models.ResNet152(include_top=True, input_shape=(32, 32, 3))
    # Parameters do not depend on the input size (global pooling before the classifier).
    assert count_trainable(model) == 60_192_808
    layer_names = {layer.name for layer in model.layers}
    assert set(kerasconv.models.get_info("resnet152").endpoints) <= layer_names
    assert model.get_layer("conv4_block36_out").output.shape[1:] == (2, 2, 1024)


def test_alexnet_one_tower_and_zfnet_counts():
    # Dense layers dominate the building time; only fc6's input size depends on the image size,
    # so count at the canonical size once each.
    one = kerasconv.models.create("alexnet_one_tower")
    assert (count_trainable(one), count_macs(one)) == (62_378_344, 1_135_256_096)
    zf = kerasconv.models.create("zfnet")
    assert (count_trainable(zf), count_macs(zf)) == (62_357_608, 1_168_032_896)
    sizes = [zf.get_layer(n).output.shape[1] for n in ("conv1", "pool1", "conv2", "pool2", "pool5")]
    assert sizes == [110, 55, 26, 13, 6]  # Zeiler & Fergus, Figure 3


# Table 2 of Simonyan & Zisserman (exact; the paper rounds to 133, 133, 133, 134, 138, 144 M).
VGG_PARAMS = {
    "vgg_a": 132_863_336,
    "vgg_a_lrn": 132_863_336,
    "vgg_b": 133_047_848,
    "vgg_c": 133_638_952,
    "vgg_e": 143_667_240,
}
# At 32×32 fc1 sees 1×1×512 instead of 7×7×512: 48 × 512 × 4,096 fewer weights. Building at 32×32
# keeps the test fast while checking every convolution and both other dense layers exactly.
FC1_AT_224_MINUS_32 = (7 * 7 - 1) * 512 * 4096


@pytest.mark.parametrize("name", sorted(VGG_PARAMS))
def test_vgg_table2_counts(name):
    model = kerasconv.models.create(name, input_shape=(32, 32, 3))
    assert count_trainable(model) + FC1_AT_224_MINUS_32 == VGG_PARAMS[name]
    assert kerasconv.models.get_info(name).params == VGG_PARAMS[name]
    paper = {"vgg_a": 133, "vgg_a_lrn": 133, "vgg_b": 133, "vgg_c": 134, "vgg_e": 144}[name]
    assert round(VGG_PARAMS[name] / 1e6) == paper


def test_vgg_batch_norm_adds_two_per_channel():
    plain = kerasconv.models.create("vgg_b", input_shape=(32, 32, 3), fc_units=8)
    bn = kerasconv.models.create("vgg13_bn", input_shape=(32, 32, 3), fc_units=8)
    channels = 2 * 64 + 2 * 128 + 2 * 256 + 4 * 512
    assert count_trainable(bn) - count_trainable(plain) == 2 * channels
    assert bn.count_params() - count_trainable(bn) == 2 * channels  # moving mean and variance
    assert bn.get_layer("block1_conv1").__class__.__name__ == "Activation"


def test_googlenet_auxiliary_heads_counts_and_outputs():
    model = kerasconv.models.GoogLeNet(aux_classifiers=True)
    assert count_trainable(model) == 13_378_280
    assert set(model.output) == {"predictions", "aux1_predictions", "aux2_predictions"}
    assert model.get_layer("aux1_pool").output.shape[1:3] == (4, 4)
    # 3a concatenates 64 + 128 + 32 + 32 channels; 5b 384 + 384 + 128 + 128.
    assert model.get_layer("inception_3a").output.shape[1:] == (28, 28, 256)
    assert model.get_layer("inception_5b").output.shape[1:] == (7, 7, 1024)


def test_cifar_resnet_depths_match_paper_table6():
    expected = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}
    for depth, millions in expected.items():
        info = kerasconv.models.get_info(f"cifar_resnet{depth}")
        assert round(info.params / 1e6, 2 if depth < 110 else 1) == millions
    model = kerasconv.models.CIFARResNet(depth=32, width=16)
    assert count_trainable(model) == 464_154
    # Plain nets have the same layers minus the additions.
    plain = kerasconv.models.CIFARPlain32()
    assert count_trainable(plain) == 464_154
    assert not any(layer.name.endswith("_add") for layer in plain.layers)
    assert sum(layer.name.endswith("_add") for layer in model.layers) == 15
