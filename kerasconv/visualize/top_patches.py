"""Top-k image patches for a unit or feature map (Zeiler & Fergus 2014; Girshick et al. 2014).

A dataset is scanned batch-wise; for every image the strongest response of the chosen feature
map (or the response of one unit) is kept, the ``k`` strongest images win, and the input patch
under the winning unit's receptive field (computed exactly by :func:`receptive_field`) is cropped.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_int
from kerasconv.visualize._common import check_model
from kerasconv.visualize.activations import compiled_extractor
from kerasconv.visualize.receptive_field import receptive_field


@dataclasses.dataclass
class TopPatches:
    """The ``k`` strongest responses, strongest first.

    Attributes:
        values: activations ``(k,)``.
        image_indices: index of each image in the scanned dataset ``(k,)``.
        positions: ``(row, column)`` of the winning unit in the feature map ``(k, 2)``.
        boxes: ``(top, left, bottom, right)`` of each receptive field in the image ``(k, 4)``.
        patches: the receptive-field crops ``(k, rh, rw, C)`` (``pad_value`` outside the image).
        images: the full images ``(k, H, W, C)``.
    """

    values: np.ndarray
    image_indices: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    patches: np.ndarray
    images: np.ndarray


def _batches(data, batch_size):
    if isinstance(data, tf.data.Dataset):
        for element in data:
            images = element[0] if isinstance(element, (tuple, list)) else element
            if isinstance(images, dict):
                raise TypeError("dataset elements must be images or (images, labels) tuples.")
            images = tf.cast(images, tf.float32)
            if images.shape.rank == 3:
                images = images[None]
            yield images
        return
    array = np.asarray(data, dtype="float32")
    if array.ndim != 4:
        raise ValueError(f"data must be images (N, H, W, C); got shape {array.shape}.")
    for start in range(0, len(array), batch_size):
        yield tf.convert_to_tensor(array[start : start + batch_size])


def crop(image, box, pad_value=0.0):
    """Crop ``box`` = (top, left, bottom, right) from ``image`` (H, W, C), padding outside it."""
    top, left, bottom, right = (int(v) for v in box)
    height, width = image.shape[:2]
    patch = np.full((bottom - top, right - left, image.shape[2]), pad_value, dtype="float32")
    source_top, source_left = max(top, 0), max(left, 0)
    source_bottom, source_right = min(bottom, height), min(right, width)
    if source_bottom > source_top and source_right > source_left:
        patch[source_top - top : source_bottom - top, source_left - left : source_right - left] = (
            image[source_top:source_bottom, source_left:source_right]
        )
    return patch


def top_patches(model, layer, data, channel=None, unit=None, k=9, batch_size=128, pad_value=0.0):
    """The ``k`` dataset patches that excite a feature map (or one unit) most.

    Args:
        model: a Keras model.
        layer: the layer's name (``"c3"``, ``"backbone/block5_pool"``).
        data: images ``(N, H, W, C)`` or a ``tf.data.Dataset`` of images or ``(images, labels)``.
        channel: the feature map; each image contributes its strongest position in it.
        unit: ``(row, column, channel)`` of one unit instead (a fixed position), or an int index
            for a layer without spatial extent (``"f6"``; the patch is then the whole image).
        k: number of patches.
        batch_size: images per forward pass for array ``data``.
        pad_value: value of receptive-field pixels that fall outside the image.

    Returns:
        :class:`TopPatches`.
    """
    check_model(model)
    check_int("k", k, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    if (channel is None) == (unit is None):
        raise ValueError("pass exactly one of channel= (a feature map) or unit= (one unit).")
    forward = compiled_extractor(model, [layer])
    field = receptive_field(model, layer)
    values, indices, rows, columns, kept = [], [], [], [], []
    seen = 0
    for images in _batches(data, batch_size):
        activation = forward(images)[layer]
        rank = activation.shape.rank
        if rank == 4:
            if channel is not None:
                check_int("channel", channel, minimum=0, maximum=activation.shape[-1] - 1)
                maps = activation[..., channel]
                flat = tf.reshape(maps, [tf.shape(maps)[0], -1])
                best = tf.argmax(flat, axis=1, output_type=tf.int32)
                value = tf.gather(flat, best, axis=1, batch_dims=1)
                row, column = best // tf.shape(maps)[2], best % tf.shape(maps)[2]
            else:
                if not isinstance(unit, (tuple, list)) or len(unit) != 3:
                    raise ValueError("unit must be (row, column, channel) for a spatial layer.")
                row_, column_, channel_ = (int(u) for u in unit)
                if not (
                    0 <= row_ < activation.shape[1]
                    and 0 <= column_ < activation.shape[2]
                    and 0 <= channel_ < activation.shape[3]
                ):
                    raise ValueError(
                        f"unit {tuple(unit)} is outside layer {layer!r}'s output "
                        f"{tuple(activation.shape[1:])}."
                    )
                value = activation[:, row_, column_, channel_]
                row = tf.fill(tf.shape(value), row_)
                column = tf.fill(tf.shape(value), column_)
        elif rank == 2:
            index = channel if channel is not None else unit
            check_int("unit", int(index), minimum=0, maximum=activation.shape[-1] - 1)
            value = activation[:, int(index)]
            row = column = tf.zeros(tf.shape(value), tf.int32)
        else:
            raise ValueError(f"layer {layer!r} has output rank {rank}; expected 2 or 4.")
        count = int(value.shape[0])
        values.append(value.numpy())
        indices.append(np.arange(seen, seen + count))
        rows.append(row.numpy())
        columns.append(column.numpy())
        # Keep only this batch's candidates that could still be in the top k.
        order = np.argsort(-values[-1], kind="stable")[:k]
        kept.extend((seen + int(i), images[int(i)].numpy()) for i in order)
        seen += count
    if seen == 0:
        raise ValueError("data is empty.")
    values = np.concatenate(values)
    indices = np.concatenate(indices)
    what = f"channel {channel}" if channel is not None else f"unit {unit}"
    if float(values.max()) == float(values.min()):
        raise ValueError(
            f"{what} of layer {layer!r} has the same activation ({float(values.max()):g}) on all "
            f"{seen} images: a dead unit, so no patch excites it more than another. Pick a live "
            "channel (e.g. the one with the largest activation over the data)."
        )
    ties = int(np.sum(values > values.min()))
    if ties < k:
        warnings.warn(
            f"only {ties} of {seen} images activate {what} of layer {layer!r} above its minimum "
            f"({float(values.min()):g}); the last {k - ties} of the {k} patches are ties.",
            stacklevel=2,
        )
    rows, columns = np.concatenate(rows), np.concatenate(columns)
    order = np.argsort(-values, kind="stable")[:k]
    store = dict(kept)
    images = np.stack([store[int(indices[i])] for i in order])
    if field.stride == (0, 0):
        boxes = np.array([[0, 0, field.input_size[0], field.input_size[1]]] * len(order))
    else:
        boxes = np.array([field.box(int(rows[i]), int(columns[i])) for i in order])
    pairs = zip(images, boxes, strict=True)
    patches = np.stack([crop(image, box, pad_value) for image, box in pairs])
    return TopPatches(
        values=values[order],
        image_indices=indices[order],
        positions=np.stack([rows[order], columns[order]], axis=1),
        boxes=boxes,
        patches=patches,
        images=images,
    )
