"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition").

Two variants:

* ``"classic"`` — the paper's network: scaled-tanh units, trainable subsampling (S2, S4) and the
  partial C3 connection table. C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164 = 60,000
  trainable parameters, the paper's count (the RBF output layer is replaced by a ``Dense`` classifier,
  which the count excludes).
* ``"modern"`` — ReLU, max pooling, a full C3 and a ``Dense`` output: 61,706 parameters and 416,520
  multiply-adds for 10 classes at 32×32.

Endpoints: ``c1, s2, c3, s4, c5, f6, predictions``. The input is 32×32 as in the paper (LeCun et al.
pad MNIST's 28×28 digits to 32×32): load the digits with ``image_size=32``.
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice
from kerasconv.layers.subsampling import ConnectionTableConv2D, Subsampling2D, lecun_tanh
from kerasconv.models import common
from kerasconv.models.registry import register

ENDPOINTS = ("c1", "s2", "c3", "s4", "c5", "f6", "predictions")

# Trainable parameters of the paper's network without its output layer (LeCun et al. 1998, Sec. II-B).
LENET5_PAPER_PARAMS = 60_000


def _lenet_layers(variant, include_top, classes, classifier_activation, pooling):
    if variant == "classic":
        layers = [
            keras.layers.Conv2D(6, 5, activation=lecun_tanh, name="c1"),
            Subsampling2D(2, activation=lecun_tanh, name="s2"),
            ConnectionTableConv2D(kernel_size=5, activation=lecun_tanh, name="c3"),
            Subsampling2D(2, activation=lecun_tanh, name="s4"),
            keras.layers.Conv2D(120, 5, activation=lecun_tanh, name="c5"),
        ]
        hidden = lecun_tanh
    else:
        layers = [
            keras.layers.Conv2D(6, 5, activation="relu", name="c1"),
            keras.layers.MaxPooling2D(2, name="s2"),
            keras.layers.Conv2D(16, 5, activation="relu", name="c3"),
            keras.layers.MaxPooling2D(2, name="s4"),
            keras.layers.Conv2D(120, 5, activation="relu", name="c5"),
        ]
        hidden = "relu"
    if include_top:
        layers += [
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(84, activation=hidden, name="f6"),
            # float32 even under mixed precision: softmax and the loss need the range.
            keras.layers.Dense(
                classes, activation=classifier_activation, name="predictions", dtype="float32"
            ),
        ]
    elif pooling == "avg":
        layers.append(keras.layers.GlobalAveragePooling2D(name="avg_pool"))
    elif pooling == "max":
        layers.append(keras.layers.GlobalMaxPooling2D(name="max_pool"))
    return layers


@register(
    "lenet5",
    family="lenet",
    paper="LeCun et al. 1998",
    input_shape=(32, 32, 1),
    classes=10,
    params=61_706,
    macs=416_520,
    paper_params="60,000 (classic form, without the output layer)",
    endpoints=ENDPOINTS,
    notes="modern form (ReLU, max pooling, full C3); variant='classic' gives the paper's network",
)
@register(
    "lenet5_classic",
    family="lenet",
    paper="LeCun et al. 1998",
    input_shape=(32, 32, 1),
    classes=10,
    params=LENET5_PAPER_PARAMS + 84 * 10 + 10,
    paper_params="60,000 (without the output layer)",
    endpoints=ENDPOINTS,
    notes="scaled tanh, trainable subsampling, partial C3 connection table",
    variant="classic",
)
def LeNet5(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name="lenet5",
    variant="modern",
    form="functional",
):
    """Build LeNet-5 (LeCun et al. 1998).

    Args:
        include_top: whether to include F6 and the classifier.
        weights: ``None`` or a path to a ``.keras`` / ``.weights.h5`` file.
        input_tensor: optional Keras tensor to use as the input.
        input_shape: ``(height, width, channels)``, default ``(32, 32, 1)``; at least 32×32 with
            the top (C5 is a 5×5 convolution over S4's 5×5 maps).
        pooling: ``None``, ``"avg"`` or ``"max"`` after C5 when ``include_top=False``.
        classes: number of classes.
        classifier_activation: ``"softmax"``, ``None`` for logits, or any activation.
        name: model name.
        variant: ``"modern"`` (ReLU, max pooling, full C3) or ``"classic"`` (the paper's net).
        form: ``"functional"`` or ``"sequential"`` (the same layers as a ``keras.Sequential``).

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5(classes=10)
        >>> model.count_params()
        61706
    """
    check_choice("variant", variant, ("modern", "classic"))
    check_choice("form", form, ("functional", "sequential"))
    input_shape = common.check_builder_args(
        input_tensor=input_tensor,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_shape=(32, 32, 1),
    )
    height, width = input_shape[0], input_shape[1]
    for side in (height, width):
        if side is not None and side < 32:
            raise ValueError(
                f"LeNet-5 needs inputs of at least 32×32 (got {input_shape}); LeCun et al. pad "
                "28×28 digits to 32×32. Load the digits with kerasconv.data.load('digits', "
                "image_size=32)."
            )
    layers = _lenet_layers(variant, include_top, classes, classifier_activation, pooling)
    if form == "sequential":
        if input_tensor is not None:
            raise ValueError("input_tensor is only supported with form='functional'.")
        model = keras.Sequential([keras.Input(shape=input_shape, name="input")] + layers, name=name)
        return common.load_weights(model, weights)
    inputs, x = common.make_input(input_tensor, input_shape)
    for layer in layers:
        x = layer(x)
    return common.finish(inputs, x, name, weights)
