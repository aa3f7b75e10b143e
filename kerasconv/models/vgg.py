"""VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image
recognition"), configurations A, A-LRN, B, C, D and E of the paper's Table 1, and batch-normalised
variants.

Every configuration is five blocks of 3×3 convolutions (stride 1, padding 1, ReLU) each closed by
2×2/2 max pooling, then FC-4096, FC-4096 (dropout 0.5 on both, as in the paper) and the classifier.
A-LRN adds local response normalisation after the first convolution; C ends blocks 3–5 with a 1×1
convolution. Parameters for 1,000 classes at 224×224 (the paper's Table 2 says 133, 133, 133, 134,
138 and 144 million):

========  ============  =================
config    parameters    multiply-adds
========  ============  =================
A         132,863,336   7.61 G
A-LRN     132,863,336   7.61 G
B         133,047,848   11.31 G
C         133,638,952   11.77 G
D         138,357,544   15.47 G   (= keras.applications.VGG16)
E         143,667,240   19.63 G   (= keras.applications.VGG19)
========  ============  =================

Layer names follow keras.applications (``block1_conv1`` … ``block5_pool``, ``flatten``, ``fc1``,
``fc2``, ``predictions``), so a keras.applications VGG16/VGG19 weights file loads into ``VGG16`` /
``VGG19``. In the batch-norm variants ``block1_conv1`` is the ReLU output after
``block1_conv1_conv`` → ``block1_conv1_bn``, so endpoints keep their names. The convolutions keep
their biases in the batch-norm variants (torchvision's ``vgg*_bn`` form).
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.models import _chain, common
from kerasconv.models.registry import register

# Table 1: per block, the (filters, kernel size) of each convolution.
_64, _128, _256, _512 = (64, 3), (128, 3), (256, 3), (512, 3)
CONFIGS = {
    "A": ((_64,), (_128,), (_256, _256), (_512, _512), (_512, _512)),
    "B": ((_64, _64), (_128, _128), (_256, _256), (_512, _512), (_512, _512)),
    "C": (
        (_64, _64),
        (_128, _128),
        (_256, _256, (256, 1)),
        (_512, _512, (512, 1)),
        (_512, _512, (512, 1)),
    ),
    "D": ((_64, _64), (_128, _128), (_256,) * 3, (_512,) * 3, (_512,) * 3),
    "E": ((_64, _64), (_128, _128), (_256,) * 4, (_512,) * 4, (_512,) * 4),
}

_PAPER = "Simonyan & Zisserman 2015"


def _endpoints(config):
    names = []
    for block, convs in enumerate(CONFIGS[config], start=1):
        names.append(f"block{block}_conv{len(convs)}")
        names.append(f"block{block}_pool")
    return tuple(names) + ("fc1", "fc2", "predictions")


def _vgg_layers(config, lrn, batch_norm, width_multiplier):
    from kerasconv.layers import LocalResponseNormalization

    layers = []
    for block, convs in enumerate(CONFIGS[config], start=1):
        for index, (filters, kernel) in enumerate(convs, start=1):
            filters = max(1, int(round(filters * width_multiplier)))
            layer_name = f"block{block}_conv{index}"
            if batch_norm:
                layers += [
                    keras.layers.Conv2D(filters, kernel, padding="same", name=f"{layer_name}_conv"),
                    # Momentum 0.9 (torchvision's vgg*_bn): Keras' 0.99 leaves the moving
                    # statistics far behind the weights in short trainings.
                    keras.layers.BatchNormalization(momentum=0.9, name=f"{layer_name}_bn"),
                    keras.layers.Activation("relu", name=layer_name),
                ]
            else:
                layers.append(
                    keras.layers.Conv2D(
                        filters, kernel, padding="same", activation="relu", name=layer_name
                    )
                )
            if lrn and block == 1 and index == 1:
                # Krizhevsky et al.'s LRN (k=2, n=5, alpha=1e-4, beta=0.75), as the paper states.
                layers.append(LocalResponseNormalization(name="block1_lrn"))
        layers.append(keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool"))
    return layers


def VGG(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    config="D",
    lrn=False,
    batch_norm=False,
    width_multiplier=1.0,
    fc_units=4096,
    dropout=0.5,
    form="functional",
):
    """Build VGG configuration ``config`` (Simonyan & Zisserman 2015, Table 1).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in ``keras.applications.VGG16``. The default input is 224×224×3; any size of
            at least 32×32 works (the fully connected layers then see a different flattened size).
        config: ``"A"``, ``"B"``, ``"C"``, ``"D"`` or ``"E"``.
        lrn: add local response normalisation after the first convolution (configuration A-LRN).
        batch_norm: batch normalisation after every convolution (Ioffe & Szegedy 2015).
        width_multiplier: scales every convolution's filter count (1.0 is the paper's network;
            small values give cheap VGG-style nets for experiments).
        fc_units: width of ``fc1`` and ``fc2`` (4,096 in the paper).
        dropout: dropout rate after ``fc1`` and ``fc2`` (0.5 in the paper).
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.VGG16().count_params()
        138357544
    """
    check_choice("config", config, tuple(CONFIGS))
    check_choice("form", form, ("functional", "sequential"))
    if not isinstance(lrn, bool) or not isinstance(batch_norm, bool):
        raise TypeError("lrn and batch_norm must be True or False.")
    width_multiplier = check_float(
        "width_multiplier", width_multiplier, minimum=0.0, strict_minimum=True
    )
    fc_units = check_int("fc_units", fc_units, minimum=1)
    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_shape = common.check_builder_args(
        input_tensor=input_tensor,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_shape=(224, 224, 3),
    )
    _chain.check_min_size("VGG", input_shape, 32, "It halves the size five times.")
    if name is None:
        name = "vgg_" + config.lower() + ("_lrn" if lrn else "") + ("_bn" if batch_norm else "")
    layers = _vgg_layers(config, lrn, batch_norm, width_multiplier)
    layers += _chain.head_layers(
        include_top,
        pooling,
        classes,
        classifier_activation,
        hidden=((fc_units, "fc1"), (fc_units, "fc2")),
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


# Registry entries. Parameter counts are for 1,000 classes at 224×224 (trainable parameters; the
# batch-norm variants add 2 per convolution channel for gamma and beta).
_COUNTS = {
    "A": (132_863_336, 7_609_090_048, "133 million"),
    "B": (133_047_848, 11_308_466_176, "133 million"),
    "C": (133_638_952, 11_770_888_192, "134 million"),
    "D": (138_357_544, 15_470_264_320, "138 million"),
    "E": (143_667_240, 19_632_062_464, "144 million"),
}
_ALIASES = {"A": "vgg11", "B": "vgg13", "D": "vgg16", "E": "vgg19"}


def _bn_extra(config):
    return 2 * sum(filters for block in CONFIGS[config] for filters, _ in block)


def _register_all():
    for config, (params, macs, paper_params) in _COUNTS.items():
        depth = sum(len(block) for block in CONFIGS[config]) + 3
        alias = _ALIASES.get(config)
        register(
            f"vgg_{config.lower()}",
            family="vgg",
            paper=_PAPER,
            input_shape=(224, 224, 3),
            params=params,
            macs=macs,
            paper_params=paper_params,
            aliases=(alias,) if alias else (),
            endpoints=_endpoints(config),
            notes=f"configuration {config}, {depth} weight layers",
            config=config,
        )(VGG)
        register(
            f"vgg_{config.lower()}_bn",
            family="vgg",
            paper=_PAPER + "; Ioffe & Szegedy 2015",
            input_shape=(224, 224, 3),
            params=params + _bn_extra(config),
            macs=macs,
            aliases=(f"{alias}_bn",) if alias else (),
            endpoints=_endpoints(config),
            notes=f"configuration {config} with batch normalisation after every convolution",
            config=config,
            batch_norm=True,
        )(VGG)
    register(
        "vgg_a_lrn",
        family="vgg",
        paper=_PAPER,
        input_shape=(224, 224, 3),
        params=_COUNTS["A"][0],
        macs=_COUNTS["A"][1],
        paper_params="133 million",
        endpoints=_endpoints("A"),
        notes="configuration A-LRN: LRN after the first convolution",
        config="A",
        lrn=True,
    )(VGG)


_register_all()


def _named(config, default_name, batch_norm=False, lrn=False):
    def builder(
        include_top=True,
        weights=None,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
        **kwargs,
    ):
        return VGG(
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=name,
            config=config,
            batch_norm=batch_norm,
            lrn=lrn,
            **kwargs,
        )

    label = f"configuration {config}" + (" with batch norm" if batch_norm else "")
    builder.__name__ = builder.__qualname__ = default_name.upper().replace("_", "")
    builder.__doc__ = (
        f"VGG {label} (Simonyan & Zisserman 2015); keras.applications arguments, see ``VGG``."
    )
    return builder


VGG11 = _named("A", "vgg11")
VGG11LRN = _named("A", "vgg_a_lrn", lrn=True)
VGG13 = _named("B", "vgg13")
VGGC = _named("C", "vgg_c")
VGG16 = _named("D", "vgg16")
VGG19 = _named("E", "vgg19")
VGG11BN = _named("A", "vgg11_bn", batch_norm=True)
VGG13BN = _named("B", "vgg13_bn", batch_norm=True)
VGG16BN = _named("D", "vgg16_bn", batch_norm=True)
VGG19BN = _named("E", "vgg19_bn", batch_norm=True)
