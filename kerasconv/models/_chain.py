"""Helpers for builders whose architecture is a chain of layers.

A chain is written once as a list of layers; ``build_chain`` turns it into a ``keras.Sequential``
(``form="sequential"``) or a functional ``keras.Model`` (``form="functional"``) with the same layer
names, so both forms have the same endpoints and the same weights order.
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice
from kerasconv.models import common


def head_layers(
    include_top,
    pooling,
    classes,
    classifier_activation,
    hidden=(),
    dropout=0.0,
    flatten=True,
):
    """The classifier head (``include_top=True``) or keras.applications' optional global pooling.

    ``hidden`` is a sequence of ``(units, name)`` fully connected ReLU layers, each followed by a
    dropout layer ``f"{name}_dropout"`` when ``dropout > 0``. With ``flatten=False`` the feature
    maps are averaged globally (``avg_pool``) instead of flattened.
    """
    if not include_top:
        if pooling == "avg":
            return [keras.layers.GlobalAveragePooling2D(name="avg_pool")]
        if pooling == "max":
            return [keras.layers.GlobalMaxPooling2D(name="max_pool")]
        return []
    layers = [
        keras.layers.Flatten(name="flatten")
        if flatten
        else keras.layers.GlobalAveragePooling2D(name="avg_pool")
    ]
    for units, layer_name in hidden:
        layers.append(keras.layers.Dense(units, activation="relu", name=layer_name))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"{layer_name}_dropout"))
    # float32 even under mixed precision: softmax and the loss need the range.
    layers.append(
        keras.layers.Dense(
            classes, activation=classifier_activation, name="predictions", dtype="float32"
        )
    )
    return layers


def build_chain(layers, *, form, input_tensor, input_shape, name, weights):
    """Assemble ``layers`` as a Sequential or functional model and load ``weights``."""
    check_choice("form", form, ("functional", "sequential"))
    if form == "sequential":
        if input_tensor is not None:
            raise ValueError("input_tensor is only supported with form='functional'.")
        model = keras.Sequential(
            [keras.Input(shape=input_shape, name="input")] + list(layers), name=name
        )
        return common.load_weights(model, weights)
    inputs, x = common.make_input(input_tensor, input_shape)
    for layer in layers:
        x = layer(x)
    return common.finish(inputs, x, name, weights)


def check_min_size(model_label, input_shape, min_size, hint=""):
    """Raise a clear ``ValueError`` when the spatial size is below what the stack can take."""
    for side in input_shape[:-1]:
        if side is not None and side < min_size:
            raise ValueError(
                f"{model_label} needs inputs of at least {min_size}×{min_size}; got input_shape "
                f"{tuple(input_shape)}.{(' ' + hint) if hint else ''}"
            )


def check_positive_fraction(name, value):
    """Dropout rates: a number in [0, 1)."""
    from kerasconv._validation import check_float

    value = check_float(name, value, minimum=0.0)
    if value >= 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value}.")
    return value
