"""AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep convolutional
neural networks") and ZF-Net (Zeiler & Fergus 2014, "Visualizing and understanding convolutional
networks").

**AlexNet** takes 227×227×3 images (the paper's "224" does not give its 55×55 maps; 227 does, as in
Caffe's ``bvlc_alexnet``): conv1 96 × 11×11/4 → LRN → 3×3/2 max pooling (overlapping) → conv2
256 × 5×5 → LRN → pooling → conv3 384 × 3×3 → conv4 384 × 3×3 → conv5 256 × 3×3 → pooling →
fc6 4096 → fc7 4096 (dropout 0.5 on both) → the classifier. In the original **two-tower** form
(``towers=2``) the network was split over two GPUs and conv2, conv4 and conv5 only see the half of
the previous layer's maps on their own GPU: these are grouped convolutions (``groups=2``; Keras runs
them through XLA on a CPU, forward and backward), 60,965,224 parameters and 724 M multiply-adds. The
**one-tower** form (``towers=1``) has full convolutions: 62,378,344 parameters, 1.135 G
multiply-adds. The per-layer table of the lecture notes (conv1 35K / 105M … FC-1000 4M / 4M) is the
two-tower form; only its conv4 parameter entry (1.3M) is the one-tower count (two towers: 664K),
while its conv4 multiply-adds (112M) are the two-tower count.

**ZF-Net** replaces conv1 by 96 × 7×7/2 and conv2 by a stride-2 convolution, keeping the same
widths: 224 → 110 → 55 → 26 → 13 → 6, 62,357,608 parameters and 1.17 G multiply-adds. Its
normalisation (the paper's "contrast normalisation across feature maps") is the LRN layer.

Endpoints: ``conv1, norm1, pool1, conv2, norm2, pool2, conv3, conv4, conv5, pool5, fc6, fc7,
predictions`` (post-ReLU for convolutions and fully connected layers).
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice
from kerasconv.models import _chain, common
from kerasconv.models.registry import register

ENDPOINTS = (
    "conv1",
    "norm1",
    "pool1",
    "conv2",
    "norm2",
    "pool2",
    "conv3",
    "conv4",
    "conv5",
    "pool5",
    "fc6",
    "fc7",
    "predictions",
)


def _lrn(name, lrn):
    from kerasconv.layers import LocalResponseNormalization

    if lrn:
        return [
            LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name=name)
        ]
    return []


def _alexnet_layers(towers, lrn):
    groups = towers
    conv = keras.layers.Conv2D
    return (
        [conv(96, 11, strides=4, activation="relu", name="conv1")]
        + _lrn("norm1", lrn)
        + [
            keras.layers.MaxPooling2D(3, strides=2, name="pool1"),
            conv(256, 5, padding="same", groups=groups, activation="relu", name="conv2"),
        ]
        + _lrn("norm2", lrn)
        + [
            keras.layers.MaxPooling2D(3, strides=2, name="pool2"),
            conv(384, 3, padding="same", activation="relu", name="conv3"),
            conv(384, 3, padding="same", groups=groups, activation="relu", name="conv4"),
            conv(256, 3, padding="same", groups=groups, activation="relu", name="conv5"),
            keras.layers.MaxPooling2D(3, strides=2, name="pool5"),
        ]
    )


def _zfnet_layers(lrn):
    conv = keras.layers.Conv2D
    return (
        [
            keras.layers.ZeroPadding2D(1, name="conv1_pad"),
            conv(96, 7, strides=2, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1"),
        ]
        + _lrn("norm1", lrn)
        + [
            conv(256, 5, strides=2, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2"),
        ]
        + _lrn("norm2", lrn)
        + [
            conv(384, 3, padding="same", activation="relu", name="conv3"),
            conv(384, 3, padding="same", activation="relu", name="conv4"),
            conv(256, 3, padding="same", activation="relu", name="conv5"),
            keras.layers.MaxPooling2D(3, strides=2, name="pool5"),
        ]
    )


def _alexnet_final_size(side):
    side = (side - 11) // 4 + 1  # conv1
    side = (side - 3) // 2 + 1  # pool1
    side = (side - 3) // 2 + 1  # pool2
    return (side - 3) // 2 + 1  # pool5


def _zfnet_final_size(side):
    side = (side + 2 - 7) // 2 + 1  # conv1 on the padded input
    side = -(-side // 2)  # pool1, same padding
    side = (side - 5) // 2 + 1  # conv2
    side = -(-side // 2)  # pool2, same padding
    return (side - 3) // 2 + 1 if side >= 3 else 0  # pool5


def _check_size(label, input_shape, final_size, smallest):
    for side in input_shape[:-1]:
        if side is not None and (side < 1 or final_size(side) < 1):
            raise ValueError(
                f"{label} needs inputs of at least {smallest}×{smallest}; got input_shape "
                f"{tuple(input_shape)}."
            )


@register(
    "alexnet",
    family="alexnet",
    paper="Krizhevsky et al. 2012",
    input_shape=(227, 227, 3),
    params=60_965_224,
    macs=724_406_816,
    paper_params="60 million",
    endpoints=ENDPOINTS,
    notes="two towers: grouped conv2, conv4, conv5 (groups=2)",
)
def AlexNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="alexnet",
    towers=2,
    lrn=True,
    dropout=0.5,
    form="functional",
):
    """Build AlexNet (Krizhevsky et al. 2012).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in keras.applications. Default input 227×227×3; at least 67×67.
        towers: 2 for the original two-GPU network (grouped conv2, conv4, conv5), 1 for full
            convolutions.
        lrn: local response normalisation after conv1 and conv2 (the paper's Sec. 3.3).
        dropout: dropout rate after fc6 and fc7 (0.5 in the paper).
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.AlexNet().count_params()
        60965224
    """
    check_choice("towers", towers, (1, 2))
    check_choice("form", form, ("functional", "sequential"))
    if not isinstance(lrn, bool):
        raise TypeError(f"lrn must be True or False; got {lrn!r}.")
    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_shape = common.check_standard_args(
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        (227, 227, 3),
        input_tensor,
    )
    _check_size("AlexNet", input_shape, _alexnet_final_size, 67)
    layers = _alexnet_layers(towers, lrn) + _chain.head_layers(
        include_top,
        pooling,
        classes,
        classifier_activation,
        hidden=((4096, "fc6"), (4096, "fc7")),
        dropout=dropout,
    )
    return _chain.build_chain(
        layers,
        form=form,
        input_tensor=input_tensor,
        input_shape=input_shape,
        name=name,
        weights=weights,
    )


@register(
    "alexnet_one_tower",
    family="alexnet",
    paper="Krizhevsky et al. 2012",
    input_shape=(227, 227, 3),
    params=62_378_344,
    macs=1_135_256_096,
    paper_params="60 million (for the two-tower form)",
    endpoints=ENDPOINTS,
    notes="one tower: full convolutions",
)
def AlexNetOneTower(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="alexnet_one_tower",
    **kwargs,
):
    """One-tower AlexNet (full convolutions; 62,378,344 parameters); see ``AlexNet``."""
    return AlexNet(
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name,
        towers=1,
        **kwargs,
    )


@register(
    "zfnet",
    family="alexnet",
    paper="Zeiler & Fergus 2014",
    input_shape=(224, 224, 3),
    params=62_357_608,
    macs=1_168_032_896,
    paper_params="not stated",
    endpoints=ENDPOINTS,
    notes="7×7/2 conv1, stride-2 conv2; 224 → 110 → 55 → 26 → 13 → 6",
)
def ZFNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="zfnet",
    lrn=True,
    dropout=0.5,
    form="functional",
):
    """Build ZF-Net (Zeiler & Fergus 2014, Figure 3).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in keras.applications. Default input 224×224×3; at least 53×53.
        lrn: normalisation across feature maps after pool1 and pool2.
        dropout: dropout rate after fc6 and fc7.
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.ZFNet().count_params()
        62357608
    """
    check_choice("form", form, ("functional", "sequential"))
    if not isinstance(lrn, bool):
        raise TypeError(f"lrn must be True or False; got {lrn!r}.")
    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_shape = common.check_standard_args(
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        (224, 224, 3),
        input_tensor,
    )
    _check_size("ZF-Net", input_shape, _zfnet_final_size, 53)
    layers = _zfnet_layers(lrn) + _chain.head_layers(
        include_top,
        pooling,
        classes,
        classifier_activation,
        hidden=((4096, "fc6"), (4096, "fc7")),
        dropout=dropout,
    )
    return _chain.build_chain(
        layers,
        form=form,
        input_tensor=input_tensor,
        input_shape=input_shape,
        name=name,
        weights=weights,
    )
