"""Maxout networks (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013, "Maxout networks").

**maxout_mlp** — the permutation-invariant MNIST network of Sec. 5.1: the image flattened to a
vector (no spatial structure is used), two maxout layers of 240 units × 5 pieces and a softmax;
dropout (20% on the input, 50% on the hidden layers) and max-norm constraints (column norm 1.9365,
as in the paper's pylearn2 configuration). 1,233,610 parameters.

**maxout_cifar** — the CIFAR-10 convolutional network of Sec. 5.3, as in the paper's pylearn2
configuration ``scripts/papers/maxout/cifar10_no_aug.yaml``: three convolutional maxout layers (96,
192 and 192 units × 2 pieces, kernels 8, 8 and 5, zero padding 4, 3 and 3), each followed by max
pooling (4×4/2, 4×4/2, 2×2/2) and dropout, then a fully connected maxout layer of 500 units × 5
pieces and the softmax. pylearn2 pools with cuda-convnet, whose windows cover every pixel (the
output size rounds up, the last window overhangs the border), so the maps are 33 → 16, 15 → 7 and
9 → 5 (``kerasconv.layers.CoveringMaxPooling2D``; Keras's ``MaxPooling2D`` would give 15/6/4) and
the fully connected maxout layer gets 5·5·192 = 4,800 inputs: 16,247,830 parameters. The weight
norms are bounded per layer as in the configuration: 0.9 for the first convolution's filters,
1.9365 for the other two, 1.9 for the fully connected maxout columns and 1.9365 for the softmax.

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
# cifar10_no_aug.yaml: h0 max_kernel_norm .9, h1/h2 1.9365, h3 max_col_norm 1.9, softmax 1.9365.
CIFAR_MAX_NORMS = (0.9, 1.9365, 1.9365, 1.9, 1.9365)


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
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        (28, 28, 1),
        input_tensor,
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


_CIFAR_STAGES = ((96, 8, 4, 4), (192, 8, 3, 4), (192, 5, 3, 2))  # units, kernel, padding, pool


def _conv_final_size(side):
    """Side of the last pooled map (0 if the input is too small for some stage)."""
    for _, kernel, pad, pool in _CIFAR_STAGES:
        side = side + 2 * pad - kernel + 1
        if side < pool:
            return 0
        side = -(-(side - pool) // 2) + 1  # covering pooling, stride 2: rounds up
    return side


def _cifar_norms(max_norm):
    from kerasconv._validation import check_float

    if max_norm is None:
        return (None,) * 5
    if isinstance(max_norm, (list, tuple)):
        if len(max_norm) != 5:
            raise ValueError(
                "max_norm must be None, a number or 5 numbers (three convolutions, the fully "
                f"connected maxout layer, the softmax); got {max_norm!r}."
            )
        return tuple(
            None if v is None else check_float("max_norm", v, minimum=0.0, strict_minimum=True)
            for v in max_norm
        )
    return (check_float("max_norm", max_norm, minimum=0.0, strict_minimum=True),) * 5


# The reference configuration's network counted directly (the paper states no total).
PARAMS_CIFAR = 16_247_830
MACS_CIFAR = 732_290_696


@register(
    "maxout_cifar",
    family="maxout",
    paper=_PAPER,
    input_shape=(32, 32, 3),
    classes=10,
    params=PARAMS_CIFAR,
    macs=MACS_CIFAR,
    paper_params="not stated; pylearn2 cifar10_no_aug.yaml counts 16.25 M (11.61% CIFAR-10 error)",
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
    max_norm=CIFAR_MAX_NORMS,
    form="functional",
):
    """Build the maxout convolutional network for CIFAR-10 (Goodfellow et al. 2013, Sec. 5.3).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name: keras.applications' arguments; default input 32×32×3; at least 10×10.
        dropout, input_dropout: dropout after each pooling / hidden layer and on the input.
        max_norm: maximum norm of each unit's weights: five numbers (the three convolutions'
            filters, the fully connected maxout columns, the softmax columns; default the
            reference configuration's 0.9, 1.9365, 1.9365, 1.9, 1.9365), one number for all,
            or ``None`` for no constraint.
        form: ``"functional"`` or ``"sequential"``.

    Example:
        >>> import kerasconv
        >>> kerasconv.models.MaxoutCIFAR().count_params()
        16247830
    """
    from kerasconv.layers import CoveringMaxPooling2D, Maxout

    dropout = _chain.check_positive_fraction("dropout", dropout)
    input_dropout = _chain.check_positive_fraction("input_dropout", input_dropout)
    norms = _cifar_norms(max_norm)
    input_shape = common.check_standard_args(
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        (32, 32, 3),
        input_tensor,
    )
    for side in input_shape[:-1]:
        if side is not None and _conv_final_size(side) < 1:
            raise ValueError(
                f"maxout_cifar needs inputs of at least 10×10; got input_shape {input_shape}."
            )
    layers = []
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    for index, (units, kernel, pad, pool) in enumerate(_CIFAR_STAGES, start=1):
        norm = norms[index - 1]
        layers += [
            keras.layers.ZeroPadding2D(pad, name=f"maxout{index}_pad"),
            keras.layers.Conv2D(
                units * 2,
                kernel,
                # The norm of each filter (all its input positions and channels) is bounded.
                kernel_constraint=(
                    keras.constraints.MaxNorm(norm, axis=[0, 1, 2]) if norm else None
                ),
                name=f"maxout{index}_linear",
            ),
            Maxout(2, name=f"maxout{index}"),
            CoveringMaxPooling2D(pool, strides=2, name=f"pool{index}"),
        ]
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"pool{index}_dropout"))
    if include_top:
        layers.append(keras.layers.Flatten(name="flatten"))
        layers += _dense_maxout(500, 5, "maxout4", norms[3])
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name="maxout4_dropout"))
        layers.append(_classifier(classes, classifier_activation, norms[4]))
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
