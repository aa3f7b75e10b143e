"""Parameters and multiply-adds of any model, per layer and for every registered model.

Multiply-adds (MACs) are counted from the layers' weights and output shapes, with no forward pass:
a layer with a ``kernel`` does ``kernel.size`` multiply-adds at every output position, which is
exact for ``Conv1D/2D/3D`` (grouped too: the kernel holds ``in_channels / groups`` inputs),
``DepthwiseConv2D`` and ``Dense`` (for which the "positions" are all but the last output axis);
``SeparableConv2D`` adds its pointwise kernel the same way. Biases, activations, pooling,
normalisation and additions are not counted, which is the convention of the papers (Krizhevsky et
al.'s, He et al.'s "multiply-adds"/FLOPs tables). Layers with a ``multiply_adds(input_shape)``
method report their own count.

>>> import kerasconv
>>> model = kerasconv.models.create("lenet5")
>>> kerasconv.models.count_macs(model)
416520
"""

from __future__ import annotations

import math

import keras
import numpy as np


def _shape_list(shape):
    return [None if d is None else int(d) for d in shape]


def _output_shapes(layer):
    """Output shapes of every call of ``layer`` (shared layers are called more than once)."""
    shapes = []
    for node in getattr(layer, "_inbound_nodes", []):
        for tensor in node.output_tensors:
            shapes.append(_shape_list(tensor.shape))
    if not shapes:
        output = layer.output
        outputs = output if isinstance(output, (list, tuple)) else [output]
        shapes = [_shape_list(tensor.shape) for tensor in outputs]
    return shapes


def _input_shapes(layer):
    shapes = []
    for node in getattr(layer, "_inbound_nodes", []):
        for tensor in node.input_tensors:
            shapes.append(_shape_list(tensor.shape))
    return shapes


def _positions(shape):
    inner = shape[1:-1]
    if any(d is None for d in inner):
        raise ValueError(
            f"Cannot count multiply-adds for an output of unknown size {shape}; build the model "
            "with a fixed input_shape."
        )
    return math.prod(inner) if inner else 1


def _weight_size(layer, attribute):
    weight = getattr(layer, attribute, None)
    if weight is None or not hasattr(weight, "shape"):
        return 0
    return int(np.prod(weight.shape))


def layer_macs(layer):
    """Multiply-adds of one (non-model) layer for one input sample."""
    if hasattr(layer, "multiply_adds"):
        return sum(int(layer.multiply_adds(shape)) for shape in _input_shapes(layer))
    per_position = 0
    if isinstance(layer, keras.layers.SeparableConv2D):
        per_position = _weight_size(layer, "depthwise_kernel") + _weight_size(
            layer, "pointwise_kernel"
        )
    elif hasattr(layer, "kernel") and not isinstance(layer, keras.layers.Embedding):
        per_position = _weight_size(layer, "kernel")
    if not per_position:
        return 0
    return sum(per_position * _positions(shape) for shape in _output_shapes(layer))


def _walk(model, prefix=""):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer, prefix + layer.name + "/")
        else:
            yield prefix + layer.name, layer


def _trainable_count(layer):
    return int(sum(np.prod(w.shape) for w in layer.trainable_weights))


def count_macs(model):
    """Total multiply-adds of ``model`` for one input sample (no forward pass)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    return int(sum(layer_macs(layer) for _, layer in _walk(model)))


def count_trainable(model):
    """Trainable parameters (what the papers count: no batch-norm moving statistics)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def layer_table(model, include_empty=False):
    """One row per layer: ``name``, ``type``, ``output_shape``, ``params`` (trainable, biases
    included), ``weights`` (kernel entries only, biases excluded), ``macs``.

    Layers with neither parameters nor multiply-adds (activations, dropout, flatten) are left out
    unless ``include_empty``; pooling and normalisation layers are kept so the table reads like the
    papers' tables.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    keep_types = (
        keras.layers.MaxPooling2D,
        keras.layers.AveragePooling2D,
        keras.layers.GlobalAveragePooling2D,
        keras.layers.GlobalMaxPooling2D,
    )
    rows = []
    for name, layer in _walk(model):
        params = _trainable_count(layer)
        macs = layer_macs(layer)
        kernel_entries = sum(
            _weight_size(layer, attribute)
            for attribute in ("kernel", "depthwise_kernel", "pointwise_kernel")
        )
        keep = (
            include_empty
            or params
            or macs
            or isinstance(layer, keep_types)
            or "Normalization" in type(layer).__name__
        )
        if isinstance(layer, keras.layers.InputLayer) or not keep:
            continue
        shapes = _output_shapes(layer)
        rows.append(
            {
                "name": name,
                "type": type(layer).__name__,
                "output_shape": tuple(shapes[0][1:]) if shapes else (),
                "params": params,
                "weights": int(kernel_entries),
                "macs": int(macs),
            }
        )
    return rows


def human(number):
    """``34944`` → ``"34.9K"``, ``105415200`` → ``"105.4M"``, ``15470314496`` → ``"15.47G"``."""
    if number is None:
        return "—"
    number = float(number)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(number) >= scale:
            value = number / scale
            digits = 2 if value < 100 and unit == "G" else 1
            return f"{value:.{digits}f}{unit}"
    return f"{int(number)}"


def format_layer_table(rows, title=None):
    """A markdown table of ``layer_table`` rows."""
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines += [
        "| layer | type | output | params | multiply-adds |",
        "|---|---|---|---:|---:|",
    ]
    for row in rows:
        shape = "×".join(str(d) for d in row["output_shape"])
        lines.append(
            f"| {row['name']} | {row['type']} | {shape} "
            f"| {row['params']:,} ({human(row['params'])}) "
            f"| {row['macs']:,} ({human(row['macs'])}) |"
        )
    total_params = sum(row["params"] for row in rows)
    total_macs = sum(row["macs"] for row in rows)
    lines.append(
        f"| **total** | | | {total_params:,} ({human(total_params)}) "
        f"| {total_macs:,} ({human(total_macs)}) |"
    )
    return "\n".join(lines)


def measure(name, **kwargs):
    """Build registered model ``name`` at its canonical size and return ``(params, macs)``."""
    from kerasconv.models.registry import create

    model = create(name, **kwargs)
    result = count_trainable(model), count_macs(model)
    del model
    keras.backend.clear_session(free_memory=True)
    return result


def summary_table(names=None):
    """Every registered model (or those in ``names``), measured beside the paper's numbers.

    Returns a list of dicts with ``name``, ``family``, ``paper``, ``aliases``, ``params`` and
    ``macs`` (measured on the model built at the entry's canonical input shape and classes),
    ``reference_params`` and ``reference_macs`` (the recorded exact references) and
    ``paper_params`` (what the paper states). Building every model takes a minute or two on a CPU.
    """
    from kerasconv.models.registry import get_info, registered_infos

    if names is None:
        infos = registered_infos()
    else:
        if isinstance(names, str):
            names = [names]
        infos = [get_info(name) for name in names]
    rows = []
    for info in infos:
        params, macs = measure(info.name)
        rows.append(
            {
                "name": info.name,
                "family": info.family,
                "paper": info.paper,
                "aliases": info.aliases,
                "input_shape": info.input_shape,
                "params": params,
                "macs": macs,
                "reference_params": info.params,
                "reference_macs": info.macs,
                "paper_params": info.paper_params,
            }
        )
    return rows


def format_summary_table(rows):
    """A markdown table of ``summary_table`` rows."""
    lines = [
        "| model | aliases | input | params (measured) | reference | paper says "
        "| multiply-adds (measured) | reference |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        shape = "×".join(str(d) for d in row["input_shape"])
        reference = f"{row['reference_params']:,}" if row["reference_params"] else "—"
        lines.append(
            f"| {row['name']} | {', '.join(row['aliases'])} | {shape} | {row['params']:,} "
            f"| {reference} | {row['paper_params'] or '—'} | {human(row['macs'])} "
            f"| {human(row['reference_macs'])} |"
        )
    return "\n".join(lines)
