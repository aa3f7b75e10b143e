"""The all-convolutional family (Springenberg, Dosovitskiy, Brox & Riedmiller 2015, "Striving for
simplicity: the all convolutional net"), the CIFAR-10 networks of the paper's Tables 1 and 2.

All four share the layout of base **Model C** on 32×32×3 inputs — two 3×3 convolutions with 96
filters, a 3×3/2 max pooling, two 3×3 convolutions with 192 filters, a 3×3/2 max pooling, a 3×3
convolution with 192 filters (no padding), a 1×1 convolution with 192 filters and a 1×1 convolution
to the classes, averaged over the map — and differ in how they reduce the size:

* ``model_c`` — max pooling (954,730 parameters);
* ``strided_cnn_c`` — no pooling; the convolution before each pooling has stride 2 (954,730);
* ``convpool_cnn_c`` — an extra 3×3 convolution before each pooling (1,369,738);
* ``all_cnn_c`` — each pooling replaced by a 3×3 convolution with stride 2 (1,369,738).

The lecture notes' table rounds these to ≈1.3 M / 1.3 M / 1.4 M / 1.4 M (the paper's own table);
a direct count of Model C gives 0.95 M. The class maps are built as in the paper's Tables 1 and 2:
"1×1 conv. 10 ReLU → global averaging over 6×6 → 10- or 100-way softmax". The ReLU sits *before*
the averaging, so the head is not a linear classifier on averaged features (averaging and a
linear map commute; averaging and a ReLU do not: the mean of rectified maps is not the rectified
mean). The 1×1 convolution ``class_conv`` has the parameters a ``Dense(classes)`` on the averaged
features would have, but does its multiply-adds at every position of the 6×6 map. The averaged
rectified maps are the logits; the classifier activation is a separate ``Activation`` layer named
``predictions``, so ``kerasconv.gradients.logits_function`` recovers them (the input of the softmax)
as for every kerasconv model. Dropout (20% on the input, 50% after each size reduction) as in the
paper.

Layer names: ``block1_conv1``, ``block1_conv2``, [``block1_conv3``], [``block1_pool``] and the same
for ``block2``; ``block3_conv1`` (3×3), ``block3_conv2`` (1×1), ``class_conv`` (1×1 to the classes,
ReLU), ``avg_pool``, ``predictions`` (the softmax).
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice, check_float
from kerasconv.models import _chain, common
from kerasconv.models.registry import register

VARIANTS = ("model_c", "strided_cnn_c", "convpool_cnn_c", "all_cnn_c")
_PAPER = "Springenberg et al. 2015"


def _block(block, filters, variant, dropout):
    def conv(index, strides=1):
        return keras.layers.Conv2D(
            filters,
            3,
            strides=strides,
            padding="same",
            activation="relu",
            name=f"block{block}_conv{index}",
        )

    if variant == "model_c":
        layers = [
            conv(1),
            conv(2),
            keras.layers.MaxPooling2D(3, 2, "same", name=f"block{block}_pool"),
        ]
    elif variant == "strided_cnn_c":
        layers = [conv(1), conv(2, strides=2)]
    elif variant == "convpool_cnn_c":
        layers = [
            conv(1),
            conv(2),
            conv(3),
            keras.layers.MaxPooling2D(3, 2, "same", name=f"block{block}_pool"),
        ]
    else:
        layers = [conv(1), conv(2), conv(3, strides=2)]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name=f"block{block}_dropout"))
    return layers


def _class_map_head(classes, classifier_activation):
    """The paper's head: 1×1 convolution to the classes with ReLU, global averaging, softmax."""
    return [
        keras.layers.Conv2D(classes, 1, activation="relu", name="class_conv"),
        # float32 even under mixed precision: softmax and the loss need the range.
        keras.layers.GlobalAveragePooling2D(name="avg_pool", dtype="float32"),
        keras.layers.Activation(classifier_activation, name="predictions", dtype="float32"),
    ]


def _endpoints(variant):
    per_block = {
        "model_c": ("conv1", "conv2", "pool"),
        "strided_cnn_c": ("conv1", "conv2"),
        "convpool_cnn_c": ("conv1", "conv2", "conv3", "pool"),
        "all_cnn_c": ("conv1", "conv2", "conv3"),
    }[variant]
    names = tuple(f"block{block}_{part}" for block in (1, 2) for part in per_block)
    return names + ("block3_conv1", "block3_conv2", "class_conv", "avg_pool", "predictions")


def AllConvNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    variant="all_cnn_c",
    width_multiplier=1.0,
    dropout=0.5,
    input_dropout=0.2,
    form="functional",
):
    """Build one of Springenberg et al.'s CIFAR-10 networks (Model C and its three relatives).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: keras.applications' arguments. Default input 32×32×3 and 10 classes; any input of
            at least 9×9 and any channel count (``(32, 32, 1)`` for digits).
        variant: ``"model_c"``, ``"strided_cnn_c"``, ``"convpool_cnn_c"`` or ``"all_cnn_c"``.
        width_multiplier: scales the 96/192 filters (1.0 is the paper's network).
        dropout: dropout after each size reduction (0.5 in the paper; 0 for none).
        input_dropout: dropout on the input (0.2 in the paper; 0 for none).
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.AllCNNC().count_params()
        1369738
    """
    check_choice("variant", variant, VARIANTS)
    check_choice("form", form, ("functional", "sequential"))
    width_multiplier = check_float(
        "width_multiplier", width_multiplier, minimum=0.0, strict_minimum=True
    )
    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_dropout = _chain.check_positive_fraction("input_dropout", input_dropout)
    input_shape = common.check_builder_args(
        input_tensor=input_tensor,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_shape=(32, 32, 3),
    )
    _chain.check_min_size(variant, input_shape, 9, "It reduces the size 4-fold, then uses a 3×3.")
    narrow = max(1, int(round(96 * width_multiplier)))
    wide = max(1, int(round(192 * width_multiplier)))
    layers = []
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    layers += _block(1, narrow, variant, dropout)
    layers += _block(2, wide, variant, dropout)
    layers += [
        keras.layers.Conv2D(wide, 3, activation="relu", name="block3_conv1"),
        keras.layers.Conv2D(wide, 1, activation="relu", name="block3_conv2"),
    ]
    if include_top:
        layers += _class_map_head(classes, classifier_activation)
    else:
        layers += _chain.head_layers(False, pooling, classes, classifier_activation)
    return _chain.build_chain(
        layers,
        form=form,
        input_tensor=input_tensor,
        input_shape=input_shape,
        name=name or variant,
        weights=weights,
    )


_COUNTS = {
    "model_c": (954_730, 228_331_008, "≈1.3 M (9.74% CIFAR-10 error)"),
    "strided_cnn_c": (954_730, 100_929_024, "≈1.3 M (10.19% error)"),
    "convpool_cnn_c": (1_369_738, 398_200_320, "≈1.4 M (9.31% error)"),
    "all_cnn_c": (1_369_738, 270_798_336, "≈1.4 M (9.08% error)"),
}
_DESCRIPTIONS = {
    "model_c": "base Model C: max pooling",
    "strided_cnn_c": "pooling removed, stride 2 on the preceding convolution",
    "convpool_cnn_c": "an extra 3×3 convolution before each pooling",
    "all_cnn_c": "pooling replaced by a 3×3 convolution with stride 2",
}

for _variant, (_params, _macs, _paper_params) in _COUNTS.items():
    register(
        _variant,
        family="allconv",
        paper=_PAPER,
        input_shape=(32, 32, 3),
        classes=10,
        params=_params,
        macs=_macs,
        paper_params=_paper_params,
        endpoints=_endpoints(_variant),
        notes=_DESCRIPTIONS[_variant],
        variant=_variant,
    )(AllConvNet)


def _named(variant, label):
    def builder(
        include_top=True,
        weights=None,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=10,
        classifier_activation="softmax",
        name=variant,
        **kwargs,
    ):
        return AllConvNet(
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=name,
            variant=variant,
            **kwargs,
        )

    builder.__name__ = builder.__qualname__ = label
    builder.__doc__ = (
        f"{label} (Springenberg et al. 2015): {_DESCRIPTIONS[variant]}; see ``AllConvNet``."
    )
    return builder


ModelC = _named("model_c", "ModelC")
StridedCNNC = _named("strided_cnn_c", "StridedCNNC")
ConvPoolCNNC = _named("convpool_cnn_c", "ConvPoolCNNC")
AllCNNC = _named("all_cnn_c", "AllCNNC")
