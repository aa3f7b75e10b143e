"""Residual networks (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition").

**ImageNet ResNets** (the paper's Table 1): a 7×7/2 convolution and 3×3/2 max pooling, then stages
``conv2``–``conv5`` of basic blocks (two 3×3 convolutions; ResNet-18/34) or bottleneck blocks
(1×1, 3×3, 1×1 with 4× expansion; ResNet-50/101/152), global average pooling and the classifier.
Projection shortcuts where the shape changes (the paper's option B). ``variant="v1"`` puts the
stride of a downsampling bottleneck on its first 1×1 convolution as the paper and
keras.applications do; ``variant="v1.5"`` puts it on the 3×3 convolution (torchvision, NVIDIA).
``conv_bias=False`` (default) is the paper's form, batch normalisation making biases redundant
(trainable parameters 11,689,512 / 21,797,672 / 25,557,032 / 44,549,160 / 60,192,808, as
torchvision); ``conv_bias=True`` with ``variant="v1"`` is exactly keras.applications'
ResNet50/101/152 (25,636,712 / 44,707,176 / 60,419,944 parameters, same layer names).

**CIFAR ResNets** (the paper's Section 4.2): a 3×3 convolution with 16 filters, three stages of
``n`` basic blocks with 16, 32 and 64 filters on 32×32, 16×16 and 8×8 maps, global average pooling
and a 10-way classifier: ``6n + 2`` weight layers (20, 32, 44, 56, 110). Shortcuts are identities
with zero-padding where the width doubles (option A: no extra parameters), so the trainable counts
are 269,722 / 464,154 / 658,586 / 853,018 / 1,727,962 (the paper's 0.27/0.46/0.66/0.85/1.7 M).
``shortcuts=False`` gives the "plain" nets of the same depth and parameter count, whose training
error grows with depth (the paper's Figure 6; the loss-landscape notes' ResNet-56 "without skip
connections").

Endpoints (ImageNet): ``conv1_relu``, ``pool1_pool``, the last ``..._out`` of every stage
(``conv2_block3_out`` … ``conv5_block3_out`` for ResNet-50), ``avg_pool``, ``predictions``.
CIFAR: ``conv1_relu``, ``stage1_block{n}_out``, ``stage2_block{n}_out``, ``stage3_block{n}_out``,
``avg_pool``, ``predictions``.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasconv._validation import check_choice, check_int
from kerasconv.models import _chain, common
from kerasconv.models.registry import register

_PAPER = "He et al. 2016"
_BN_EPSILON = 1.001e-5  # keras.applications' value, so its weights files load unchanged

# depth: (block kind, blocks per stage)
IMAGENET_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
CIFAR_DEPTHS = (20, 32, 44, 56, 110)


@keras.saving.register_keras_serializable(package="kerasconv")
class ZeroPadShortcut(keras.layers.Layer):
    """He et al.'s option-A shortcut: subsample by ``strides`` and append zero channels.

    Maps ``(batch, H, W, C)`` to ``(batch, ceil(H / s), ceil(W / s), filters)`` by keeping every
    ``s``-th row and column and padding the channel axis with ``filters - C`` zeros, so a residual
    block can widen without a projection and without parameters.

    Args:
        filters: output channels (at least the input's channel count).
        strides: spatial subsampling factor.

    Example:
        >>> import numpy as np
        >>> from kerasconv.models.resnet import ZeroPadShortcut
        >>> ZeroPadShortcut(32, strides=2)(np.ones((1, 8, 8, 16), "float32")).shape
        (1, 4, 4, 32)
    """

    def __init__(self, filters, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, minimum=1)
        self.strides = check_int("strides", strides, minimum=1)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels > self.filters:
            raise ValueError(
                f"ZeroPadShortcut cannot narrow {channels} channels to {self.filters}."
            )

    def call(self, inputs):
        x = inputs[:, :: self.strides, :: self.strides, :]
        extra = self.filters - ops.shape(inputs)[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def compute_output_shape(self, input_shape):
        def reduce(side):
            return None if side is None else -(-side // self.strides)

        return (input_shape[0], reduce(input_shape[1]), reduce(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides)
        return config


def _conv_bn(x, filters, kernel, strides, name, conv_bias, relu=True, momentum=0.99):
    """``{name}_conv`` → ``{name}_bn`` (→ ``{name}_relu``); explicit zero padding for 3×3/2."""
    padding = "same"
    if kernel > 1 and strides > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    x = keras.layers.Conv2D(
        filters, kernel, strides=strides, padding=padding, use_bias=conv_bias, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=momentum, name=f"{name}_bn")(
        x
    )
    if relu:
        x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def basic_block(
    x, filters, strides, name, conv_bias=False, shortcut="projection", bn_momentum=0.99
):
    """Two 3×3 convolutions; ``shortcut`` is ``"projection"`` (option B), ``"zero_pad"`` (option A)
    or ``None`` (a plain block)."""
    in_channels = x.shape[-1]
    changes = strides != 1 or in_channels != filters
    if shortcut == "projection" and changes:
        residual = keras.layers.Conv2D(
            filters, 1, strides=strides, use_bias=conv_bias, name=f"{name}_0_conv"
        )(x)
        residual = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_0_bn")(
            residual
        )
    elif shortcut == "zero_pad" and changes:
        residual = ZeroPadShortcut(filters, strides, name=f"{name}_0_shortcut")(x)
    else:
        residual = x
    y = _conv_bn(x, filters, 3, strides, f"{name}_1", conv_bias, momentum=bn_momentum)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", conv_bias, relu=False, momentum=bn_momentum)
    if shortcut is not None:
        y = keras.layers.Add(name=f"{name}_add")([residual, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def bottleneck_block(x, filters, strides, name, conv_bias=False, variant="v1"):
    """1×1 (``filters``), 3×3 (``filters``), 1×1 (``4·filters``) with a projection shortcut when
    the shape changes; ``variant`` places the stride on the first 1×1 (v1) or the 3×3 (v1.5)."""
    in_channels = x.shape[-1]
    if strides != 1 or in_channels != 4 * filters:
        residual = keras.layers.Conv2D(
            4 * filters, 1, strides=strides, use_bias=conv_bias, name=f"{name}_0_conv"
        )(x)
        residual = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_0_bn")(
            residual
        )
    else:
        residual = x
    first_stride, middle_stride = (strides, 1) if variant == "v1" else (1, strides)
    y = _conv_bn(x, filters, 1, first_stride, f"{name}_1", conv_bias)
    y = _conv_bn(y, filters, 3, middle_stride, f"{name}_2", conv_bias)
    y = _conv_bn(y, 4 * filters, 1, 1, f"{name}_3", conv_bias, relu=False)
    y = keras.layers.Add(name=f"{name}_add")([residual, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def _imagenet_endpoints(depth):
    _, blocks = IMAGENET_DEPTHS[depth]
    stages = tuple(
        f"conv{stage}_block{count}_out" for stage, count in zip(range(2, 6), blocks, strict=True)
    )
    return ("conv1_relu", "pool1_pool") + stages + ("avg_pool", "predictions")


def ResNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    depth=50,
    variant="v1",
    conv_bias=False,
    width=64,
):
    """Build an ImageNet ResNet of ``depth`` 18, 34, 50, 101 or 152 (He et al. 2016, Table 1).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: as in ``keras.applications.ResNet50``. Default input 224×224×3; at least 32×32.
        depth: 18, 34 (basic blocks), 50, 101, 152 (bottlenecks).
        variant: ``"v1"`` (stride on the first 1×1 of a bottleneck; the paper) or ``"v1.5"``
            (stride on the 3×3).
        conv_bias: biases in the convolutions (keras.applications has them; the paper does not).
        width: filters of ``conv1`` and ``conv2_x`` (64 in the paper); later stages double it.
            Small widths give cheap ResNets for experiments.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.ResNet50(conv_bias=True)
        >>> model.count_params()  # keras.applications.ResNet50
        25636712
    """
    if depth not in IMAGENET_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(IMAGENET_DEPTHS)}; got {depth!r}.")
    check_choice("variant", variant, ("v1", "v1.5"))
    if not isinstance(conv_bias, bool):
        raise TypeError(f"conv_bias must be True or False; got {conv_bias!r}.")
    width = check_int("width", width, minimum=1)
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
    _chain.check_min_size("ResNet", input_shape, 32, "It reduces the size 32-fold.")
    name = name or f"resnet{depth}"
    kind, blocks = IMAGENET_DEPTHS[depth]
    inputs, x = common.make_input(input_tensor, input_shape)
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = keras.layers.Conv2D(width, 7, strides=2, use_bias=conv_bias, name="conv1_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name="conv1_bn")(x)
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, count in enumerate(blocks):
        filters = width * 2**stage
        for block in range(count):
            strides = 2 if stage > 0 and block == 0 else 1
            block_name = f"conv{stage + 2}_block{block + 1}"
            if kind == "basic":
                x = basic_block(x, filters, strides, block_name, conv_bias)
            else:
                x = bottleneck_block(x, filters, strides, block_name, conv_bias, variant)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier_output(x, classes, classifier_activation)
    else:
        x = common.global_pool(x, pooling)
    hint = (
        "keras.applications' ResNets have biases in their convolutions, this one has none "
        "(the paper's form): build it with conv_bias=True to load keras.applications weights."
        if not conv_bias
        else "Its convolutions have biases (conv_bias=True): a file saved from the paper's form "
        "needs conv_bias=False."
    )
    return common.finish(inputs, x, name, weights, mismatch_hint=hint)


def CIFARResNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    depth=20,
    shortcuts=True,
    width=16,
):
    """Build He et al.'s CIFAR-10 ResNet (``shortcuts=True``) or plain net of ``depth = 6n + 2``.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: keras.applications' arguments; default input 32×32×3, 10 classes; at least 8×8.
        depth: ``6n + 2`` weight layers (20, 32, 44, 56, 110 in the paper; any ``6n + 2`` works).
        shortcuts: identity shortcuts with zero-padding (option A); ``False`` gives the plain net.
        width: filters of the first stage (16 in the paper; the stages use 1×, 2×, 4×).

    Example:
        >>> import kerasconv
        >>> kerasconv.models.CIFARResNet20().count_params() - 2 * (16 * 7 + 32 * 6 + 64 * 6)
        269722
    """
    depth = check_int("depth", depth, minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (20, 32, 44, 56, 110, ...); got {depth}.")
    if not isinstance(shortcuts, bool):
        raise TypeError(f"shortcuts must be True or False; got {shortcuts!r}.")
    width = check_int("width", width, minimum=1)
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
    _chain.check_min_size("The CIFAR ResNet", input_shape, 8, "It halves the size twice.")
    name = name or f"cifar_{'resnet' if shortcuts else 'plain'}{depth}"
    blocks = (depth - 2) // 6
    inputs, x = common.make_input(input_tensor, input_shape)
    # Batch-norm statistics averaged with momentum 0.9 as in He et al.'s Torch code: on small
    # datasets Keras' 0.99 leaves the moving statistics far from the trained network's.
    x = _conv_bn(x, width, 3, 1, "conv1", conv_bias=False, momentum=0.9)
    for stage in range(3):
        filters = width * 2**stage
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = basic_block(
                x,
                filters,
                strides,
                f"stage{stage + 1}_block{block + 1}",
                conv_bias=False,
                shortcut="zero_pad" if shortcuts else None,
                bn_momentum=0.9,
            )
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier_output(x, classes, classifier_activation)
    else:
        x = common.global_pool(x, pooling)
    return common.finish(inputs, x, name, weights)


# Trainable parameters, paper form (no conv biases), 1,000 classes at 224×224; MACs for v1.
_IMAGENET_COUNTS = {
    18: (11_689_512, 1_814_073_344, "11.7 million (1.8 G FLOPs)"),
    34: (21_797_672, 3_663_761_408, "21.8 million (3.6 G FLOPs)"),
    50: (25_557_032, 3_857_973_248, "25.6 million (3.8 G FLOPs)"),
    101: (44_549_160, 7_570_194_432, "44.5 million (7.6 G FLOPs)"),
    152: (60_192_808, 11_282_415_616, "60.2 million (11.3 G FLOPs)"),
}
_CIFAR_COUNTS = {
    20: (269_722, 40_551_040, "0.27 M"),
    32: (464_154, 68_862_592, "0.46 M"),
    44: (658_586, 97_174_144, "0.66 M"),
    56: (853_018, 125_485_696, "0.85 M"),
    110: (1_727_962, 252_887_680, "1.7 M"),
}


def _cifar_endpoints(depth):
    blocks = (depth - 2) // 6
    stages = tuple(f"stage{stage}_block{blocks}_out" for stage in (1, 2, 3))
    return ("conv1_relu",) + stages + ("avg_pool", "predictions")


def _make_named(base, default_name, default_classes, label, **fixed):
    def builder(
        include_top=True,
        weights=None,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=default_classes,
        classifier_activation="softmax",
        name=default_name,
        **kwargs,
    ):
        arguments = dict(fixed)
        arguments.update(kwargs)
        return base(
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=name,
            **arguments,
        )

    builder.__name__ = builder.__qualname__ = label
    builder.__doc__ = (
        f"{label} (He et al. 2016); keras.applications arguments, see ``{base.__name__}``."
    )
    return builder


for _depth, (_params, _macs, _paper) in _IMAGENET_COUNTS.items():
    register(
        f"resnet{_depth}",
        family="resnet",
        paper=_PAPER,
        input_shape=(224, 224, 3),
        params=_params,
        macs=_macs,
        paper_params=_paper,
        endpoints=_imagenet_endpoints(_depth),
        notes=f"{IMAGENET_DEPTHS[_depth][0]} blocks, v1 stride placement, no conv biases",
        depth=_depth,
    )(ResNet)

for _depth, (_params, _macs, _paper) in _CIFAR_COUNTS.items():
    for _shortcuts, _kind in ((True, "resnet"), (False, "plain")):
        register(
            f"cifar_{_kind}{_depth}",
            family="cifar_resnet",
            paper=_PAPER + (" (Sec. 4.2)" if _shortcuts else " (Sec. 4.2, plain baseline)"),
            input_shape=(32, 32, 3),
            classes=10,
            params=_params,
            macs=_macs,
            paper_params=_paper,
            endpoints=_cifar_endpoints(_depth),
            notes="option-A shortcuts" if _shortcuts else "no shortcuts",
            depth=_depth,
            shortcuts=_shortcuts,
        )(CIFARResNet)

ResNet18 = _make_named(ResNet, "resnet18", 1000, "ResNet18", depth=18)
ResNet34 = _make_named(ResNet, "resnet34", 1000, "ResNet34", depth=34)
ResNet50 = _make_named(ResNet, "resnet50", 1000, "ResNet50", depth=50)
ResNet101 = _make_named(ResNet, "resnet101", 1000, "ResNet101", depth=101)
ResNet152 = _make_named(ResNet, "resnet152", 1000, "ResNet152", depth=152)
CIFARResNet20 = _make_named(CIFARResNet, "cifar_resnet20", 10, "CIFARResNet20", depth=20)
CIFARResNet32 = _make_named(CIFARResNet, "cifar_resnet32", 10, "CIFARResNet32", depth=32)
CIFARResNet44 = _make_named(CIFARResNet, "cifar_resnet44", 10, "CIFARResNet44", depth=44)
CIFARResNet56 = _make_named(CIFARResNet, "cifar_resnet56", 10, "CIFARResNet56", depth=56)
CIFARResNet110 = _make_named(CIFARResNet, "cifar_resnet110", 10, "CIFARResNet110", depth=110)
CIFARPlain20 = _make_named(
    CIFARResNet, "cifar_plain20", 10, "CIFARPlain20", depth=20, shortcuts=False
)
CIFARPlain32 = _make_named(
    CIFARResNet, "cifar_plain32", 10, "CIFARPlain32", depth=32, shortcuts=False
)
CIFARPlain44 = _make_named(
    CIFARResNet, "cifar_plain44", 10, "CIFARPlain44", depth=44, shortcuts=False
)
CIFARPlain56 = _make_named(
    CIFARResNet, "cifar_plain56", 10, "CIFARPlain56", depth=56, shortcuts=False
)
CIFARPlain110 = _make_named(
    CIFARResNet, "cifar_plain110", 10, "CIFARPlain110", depth=110, shortcuts=False
)
