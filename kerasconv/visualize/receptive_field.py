"""Receptive fields computed exactly from the layer stack.

For each tensor of a model we track, per spatial axis, the receptive-field size ``r`` (input
pixels seen by one unit), the jump ``j`` (input pixels between neighbouring units) and the centre
``c`` of unit 0 in input-pixel coordinates (pixel ``i`` has centre ``i``). A window layer with
kernel ``k``, dilation ``d``, stride ``s`` and ``p`` pixels of padding before the first row gives

    k' = d (k - 1) + 1,  r ← r + (k' - 1) j,  c ← c + ((k' - 1) / 2 - p) j,  j ← j s

(Araujo, Norris & Sim 2019, "Computing receptive fields of convolutional neural networks"; the
mapping from a unit to the centre of its field is He et al.'s, SPP-net 2014). Merges (``Add``,
``Concatenate``) take the union of their inputs' fields; ``Flatten``, ``Dense`` and global pooling
see the whole image. Published values: LeNet-5 C5 32, AlexNet conv5 163 and pool5 195 (Girshick
et al. 2014), VGG-16 conv5_3 196 and pool5 212.
"""

from __future__ import annotations

import dataclasses
import math

import keras

from kerasconv.models.features import find_layer
from kerasconv.visualize._common import check_model


@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one layer's units, per axis ``(height, width)``.

    Attributes:
        layer: the layer's name.
        size: input pixels covered by one unit (the whole input for global layers).
        stride: input pixels between neighbouring units (the jump); 0 for global layers.
        start: centre of unit ``(0, 0)`` in input-pixel coordinates (may be fractional or lie
            outside the image when there is padding).
        input_size: the model's input ``(height, width)`` (``None`` where unknown).
    """

    layer: str
    size: tuple
    stride: tuple
    start: tuple
    input_size: tuple

    def center(self, row, column):
        """Centre of unit ``(row, column)`` in input-pixel coordinates."""
        return (
            self.start[0] + row * self.stride[0],
            self.start[1] + column * self.stride[1],
        )

    def box(self, row, column):
        """``(top, left, bottom, right)`` of unit ``(row, column)``'s field, bottom/right exclusive.

        The box may extend beyond the image where the layer stack pads; crop with care.
        """
        centre = self.center(row, column)
        top = int(round(centre[0] - (self.size[0] - 1) / 2))
        left = int(round(centre[1] - (self.size[1] - 1) / 2))
        return top, left, top + self.size[0], left + self.size[1]


@dataclasses.dataclass(frozen=True)
class _State:
    size: tuple
    jump: tuple
    start: tuple
    spatial: bool = True


def _pair(value):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    return value if len(value) == 2 else (value[0], value[0])


def _spatial(tensor):
    shape = tuple(tensor.shape)
    return shape[1:3] if len(shape) == 4 else None


def _padding_before(padding, length, kernel, stride, out_length):
    if padding == "valid":
        return 0
    if padding != "same":
        raise ValueError(f"padding {padding!r} is not supported for receptive fields.")
    if length is None:
        return max(kernel - stride, 0) // 2
    out = math.ceil(length / stride) if out_length is None else out_length
    return max((out - 1) * stride + kernel - length, 0) // 2


def _window(layer):
    """``(kernel, stride, dilation, padding)`` of a sliding-window layer, or ``None``."""
    kernel = getattr(layer, "kernel_size", None)
    pool = getattr(layer, "pool_size", None)
    if kernel is None and pool is None:
        return None
    if isinstance(layer, keras.layers.Conv2DTranspose):
        raise ValueError(
            f"Receptive fields through transposed convolutions ({layer.name!r}) are not supported."
        )
    size = _pair(kernel if kernel is not None else pool)
    strides = getattr(layer, "strides", None)
    stride = _pair(strides) if strides is not None else (size if pool is not None else (1, 1))
    dilation = _pair(getattr(layer, "dilation_rate", 1) or 1)
    padding = getattr(layer, "padding", None)
    return size, stride, dilation, padding


def _apply_window(layer, state, in_tensor, out_tensor):
    size, stride, dilation, padding = _window(layer)
    in_shape, out_shape = _spatial(in_tensor), _spatial(out_tensor)
    if in_shape is None:
        raise ValueError(f"Layer {layer.name!r} receives a non-spatial input.")
    new_size, new_jump, new_start = [], [], []
    for axis in range(2):
        effective = dilation[axis] * (size[axis] - 1) + 1
        length = in_shape[axis]
        out_length = out_shape[axis] if out_shape is not None else None
        mode = padding
        if not isinstance(mode, str):
            # A layer without a padding attribute: infer it from the shapes.
            mode = "same" if length is not None and out_length == length else "valid"
        before = _padding_before(mode.lower(), length, effective, stride[axis], out_length)
        jump = state.jump[axis]
        new_size.append(state.size[axis] + (effective - 1) * jump)
        new_start.append(state.start[axis] + ((effective - 1) / 2 - before) * jump)
        new_jump.append(jump * stride[axis])
    return _State(tuple(new_size), tuple(new_jump), tuple(new_start))


def _global(input_size):
    size = tuple(s if s is not None else 0 for s in input_size)
    return _State(size, (0, 0), tuple((s - 1) / 2 for s in size), spatial=False)


def _union(states, input_size):
    if any(not s.spatial for s in states):
        return _global(input_size)
    if len({s.jump for s in states}) > 1:
        # Different jumps (e.g. a skip from another resolution): take the widest field.
        return max(states, key=lambda s: s.size[0] * s.size[1])
    size, start = [], []
    for axis in range(2):
        low = min(s.start[axis] - (s.size[axis] - 1) / 2 for s in states)
        high = max(s.start[axis] + (s.size[axis] - 1) / 2 for s in states)
        size.append(int(round(high - low + 1)))
        start.append((low + high) / 2)
    return _State(tuple(size), states[0].jump, tuple(start))


_GLOBAL_TYPES = (
    keras.layers.Flatten,
    keras.layers.Dense,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.Reshape,
)


def _layer_state(layer, states, in_tensors, out_tensor, input_size):
    if isinstance(layer, _GLOBAL_TYPES) or _spatial(out_tensor) is None:
        return _global(input_size)
    if any(not s.spatial for s in states):
        return _global(input_size)
    if len(states) > 1:
        return _union(states, input_size)
    state = states[0]
    if isinstance(layer, keras.layers.ZeroPadding2D):
        (top, _), (left, _) = layer.padding
        return _State(
            state.size,
            state.jump,
            (state.start[0] - top * state.jump[0], state.start[1] - left * state.jump[1]),
        )
    if isinstance(layer, keras.layers.Cropping2D):
        (top, _), (left, _) = layer.cropping
        return _State(
            state.size,
            state.jump,
            (state.start[0] + top * state.jump[0], state.start[1] + left * state.jump[1]),
        )
    if _window(layer) is not None:
        return _apply_window(layer, state, in_tensors[0], out_tensor)
    if _spatial(in_tensors[0]) != _spatial(out_tensor):
        raise ValueError(
            f"Cannot compute the receptive field through layer {layer.name!r} "
            f"({type(layer).__name__}): it changes the spatial size and is not a known window "
            "layer."
        )
    return state


def _as_list(tensors):
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    if isinstance(tensors, dict):
        return list(tensors.values())
    return [tensors]


def _propagate(model, input_states, input_size, prefix, record):
    """Propagate states through ``model``'s graph; records ``record[prefixed name] = state``."""
    states = {id(t): s for t, s in zip(model.inputs, input_states, strict=False)}
    pending = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    progress = True
    while pending and progress:
        progress = False
        for layer in list(pending):
            for node in layer._inbound_nodes:
                inputs = _as_list(node.input_tensors)
                if not inputs or not all(id(t) in states for t in inputs):
                    continue
                outputs = _as_list(node.output_tensors)
                given = [states[id(t)] for t in inputs]
                if isinstance(layer, keras.Model):
                    inner_out = _propagate(
                        layer, given, input_size, prefix + layer.name + "/", record
                    )
                    results = inner_out
                else:
                    results = [_layer_state(layer, given, inputs, outputs[0], input_size)] * len(
                        outputs
                    )
                for tensor, state in zip(outputs, results, strict=False):
                    states[id(tensor)] = state
                record.setdefault(prefix + layer.name, results[0])
                pending.remove(layer)
                progress = True
                break
    return [states.get(id(t), _global(input_size)) for t in model.outputs]


def receptive_fields(model):
    """Receptive fields of every layer of ``model`` (nested layers as ``"outer/inner"``)."""
    check_model(model)
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(f"Model {model.name!r} does not take images (input shape {shape}).")
    input_size = shape[1:3]
    record = {}
    _propagate(model, [_State((1, 1), (1, 1), (0.0, 0.0))], input_size, "", record)
    return {
        name: ReceptiveField(name, state.size, state.jump, state.start, input_size)
        for name, state in record.items()
    }


def receptive_field(model, layer):
    """The exact receptive field of ``layer``'s units in ``model``'s input.

    Args:
        model: a functional or Sequential model with an image input (nested models are fine).
        layer: a layer name (``"c5"``, ``"backbone/block5_conv3"``).

    Returns:
        A :class:`ReceptiveField` with ``size``, ``stride`` (jump), ``start`` and ``box(i, j)``.

    Example:
        >>> rf = kerasconv.visualize.receptive_field(kerasconv.models.LeNet5(), "c5")
        >>> rf.size
        (32, 32)
    """
    find_layer(model, layer)
    fields = receptive_fields(model)
    if layer in fields:
        return fields[layer]
    matches = [name for name in fields if name.split("/")[-1] == layer]
    if len(matches) == 1:
        return fields[matches[0]]
    raise ValueError(
        f"Layer {layer!r} of model {model.name!r} is not connected to the model's input."
    )
