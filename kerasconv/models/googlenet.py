"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions") and BN-Inception
(Ioffe & Szegedy 2015, "Batch normalization: accelerating deep network training by reducing internal
covariate shift").

**GoogLeNet**, the paper's Table 1 with its own layer names: a 7×7/2 convolution, 3×3/2 max
pooling, LRN, a 1×1 reduction and a 3×3 convolution, LRN, pooling, then nine inception modules (3a,
3b | 4a–4e | 5a, 5b, with 3×3/2 max pooling between the groups), global average pooling, dropout
0.4 and the classifier. Each inception module concatenates a 1×1 branch, a 1×1 → 3×3 branch, a 1×1
→ 5×5 branch and a 3×3 max pooling → 1×1 projection branch. Convolutions have biases and ReLUs, no
batch norm: 6,998,552 parameters (the paper's "about 6.8 million" excludes a few), 1.58 G multiply-
adds (the paper's "1.5 billion"). The two **auxiliary classifiers** on 4a and 4d (5×5/3 average
pooling, 1×1 conv with 128 filters, FC-1024, dropout 0.7, classifier) are added with
``aux_classifiers=True`` (13,378,280 parameters); the model then returns a dict with outputs
``predictions``, ``aux1_predictions`` and ``aux2_predictions``. The paper adds the auxiliary
losses to the total loss with weight 0.3 (``auxiliary_loss_weights()`` gives the ``loss_weights``
for ``compile``) and discards the auxiliary networks at inference time
(``without_auxiliary_classifiers(model)`` gives the single-output model, sharing the weights).

**BN-Inception** (the batch-normalised Inception of Ioffe & Szegedy's Sec. 4.2 and appendix): batch
norm after every convolution, the 5×5 convolutions replaced by two 3×3, modules 3c and 4e reduce the
size with stride-2 branches and a pass-through max pooling, average pooling inside most modules, no
LRN and no dropout. The first layer is a plain 7×7/2 convolution (the paper's variant uses a
separable one with depth multiplier 8).

Endpoints (GoogLeNet): ``conv1, pool1, norm1, conv2_reduce, conv2, norm2, pool2, inception_3a,
inception_3b, pool3, inception_4a … inception_4e, pool4, inception_5a, inception_5b, pool5,
predictions``. BN-Inception: ``conv1, pool1, conv2_reduce, conv2, pool2, inception_3a, inception_3b,
inception_3c, inception_4a … inception_4e, inception_5a, inception_5b, pool5, predictions``.
"""

from __future__ import annotations

import keras

from kerasconv.models import _chain, common
from kerasconv.models.registry import register

# name: (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection) — the paper's Table 1.
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}

# name: (1×1, 3×3 reduce, 3×3, double 3×3 reduce, double 3×3, pool kind, pool projection, stride)
# — Ioffe & Szegedy 2015, Figure 5. A stride-2 module has no 1×1 branch and passes the max-pooled
# input through unprojected.
BN_INCEPTION_MODULES = {
    "3a": (64, 64, 64, 64, 96, "avg", 32, 1),
    "3b": (64, 64, 96, 64, 96, "avg", 64, 1),
    "3c": (0, 128, 160, 64, 96, "max", 0, 2),
    "4a": (224, 64, 96, 96, 128, "avg", 128, 1),
    "4b": (192, 96, 128, 96, 128, "avg", 128, 1),
    "4c": (160, 128, 160, 128, 160, "avg", 128, 1),
    "4d": (96, 128, 192, 160, 192, "avg", 128, 1),
    "4e": (0, 128, 192, 192, 256, "max", 0, 2),
    "5a": (352, 192, 320, 160, 224, "avg", 128, 1),
    "5b": (352, 192, 320, 192, 224, "max", 128, 1),
}

GOOGLENET_ENDPOINTS = (
    ("conv1", "pool1", "norm1", "conv2_reduce", "conv2", "norm2", "pool2")
    + ("inception_3a", "inception_3b", "pool3")
    + tuple(f"inception_4{k}" for k in "abcde")
    + ("pool4", "inception_5a", "inception_5b", "pool5", "predictions")
)
BN_INCEPTION_ENDPOINTS = (
    ("conv1", "pool1", "conv2_reduce", "conv2", "pool2")
    + tuple(f"inception_{k}" for k in BN_INCEPTION_MODULES)
    + ("pool5", "predictions")
)


def _conv(x, filters, kernel, name, strides=1):
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", activation="relu", name=name
    )(x)


def _max_pool(x, name, strides=2):
    return keras.layers.MaxPooling2D(3, strides=strides, padding="same", name=name)(x)


def inception_module(x, widths, name):
    """GoogLeNet's inception module (Szegedy et al. 2015, Figure 2b)."""
    ones, reduce3, threes, reduce5, fives, projection = widths
    branch1 = _conv(x, ones, 1, f"{name}_1x1")
    branch3 = _conv(_conv(x, reduce3, 1, f"{name}_3x3_reduce"), threes, 3, f"{name}_3x3")
    branch5 = _conv(_conv(x, reduce5, 1, f"{name}_5x5_reduce"), fives, 5, f"{name}_5x5")
    pooled = _max_pool(x, f"{name}_pool", strides=1)
    branch_pool = _conv(pooled, projection, 1, f"{name}_pool_proj")
    return keras.layers.Concatenate(name=name)([branch1, branch3, branch5, branch_pool])


def _auxiliary_head(x, name, classes, classifier_activation):
    """Szegedy et al.'s auxiliary classifier (Sec. 5) on a 14×14 map."""
    x = keras.layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = _conv(x, 128, 1, f"{name}_conv")
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = keras.layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return keras.layers.Dense(
        classes, activation=classifier_activation, name=f"{name}_predictions", dtype="float32"
    )(x)


AUXILIARY_LOSS_WEIGHT = 0.3  # Szegedy et al. 2015, Sec. 5


def auxiliary_loss_weights(weight=AUXILIARY_LOSS_WEIGHT):
    """``loss_weights`` for compiling GoogLeNet with its auxiliary classifiers.

    Szegedy et al. 2015, Sec. 5: "During training, their loss gets added to the total loss of the
    network with a discount weight (the losses of the auxiliary classifiers were weighted by 0.3)".

    Example:
        >>> import kerasconv
        >>> kerasconv.models.googlenet.auxiliary_loss_weights()
        {'predictions': 1.0, 'aux1_predictions': 0.3, 'aux2_predictions': 0.3}
    """
    from kerasconv._validation import check_float

    weight = check_float("weight", weight, minimum=0.0)
    return {"predictions": 1.0, "aux1_predictions": weight, "aux2_predictions": weight}


def without_auxiliary_classifiers(model):
    """The inference form of a GoogLeNet built with ``aux_classifiers=True``: one output.

    "At inference time, these auxiliary networks are discarded" (Szegedy et al. 2015, Sec. 5).
    The returned model maps the same inputs to ``predictions`` only and shares ``model``'s layers
    and weights (training one trains the other); the auxiliary heads are not part of it, so it
    does their work no more and its parameter count is the plain GoogLeNet's.

    Example:
        >>> import kerasconv
        >>> full = kerasconv.models.GoogLeNet(aux_classifiers=True)
        >>> kerasconv.models.googlenet.without_auxiliary_classifiers(full).count_params()
        6998552
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    names = [layer.name for layer in model.layers]
    if "predictions" not in names:
        raise ValueError(
            f"Model {model.name!r} has no 'predictions' layer: build it with include_top=True."
        )
    if "aux1_predictions" not in names and "aux2_predictions" not in names:
        raise ValueError(
            f"Model {model.name!r} has no auxiliary classifiers (build it with "
            "aux_classifiers=True); it is already its own inference form."
        )
    return keras.Model(
        model.inputs, model.get_layer("predictions").output, name=f"{model.name}_inference"
    )


@register(
    "googlenet",
    family="inception",
    paper="Szegedy et al. 2015",
    input_shape=(224, 224, 3),
    params=6_998_552,
    macs=1_582_671_872,
    paper_params="about 6.8 million; 1.5 G multiply-adds",
    aliases=("inception_v1",),
    endpoints=GOOGLENET_ENDPOINTS,
    notes="aux_classifiers=True adds the two auxiliary heads (13,378,280 parameters)",
)
def GoogLeNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="googlenet",
    aux_classifiers=False,
    dropout=0.4,
):
    """Build GoogLeNet (Szegedy et al. 2015), optionally with its two auxiliary classifiers.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in keras.applications. Default input 224×224×3; at least 32×32 (80×80 with
            the auxiliary classifiers, which pool 5×5/3 on the 1/16-size maps).
        aux_classifiers: add the auxiliary heads on inception 4a and 4d; the model then outputs
            a dict ``{"predictions", "aux1_predictions", "aux2_predictions"}``. Compile it with
            ``loss_weights=auxiliary_loss_weights()`` (the paper's 0.3) and predict with
            ``without_auxiliary_classifiers(model)``.
        dropout: dropout rate before the classifier (0.4 in the paper).

    Example:
        >>> import kerasconv
        >>> kerasconv.models.GoogLeNet().count_params()
        6998552
    """
    from kerasconv.layers import LocalResponseNormalization

    if not isinstance(aux_classifiers, bool):
        raise TypeError(f"aux_classifiers must be True or False; got {aux_classifiers!r}.")
    if aux_classifiers and not include_top:
        raise ValueError("aux_classifiers=True needs include_top=True.")
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
    _chain.check_min_size(
        "GoogLeNet" + (" with auxiliary classifiers" if aux_classifiers else ""),
        input_shape,
        80 if aux_classifiers else 32,
    )

    def lrn(name):
        # Caffe's GoogLeNet LRN (size 5, alpha 1e-4 over the mean, k = 1) in the paper's convention.
        return LocalResponseNormalization(
            depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75, name=name
        )

    inputs, x = common.make_input(input_tensor, input_shape)
    x = _conv(x, 64, 7, "conv1", strides=2)
    x = _max_pool(x, "pool1")
    x = lrn("norm1")(x)
    x = _conv(x, 64, 1, "conv2_reduce")
    x = _conv(x, 192, 3, "conv2")
    x = lrn("norm2")(x)
    x = _max_pool(x, "pool2")
    auxiliary = {}
    for module, widths in GOOGLENET_MODULES.items():
        if module == "4a":
            x = _max_pool(x, "pool3")
        elif module == "5a":
            x = _max_pool(x, "pool4")
        x = inception_module(x, widths, f"inception_{module}")
        if aux_classifiers and module in ("4a", "4d"):
            head = "aux1" if module == "4a" else "aux2"
            auxiliary[f"{head}_predictions"] = _auxiliary_head(
                x, head, classes, classifier_activation
            )
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="pool5")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="pool5_dropout")(x)
        x = common.classifier_output(x, classes, classifier_activation)
    else:
        x = common.global_pool(x, pooling)
    if auxiliary:
        x = {"predictions": x, **auxiliary}
    return common.finish(inputs, x, name, weights)


def _conv_bn(x, filters, kernel, name, strides=1):
    """``{name}_conv`` (no bias) → ``{name}_bn`` → ReLU named ``name``."""
    x = keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=name)(x)


def bn_inception_module(x, widths, name):
    """An inception module of BN-Inception (Ioffe & Szegedy 2015, Figure 5)."""
    ones, reduce3, threes, reduce_double, doubles, pool_kind, projection, strides = widths
    branches = []
    if ones:
        branches.append(_conv_bn(x, ones, 1, f"{name}_1x1"))
    branch = _conv_bn(x, reduce3, 1, f"{name}_3x3_reduce")
    branches.append(_conv_bn(branch, threes, 3, f"{name}_3x3", strides=strides))
    branch = _conv_bn(x, reduce_double, 1, f"{name}_double_3x3_reduce")
    branch = _conv_bn(branch, doubles, 3, f"{name}_double_3x3_1")
    branches.append(_conv_bn(branch, doubles, 3, f"{name}_double_3x3_2", strides=strides))
    pool_layer = keras.layers.MaxPooling2D if pool_kind == "max" else keras.layers.AveragePooling2D
    pooled = pool_layer(3, strides=strides, padding="same", name=f"{name}_pool")(x)
    if projection:
        pooled = _conv_bn(pooled, projection, 1, f"{name}_pool_proj")
    branches.append(pooled)
    return keras.layers.Concatenate(name=name)(branches)


@register(
    "bn_inception",
    family="inception",
    paper="Ioffe & Szegedy 2015",
    input_shape=(224, 224, 3),
    params=11_285_224,
    macs=2_032_600_064,
    paper_params="not stated (about 11.3 million)",
    endpoints=BN_INCEPTION_ENDPOINTS,
    notes="batch norm after every convolution, double 3×3 instead of 5×5",
)
def BNInception(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="bn_inception",
):
    """Build BN-Inception (Ioffe & Szegedy 2015).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in keras.applications. Default input 224×224×3; at least 32×32.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.BNInception()
        >>> model.get_layer("inception_5b").output.shape
        (None, 7, 7, 1024)
    """
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
    _chain.check_min_size("BN-Inception", input_shape, 32)
    inputs, x = common.make_input(input_tensor, input_shape)
    x = _conv_bn(x, 64, 7, "conv1", strides=2)
    x = _max_pool(x, "pool1")
    x = _conv_bn(x, 64, 1, "conv2_reduce")
    x = _conv_bn(x, 192, 3, "conv2")
    x = _max_pool(x, "pool2")
    for module, widths in BN_INCEPTION_MODULES.items():
        x = bn_inception_module(x, widths, f"inception_{module}")
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="pool5")(x)
        x = common.classifier_output(x, classes, classifier_activation)
    else:
        x = common.global_pool(x, pooling)
    return common.finish(inputs, x, name, weights)
