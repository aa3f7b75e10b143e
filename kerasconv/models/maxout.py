"""Maxout networks (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013, "Maxout networks").

**maxout_mlp** — the permutation-invariant MNIST network of Sec. 5.1: the image flattened to a
vector (no spatial structure is used), two maxout layers of 240 units × 5 pieces and a softmax;
dropout (20% on the input, 50% on the hidden layers) and max-norm constraints (column norm 1.9365,
as in the paper's pylearn2 configuration). 1,233,610 parameters.

**maxout_cifar** — the CIFAR-10 convolutional network of Sec. 5.3: three convolutional maxout
layers (96, 192 and 192 units × 2 pieces, kernels 8, 8 and 5, zero padding 4, 3 and 3), each
followed by max pooling (4×4/2, 4×4/2, 2×2/2) and dropout, then a fully connected maxout layer of
500 units × 5 pieces and the softmax. 11,927,830 parameters.

A maxout layer is a linear layer producing ``units × pieces`` values followed by
``kerasconv.layers.Maxout(pieces)``; the linear layer is named ``{name}_linear`` and the maxout
output ``{name}``. Endpoints: ``maxout1``, ``maxout2``, ``predictions`` (MLP); ``maxout1``,
``pool1``, ``maxout2``, ``pool2``, ``maxout3``, ``pool3``, ``maxout4``, ``predictions`` (CIFAR).
"""

from __future__ import annotations

import keras

from kerasconv.models import _chain, common
from kerasconv.models.registry import register

_PAPER = "Goodfellow et al. 2013"
MAX_COLUMN_NORM = 1.9365


def _constraint(max_norm):
    return keras.constraints.MaxNorm(max_norm) if max_norm else None


def _dense_maxout(units, pieces, name, max_norm):
    from kerasconv.layers import Maxout

    return [
        keras.layers.Dense(
            units * pieces, kernel_constraint=_constraint(max_norm), name=f"{name}_linear"
        ),
        Maxout(pieces, name=name),
    ]


def _classifier(classes, classifier_activation, max_norm):
    return keras.layers.Dense(
        classes,
        activation=classifier_activation,
        kernel_constraint=_constraint(max_norm),
        name="predictions",
        dtype="float32",  # even under mixed precision: softmax and the loss need the range
    )


@register(
    "maxout_mlp",
    family="maxout",
    paper=_PAPER,
    input_shape=(28, 28, 1),
    classes=10,
    params=1_233_610,
    macs=1_231_200,
    paper_params="2 × 240 units × 5 pieces (0.94% MNIST error, permutation invariant)",
    endpoints=("maxout1", "maxout2", "predictions"),
    notes="permutation-invariant MNIST MLP",
)
def MaxoutMLP(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name="maxout_mlp",
    units=240,
    pieces=5,
    dropout=0.5,
    input_dropout=0.2,
    max_norm=MAX_COLUMN_NORM,
    form="functional",
):
    """Build the permutation-invariant maxout MLP (Goodfellow et al. 2013, Sec. 5.1).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: keras.applications' arguments; the default input is a 28×28×1 image, flattened.
            Without the top the output is ``maxout2`` (``pooling`` does not apply).
        units, pieces: maxout units per layer and linear pieces per unit (240 and 5).
        dropout, input_dropout: dropout on the hidden layers and the input (0.5 and 0.2).
        max_norm: maximum column norm of every weight matrix (``None`` for no constraint).
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.MaxoutMLP().count_params()
        1233610
    """
    from kerasconv._validation import check_int

    units = check_int("units", units, minimum=1)
    pieces = check_int("pieces", pieces, minimum=1)
    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_dropout = _chain.check_positive_fraction("input_dropout", input_dropout)
    input_shape = common.check_standard_args(
        include_top, weights, input_shape, pooling, classes, classifier_activation, (28, 28, 1)
    )
    layers = [keras.layers.Flatten(name="flatten")]
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    for index in (1, 2):
        layers += _dense_maxout(units, pieces, f"maxout{index}", max_norm)
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"maxout{index}_dropout"))
    if include_top:
        layers.append(_classifier(classes, classifier_activation, max_norm))
    return _chain.build_chain(
        layers,
        form=form,
        input_tensor=input_tensor,
        input_shape=input_shape,
        name=name,
        weights=weights,
    )


def _conv_final_size(side):
    side = side + 8 - 8 + 1  # pad 4, 8×8 convolution
    side = (side - 4) // 2 + 1  # 4×4/2 pooling
    side = side + 6 - 8 + 1
    side = (side - 4) // 2 + 1
    side = side + 6 - 5 + 1
    return (side - 2) // 2 + 1 if side >= 2 else 0


@register(
    "maxout_cifar",
    family="maxout",
    paper=_PAPER,
    input_shape=(32, 32, 3),
    classes=10,
    params=11_927_830,
    macs=628_216_712,
    paper_params="not stated (11.61% CIFAR-10 error without augmentation)",
    endpoints=(
        "maxout1",
        "pool1",
        "maxout2",
        "pool2",
        "maxout3",
        "pool3",
        "maxout4",
        "predictions",
    ),
    notes="three convolutional maxout layers and one fully connected",
)
def MaxoutCIFAR(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name="maxout_cifar",
    dropout=0.5,
    input_dropout=0.2,
    max_norm=MAX_COLUMN_NORM,
    form="functional",
):
    """Build the maxout convolutional network for CIFAR-10 (Goodfellow et al. 2013, Sec. 5.3).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: keras.applications' arguments; default input 32×32×3; at least 21×21.
        dropout, input_dropout: dropout after each pooling / hidden layer and on the input.
        max_norm: maximum norm of each unit's weights (``None`` for no constraint).
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.MaxoutCIFAR().count_params()
        11927830
    """
    from kerasconv.layers import Maxout

    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_dropout = _chain.check_positive_fraction("input_dropout", input_dropout)
    input_shape = common.check_standard_args(
        include_top, weights, input_shape, pooling, classes, classifier_activation, (32, 32, 3)
    )
    for side in input_shape[:-1]:
        if side is not None and _conv_final_size(side) < 1:
            raise ValueError(
                f"maxout_cifar needs inputs of at least 21×21; got input_shape {input_shape}."
            )
    layers = []
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    stages = ((96, 8, 4, 4), (192, 8, 3, 4), (192, 5, 3, 2))
    for index, (units, kernel, pad, pool) in enumerate(stages, start=1):
        layers += [
            keras.layers.ZeroPadding2D(pad, name=f"maxout{index}_pad"),
            keras.layers.Conv2D(
                units * 2,
                kernel,
                # The norm of each filter (all its input positions and channels) is bounded.
                kernel_constraint=(
                    keras.constraints.MaxNorm(max_norm, axis=[0, 1, 2]) if max_norm else None
                ),
                name=f"maxout{index}_linear",
            ),
            Maxout(2, name=f"maxout{index}"),
            keras.layers.MaxPooling2D(pool, strides=2, name=f"pool{index}"),
        ]
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"pool{index}_dropout"))
    if include_top:
        layers.append(keras.layers.Flatten(name="flatten"))
        layers += _dense_maxout(500, 5, "maxout4", max_norm)
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name="maxout4_dropout"))
        layers.append(_classifier(classes, classifier_activation, max_norm))
    else:
        layers += _chain.head_layers(False, pooling, classes, classifier_activation)
    return _chain.build_chain(
        layers,
        form=form,
        input_tensor=input_tensor,
        input_shape=input_shape,
        name=name,
        weights=weights,
    )
