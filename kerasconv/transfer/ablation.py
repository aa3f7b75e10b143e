"""Depth ablation (seed 000, "How important is depth"; Zeiler & Fergus 2014, Sec. 5.1).

Zeiler and Fergus removed layers from their ImageNet network, retrained, and reported the
parameters dropped and the change in error: removing the top fully connected layer dropped 16 M
parameters for a 1.1% loss; both fully connected layers, ~50 M for 5.7%; the middle convolutional
layers 3 and 4, ~1 M for 3.0%; both groups, leaving 4 layers, 33.5%. "Depth of the network is key."

``ablated_model(model, remove)`` rebuilds a chain model without the chosen layers (fresh,
untrained layers of the same configuration; shapes downstream adapt), ``ablation_presets(model)``
names the seed's four removals for any chain model, and ``ablate(...)`` retrains every variant
with the same recipe and returns the seed's table.

A convolution whose output is 1×1 (LeNet-5's C5, which LeCun et al. call a convolution only
because a larger input would make it one) counts as a fully connected layer.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from kerasconv._validation import check_int

_COMPANION_SUFFIXES = ("dropout", "bn", "relu", "act", "activation", "lrn", "norm", "pad")


def chain_layers(model):
    """The layers of a chain model in order (without the input layer), or a ``ValueError``."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        chain_ok = True
    else:
        chain_ok = len(model.inputs) == 1 and len(model.outputs) == 1
        previous = model.inputs[0] if chain_ok else None
        for layer in layers:
            if not chain_ok:
                break
            if isinstance(layer, keras.Model) or len(layer._inbound_nodes) != 1:
                chain_ok = False
                break
            chain_ok = layer.input is previous
            previous = layer.output
        chain_ok = chain_ok and previous is model.outputs[0]
    if not chain_ok or any(isinstance(layer, keras.Model) for layer in layers):
        raise ValueError(
            f"Model {model.name!r} is not a chain of layers (branches, skips or nested models): "
            "ablation rebuilds chains only (LeNet, AlexNet, ZF-Net, VGG ...)."
        )
    return layers


def _has_weights(layer):
    return bool(layer.weights)


def _output_spatial(layer):
    shape = layer.output.shape
    return tuple(shape[1:-1]) if len(shape) == 4 else None


def _is_classifier(layer, chain):
    return layer.name == "predictions" or layer is [lay for lay in chain if _has_weights(lay)][-1]


def fully_connected_layers(model):
    """Hidden fully connected layers in order: ``Dense`` layers other than the classifier, and
    convolutions with a 1×1 output (LeNet-5's C5)."""
    chain = chain_layers(model)
    found = []
    for layer in chain:
        if not _has_weights(layer) or _is_classifier(layer, chain):
            continue
        is_convolution = hasattr(layer, "kernel_size")
        if isinstance(layer, keras.layers.Dense) or (
            is_convolution and _output_spatial(layer) == (1, 1)
        ):
            found.append(layer.name)
    return found


def convolution_layers(model):
    """Convolutional layers with a spatial output larger than 1×1, in order."""
    chain = chain_layers(model)
    fully = set(fully_connected_layers(model))
    return [
        layer.name
        for layer in chain
        if hasattr(layer, "kernel_size") and _has_weights(layer) and layer.name not in fully
    ]


def ablation_presets(model):
    """The seed's four removals for ``model``: ``{label: [layer names]}``.

    * top fully connected layer: the last hidden fully connected layer;
    * both fully connected layers: the last two;
    * middle convolutional layers: with four or more convolutions all but the first two and the
      last (AlexNet / ZF-Net: layers 3 and 4), with two or three convolutions the second;
    * both groups together.

    Presets that do not apply (a model without hidden fully connected layers) are left out.
    """
    fully = fully_connected_layers(model)
    convs = convolution_layers(model)
    presets = {}
    if fully:
        presets["top fully connected layer"] = fully[-1:]
    if len(fully) >= 2:
        presets["both fully connected layers"] = fully[-2:]
    middle = convs[2:-1] if len(convs) >= 4 else convs[1:2]
    if middle:
        presets["middle convolutional layers"] = middle
    if middle and fully:
        presets["middle convolutional and fully connected layers"] = middle + fully[-2:]
    return presets


def _with_companions(chain, remove):
    names = {layer.name for layer in chain}
    removed = set()
    for name in remove:
        if name not in names:
            raise ValueError(
                f"cannot remove {name!r}: not a layer of the chain ({', '.join(sorted(names))})."
            )
        removed.add(name)
        removed.update(f"{name}_{suffix}" for suffix in _COMPANION_SUFFIXES)
    return removed & names


def ablated_model(model, remove, name=None):
    """A fresh (untrained) copy of chain ``model`` without the layers in ``remove``.

    Layers named ``<removed>_dropout`` / ``_bn`` / ``_relu`` / ``_act`` / ``_lrn`` / ``_pad``
    go with their layer. Every kept layer is rebuilt from its config, so shapes downstream of a
    removed layer adapt (a wider ``Dense`` after a removed convolution).

    Example:
        >>> model = kerasconv.models.LeNet5(classes=10)
        >>> kerasconv.transfer.ablated_model(model, ["f6"]).count_params()
        51902
    """
    if isinstance(remove, str):
        remove = [remove]
    chain = chain_layers(model)
    removed = _with_companions(chain, list(remove))
    if any(_is_classifier(layer, chain) and layer.name in removed for layer in chain):
        raise ValueError("cannot remove the classifier; remove hidden layers only.")
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]), name="input")
    x = inputs
    for layer in chain:
        if layer.name in removed:
            continue
        x = layer.__class__.from_config(layer.get_config())(x)
    return keras.Model(inputs, x, name=name or f"{model.name}_ablated")


def weight_layer_count(model):
    """Layers with weights (convolutions and fully connected layers): the model's depth."""
    return sum(1 for layer in model.layers if layer.weights)


@dataclasses.dataclass
class AblationRow:
    label: str
    removed: list
    parameters: int
    depth: int
    accuracies: list

    @property
    def accuracy(self):
        return float(np.mean(self.accuracies))


@dataclasses.dataclass
class AblationTable:
    """The seed's table: one row per variant, the first being the full model."""

    rows: list

    @property
    def baseline(self):
        return self.rows[0]

    def parameters_dropped(self, row):
        return self.baseline.parameters - row.parameters

    def accuracy_change(self, row):
        """Change in test accuracy against the full model, in percentage points."""
        return 100.0 * (row.accuracy - self.baseline.accuracy)

    def to_markdown(self):
        lines = [
            "| variant | removed layers | weight layers | parameters | parameters dropped "
            "| test accuracy (%) | change (points) |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            removed = ", ".join(row.removed) if row.removed else "—"
            spread = f" ± {100 * np.std(row.accuracies):.1f}" if len(row.accuracies) > 1 else ""
            change = "—" if row is self.baseline else f"{self.accuracy_change(row):+.1f}"
            dropped = "—" if row is self.baseline else f"{self.parameters_dropped(row):,}"
            lines.append(
                f"| {row.label} | {removed} | {row.depth} | {row.parameters:,} | {dropped} | "
                f"{100 * row.accuracy:.1f}{spread} | {change} |"
            )
        return "\n".join(lines)

    def to_dict(self):
        return [
            {
                "label": row.label,
                "removed": row.removed,
                "parameters": row.parameters,
                "parameters_dropped": self.parameters_dropped(row),
                "depth": row.depth,
                "accuracy": row.accuracy,
                "accuracies": row.accuracies,
                "accuracy_change_points": self.accuracy_change(row),
            }
            for row in self.rows
        ]


def ablate(
    model,
    train_data,
    test_data,
    remove=None,
    epochs=10,
    batch_size=32,
    learning_rate=0.05,
    seeds=(0,),
    verbose=0,
    **train_options,
):
    """Retrain ``model``'s architecture with and without chosen layers: the seed's ablation table.

    Args:
        model: a chain model (only its architecture is used; its weights are not touched), or a
            callable returning one (a builder such as ``kerasconv.models.LeNet5``).
        train_data, test_data: ``(x, y)`` arrays or ``tf.data`` of ``(images, labels)``.
        remove: ``{label: [layer names]}``, a list of layer-name lists, or ``None`` for
            ``ablation_presets(model)``.
        epochs, batch_size, learning_rate, train_options: the recipe
            (``kerasconv.training.train``), the same for every variant.
        seeds: one training run per seed; the table reports the mean (and spread).

    Returns:
        an ``AblationTable`` (``to_markdown()``, ``to_dict()``).
    """
    from kerasconv.training import evaluate, train

    if callable(model) and not isinstance(model, keras.Model):
        model = model()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model or a builder; got {type(model).__name__}.")
    epochs = check_int("epochs", epochs, minimum=1)
    if remove is None:
        remove = ablation_presets(model)
        if not remove:
            raise ValueError(f"no ablation applies to {model.name!r}; pass remove=.")
    elif isinstance(remove, (list, tuple)):
        remove = {
            ", ".join(group) if not isinstance(group, str) else group: group for group in remove
        }
    if not isinstance(remove, dict):
        raise TypeError("remove must be a dict {label: [layers]}, a list of layer lists or None.")
    seeds = [check_int("seed", s) for s in seeds]
    variants = [("full model", [])] + [
        (label, [layers] if isinstance(layers, str) else list(layers))
        for label, layers in remove.items()
    ]
    rows = []
    for label, layers in variants:
        accuracies, parameters, depth = [], None, None
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            variant = ablated_model(model, layers)
            parameters = variant.count_params()
            depth = weight_layer_count(variant)
            train(
                variant,
                train_data,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                seed=seed,
                verbose=verbose,
                **train_options,
            )
            accuracies.append(evaluate(variant, test_data)["accuracy"])
        rows.append(AblationRow(label, layers, parameters, depth, accuracies))
    return AblationTable(rows)
