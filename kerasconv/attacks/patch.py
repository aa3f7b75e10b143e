"""Adversarial patch (Brown, Mané, Roy, Abadi & Gilmer 2017).

A universal, image-independent patch that, pasted anywhere on an image, makes the classifier
predict a chosen target class. It is trained by "expectation over transformation": each step
pastes the patch onto a random batch at random locations, scales and rotations and lowers the
target's cross-entropy; the steps run in one ``tf.function`` over ``tf.range``.
``apply_patch`` pastes a trained patch onto new images.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_float, check_int, resolve_jit_compile
from kerasconv.attacks import _common as C


@dataclasses.dataclass(frozen=True)
class PatchResult:
    """``patch`` ``(h, w, C)``, the ``target`` class and the ``success_rate``: the share of the
    training images the model does not already assign to the target that it classifies as the
    target with the patch at random placements.
    ``patch, success_rate = result``."""

    patch: np.ndarray
    success_rate: float
    target: int
    scale_range: tuple
    max_rotation: float
    max_shift: float

    def __iter__(self):
        yield self.patch
        yield self.success_rate


def _transforms(scale, angle, shift_y, shift_x, height, width):
    """Projective transforms (output → input coordinates) rotating by ``angle`` and scaling by
    ``scale`` about the image centre, then shifting by ``(shift_y, shift_x)`` pixels."""
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    ox, oy = cx + shift_x, cy + shift_y
    a2 = cx - (cos * ox + sin * oy)
    b2 = cy - (-sin * ox + cos * oy)
    zeros = tf.zeros_like(cos)
    return tf.stack([cos, sin, a2, -sin, cos, b2, zeros, zeros], axis=1)


def _composite(x, patch, scale, angle, shift_y, shift_x):
    """Paste ``patch`` on each image of ``x`` with the given per-image transforms."""
    height, width = x.shape[1], x.shape[2]
    ph, pw = patch.shape[0], patch.shape[1]
    top, left = (height - ph) // 2, (width - pw) // 2
    paddings = [[top, height - ph - top], [left, width - pw - left], [0, 0]]
    canvas = tf.pad(patch, paddings)
    mask = tf.pad(tf.ones_like(patch[..., :1]), paddings)
    batch = tf.shape(x)[0]
    stacked = tf.tile(tf.concat([canvas, mask], -1)[None], [batch, 1, 1, 1])
    transforms = _transforms(scale, angle, shift_y, shift_x, height, width)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=stacked,
        transforms=transforms,
        output_shape=tf.constant([height, width]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    canvas, mask = moved[..., :-1], moved[..., -1:]
    return x * (1.0 - mask) + canvas * mask


def _random_placement(batch, seed, scale_range, max_rotation, patch_shape, image_shape, max_shift):
    """Random scales, angles and shifts (up to ``max_shift`` of the room left by the patch)."""
    u = tf.random.stateless_uniform([4, batch], seed)
    scale = scale_range[0] + u[0] * (scale_range[1] - scale_range[0])
    angle = (2.0 * u[1] - 1.0) * max_rotation
    room_y = tf.maximum(0.0, (image_shape[0] - scale * patch_shape[0]) / 2.0)
    room_x = tf.maximum(0.0, (image_shape[1] - scale * patch_shape[1]) / 2.0)
    shift_y = (2.0 * u[2] - 1.0) * room_y * max_shift
    shift_x = (2.0 * u[3] - 1.0) * room_x * max_shift
    return scale, angle, shift_y, shift_x


def _build(models, image_shape, patch_shape, scale_range, max_rotation, max_shift, jit_compile):
    build_forward = C.forward_builder(models)

    def run(x, patch, target, steps, batch_size, step_size, clip_min, clip_max, seed):
        forward = build_forward()
        count = tf.shape(x)[0]
        labels = tf.fill([batch_size], target)
        velocity = tf.zeros_like(patch)

        def descend(patch, velocity, step):
            step_seed = seed + tf.stack([0, 2 * step])
            index = tf.random.stateless_uniform([batch_size], step_seed, 0, count, dtype=tf.int32)
            placement = _random_placement(
                batch_size,
                step_seed + tf.constant([0, 1]),
                scale_range,
                max_rotation,
                patch_shape,
                image_shape,
                max_shift,
            )
            with tf.GradientTape() as tape:
                tape.watch(patch)
                patched = _composite(tf.gather(x, index), patch, *placement)
                loss = tf.reduce_mean(C.cross_entropy(forward(patched), labels))
            gradient = tape.gradient(loss, patch)
            # Momentum on normalised gradients smooths the noise of random placements.
            velocity = 0.9 * velocity + gradient / tf.maximum(
                tf.reduce_mean(tf.abs(gradient)), C.TINY
            )
            patch = tf.clip_by_value(patch - step_size * tf.sign(velocity), clip_min, clip_max)
            return patch, velocity

        descend = C.loop_step(descend, jit_compile)
        for step in tf.range(steps):
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)  # serial steps
            patch, velocity = descend(patch, velocity, step)
        return patch

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec(patch_shape, tf.float32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((2,), tf.int32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def _check_placement(scale_range, max_rotation, max_shift):
    max_shift = check_float("max_shift", max_shift, 0.0, 1.0)
    if len(scale_range) != 2:
        raise ValueError(f"scale_range must be (low, high); got {scale_range!r}.")
    low = check_float("scale_range[0]", scale_range[0], 0.0, strict_minimum=True)
    high = check_float("scale_range[1]", scale_range[1], low)
    rotation = check_float("max_rotation", max_rotation, 0.0, 180.0)
    return (low, high), math.radians(rotation), max_shift


def adversarial_patch(
    model,
    x,
    target,
    patch_size=0.3,
    scale_range=(0.8, 1.2),
    max_rotation=20.0,
    max_shift=1.0,
    steps=300,
    batch_size=32,
    step_size=0.02,
    clip_min=0.0,
    clip_max=1.0,
    seed=0,
    jit_compile="auto",
):
    """Train a universal patch that makes ``model`` predict ``target`` (Brown et al. 2017).

    Args:
        model: classifier (softmax removed automatically) or a list of models.
        x: training images ``(N, H, W, C)``; never modified.
        target: the class the patch should force.
        patch_size: side of the (square) patch as a fraction of the image side, or ``(h, w)``
            in pixels.
        scale_range: random scaling of the patch during training.
        max_rotation: random rotation in degrees, uniform in ``[-max_rotation, max_rotation]``.
        max_shift: random shifts use this fraction of the room the patch leaves (1: anywhere
            inside the image, as Brown et al.; 0: always centred). On centred datasets such as the
            digits, a patch at the border covers nothing that matters: use a smaller share.
        steps, batch_size, step_size: signed-gradient steps on the patch pixels.
        clip_min, clip_max: pixel range of the patch.
        seed: random seed (initial patch, batches, placements).

    Returns:
        ``PatchResult``.
    """
    models = C.as_model_list(model)
    x = C.check_images(x)
    height, width, channels = (int(d) for d in x.shape[1:])
    if isinstance(patch_size, (tuple, list)):
        ph = check_int("patch_size[0]", patch_size[0], 1, height)
        pw = check_int("patch_size[1]", patch_size[1], 1, width)
    else:
        fraction = check_float("patch_size", patch_size, 0.0, 1.0, strict_minimum=True)
        ph = pw = max(1, int(round(fraction * min(height, width))))
    scale_range, rotation, max_shift = _check_placement(scale_range, max_rotation, max_shift)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    step_size = check_float("step_size", step_size, 0.0, strict_minimum=True)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    if not (np.isfinite(clip_min) and np.isfinite(clip_max)):
        raise ValueError("adversarial_patch needs finite clip_min and clip_max.")
    logits = C.clean_logits(models, x[:8])
    target = check_int("target", target, 0, logits.shape[1] - 1)
    resolve_jit_compile(jit_compile)  # validated, but: XLA has no ImageProjectiveTransform
    jit = False  # kernel, so the patch loop always runs as a plain compiled graph.
    image_shape = (height, width, channels)
    patch_shape = (ph, pw, channels)
    function = C.cached(
        models,
        ("patch", image_shape, patch_shape, scale_range, rotation, max_shift, jit),
        lambda: _build(models, image_shape, patch_shape, scale_range, rotation, max_shift, jit),
    )
    rng = np.random.default_rng(seed)
    initial = rng.uniform(clip_min, clip_max, size=patch_shape).astype("float32")
    patch = function(
        x,
        tf.constant(initial),
        tf.constant(target),
        tf.constant(steps),
        tf.constant(batch_size),
        tf.constant(step_size, tf.float32),
        clip_min,
        clip_max,
        C.draw_seed(seed),
    ).numpy()
    patched = apply_patch(
        x,
        patch,
        scale_range=scale_range,
        max_rotation=math.degrees(rotation),
        max_shift=max_shift,
        seed=seed + 1,
    )
    rate = patch_success_rate(models, patched, target, x=x)
    return PatchResult(
        patch=patch,
        success_rate=rate,
        target=target,
        scale_range=scale_range,
        max_rotation=math.degrees(rotation),
        max_shift=max_shift,
    )


def apply_patch(
    x,
    patch,
    scale=None,
    angle=0.0,
    shift=(0.0, 0.0),
    scale_range=None,
    max_rotation=0.0,
    max_shift=1.0,
    seed=0,
):
    """Paste ``patch`` on every image of ``x`` (new array; ``x`` is not modified).

    With ``scale_range`` each image gets a random placement (scale in the range, rotation up to
    ``max_rotation`` degrees, random shift using ``max_shift`` of the free room); otherwise the patch is pasted at the
    centre shifted by ``shift`` (pixels, (down, right)), scaled by ``scale`` (default 1) and
    rotated by ``angle`` degrees.
    """
    x = C.check_images(x)
    patch = np.asarray(patch, dtype="float32")
    if patch.ndim != 3 or patch.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"patch must be (h, w, {x.shape[-1]}) to match the images; got {patch.shape}."
        )
    if patch.shape[0] > x.shape[1] or patch.shape[1] > x.shape[2]:
        raise ValueError(f"patch {patch.shape[:2]} is larger than the images {x.shape[1:3]}.")
    batch = int(x.shape[0])
    if scale_range is not None:
        scale_range, rotation, max_shift = _check_placement(scale_range, max_rotation, max_shift)
        placement = _random_placement(
            batch,
            C.draw_seed(seed),
            scale_range,
            rotation,
            patch.shape,
            tuple(x.shape[1:]),
            max_shift,
        )
    else:
        scale = 1.0 if scale is None else check_float("scale", scale, 0.0, strict_minimum=True)
        angle = math.radians(check_float("angle", angle))
        placement = (
            tf.fill([batch], scale),
            tf.fill([batch], angle),
            tf.fill([batch], float(shift[0])),
            tf.fill([batch], float(shift[1])),
        )
    return _composite(x, tf.constant(patch), *placement).numpy()


def patch_success_rate(model, patched, target, x=None, batch_size=512):
    """Share of ``patched`` images that ``model`` classifies as ``target``.

    With ``x`` (the same images without the patch), only the images the model does not already
    assign to ``target`` count, so that the rate measures what the patch does.
    """
    models = C.as_model_list(model)
    patched = C.check_images(patched)
    batch_size = C.check_batch_size(batch_size)
    hits = C.predict_classes(models, patched, batch_size) == target
    if x is None:
        return float(np.mean(hits))
    x = C.check_images(x)
    if x.shape != patched.shape:
        raise ValueError(f"x must have the shape of patched {patched.shape}; got {x.shape}.")
    keep = C.predict_classes(models, x, batch_size) != target
    if not keep.any():
        raise ValueError(f"every image of x is already classified as the target {target}.")
    return float(np.mean(hits[keep]))
