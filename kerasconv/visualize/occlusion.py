"""Occlusion sensitivity (Zeiler & Fergus 2014, "Visualizing and understanding convolutional
networks", Sec. 4.2): slide a grey square over the image and record the target-class probability.

All occluded copies are made and classified inside one compiled ``tf.function`` that loops over
chunks of patch positions with ``tf.range``, batch-wise; a second call does not retrace.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import check_float, check_int, resolve_jit_compile
from kerasconv.gradients import GradientEngine, class_score
from kerasconv.visualize._common import prepare_images, resolve_target


def patch_positions(length, patch_size, stride):
    """Top (or left) edges of the patches along one axis; the last patch touches the border."""
    starts = list(range(0, max(length - patch_size, 0) + 1, stride))
    if starts[-1] + patch_size < length:
        starts.append(length - patch_size)
    return np.asarray(starts)


def occlusion_masks(height, width, patch_size, stride):
    """``(positions, H, W)`` float masks, 1 under each patch, positions row-major."""
    tops = patch_positions(height, patch_size, stride)
    lefts = patch_positions(width, patch_size, stride)
    rows = (np.arange(height)[None] >= tops[:, None]) & (
        np.arange(height)[None] < tops[:, None] + patch_size
    )
    columns = (np.arange(width)[None] >= lefts[:, None]) & (
        np.arange(width)[None] < lefts[:, None] + patch_size
    )
    masks = rows[:, None, :, None] & columns[None, :, None, :]
    return masks.reshape(-1, height, width).astype("float32"), (len(tops), len(lefts))


def _compiled(model, output, use_probabilities, score_fn):
    key = (output, use_probabilities, score_fn)
    cache = model_cache(model, "occlusion")
    if key in cache:
        return cache[key]
    head = GradientEngine.for_model(model, output=output)._head
    score = score_fn or class_score

    def scores_of(images, target):
        outputs = head(images)
        if use_probabilities:
            outputs = tf.nn.softmax(outputs, axis=-1)
        return tf.cast(score(outputs, target), tf.float32)

    def occlude(x, target, masks, value, chunk):
        batch = tf.shape(x)[0]
        count = tf.shape(masks)[0]
        chunks = (count + chunk - 1) // chunk
        image_shape = tf.shape(x)[1:]
        results = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
        for index in tf.range(chunks):
            window = masks[index * chunk : (index + 1) * chunk][None, ..., None]
            occluded = x[:, None] * (1.0 - window) + value * window
            size = tf.shape(window)[1]
            flat = tf.reshape(occluded, tf.concat([[batch * size], image_shape], axis=0))
            repeated = tf.repeat(target, size, axis=0)
            values = tf.reshape(scores_of(flat, repeated), [batch, size])
            results = results.write(index, tf.transpose(values))
        return tf.transpose(results.concat()), scores_of(x, target)

    shape = tuple(model.inputs[0].shape[1:])
    signature = None
    if score_fn is None and all(side is not None for side in shape):
        signature = [
            tf.TensorSpec((None,) + shape, tf.float32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,) + shape[:2], tf.float32),
            tf.TensorSpec((), tf.float32),
            tf.TensorSpec((), tf.int32),
        ]
    cache[key] = tf.function(
        occlude,
        jit_compile=resolve_jit_compile("auto"),
        input_signature=signature,
        reduce_retracing=signature is None,
    )
    return cache[key]


def occlusion_sensitivity(
    model,
    x,
    target=None,
    *,
    patch_size=4,
    stride=2,
    patch_value=0.5,
    output=None,
    use_probabilities=True,
    batch_size=512,
    return_grid=False,
):
    """The target-class probability as a grey square occludes each part of the image.

    Args:
        patch_size: side of the square, in pixels.
        stride: step between patch positions (the last patch touches the border).
        patch_value: the grey level of the square (0.5 for images in [0, 1]).
        use_probabilities: score the softmax probability (default, as in the paper); ``False``
            scores the logit.
        batch_size: occluded images per forward pass.
        return_grid: return the value per patch position ``(batch, rows, columns)`` instead of
            the per-pixel map.

    Returns:
        ``(batch, H, W)``: at each pixel, the mean target probability over the patches that cover
        it (low where occluding the pixel hurts the prediction). With ``return_grid``, also
        ``(map, grid, unoccluded)`` where ``unoccluded`` is the probability without occlusion.
    """
    check_int("patch_size", patch_size, minimum=1)
    check_int("stride", stride, minimum=1)
    check_float("patch_value", patch_value)
    check_int("batch_size", batch_size, minimum=1)
    x = prepare_images(model, x)
    height, width = int(x.shape[1]), int(x.shape[2])
    if patch_size > min(height, width):
        raise ValueError(f"patch_size {patch_size} is larger than the image ({height}×{width}).")
    score_fn, target = resolve_target(model, x, target, output)
    if target is None:
        target = tf.zeros((int(x.shape[0]),), tf.int32)
    masks, grid_shape = occlusion_masks(height, width, patch_size, stride)
    chunk = max(1, batch_size // int(x.shape[0]))
    function = _compiled(model, output, use_probabilities, score_fn)
    values, unoccluded = function(
        x,
        target,
        tf.constant(masks),
        tf.constant(float(patch_value), tf.float32),
        tf.constant(chunk, tf.int32),
    )
    values = values.numpy()
    coverage = masks.reshape(len(masks), -1)
    counts = coverage.sum(axis=0)
    summed = values @ coverage
    unoccluded = unoccluded.numpy()
    pixel_map = np.where(counts > 0, summed / np.maximum(counts, 1), unoccluded[:, None])
    pixel_map = pixel_map.reshape(-1, height, width).astype("float32")
    if return_grid:
        return pixel_map, values.reshape((-1,) + grid_shape), unoccluded
    return pixel_map
