"""Fooling images (Nguyen, Yosinski & Clune 2015, "Deep neural networks are easily fooled").

Images unrecognisable to people that a network nevertheless classifies with ≥ 99% confidence.
Nguyen et al. evolved them; the seeds' lecture recipe is the gradient one used here: start from
noise (or any image), pick a class, change the image to raise that class's log-probability, repeat
until the network is fooled. All steps run in one ``tf.function`` over ``tf.range``; images that
reach the confidence stop changing and the loop ends when all have.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_float, check_image_batch, check_int, resolve_jit_compile
from kerasconv.attacks import _common as C
from kerasconv.gradients import score_and_gradient


@dataclasses.dataclass(frozen=True)
class FoolingResult:
    """``images`` ``(n, H, W, C)``, the ``confidence`` of each one's target class, the ``classes``
    aimed at and ``reached`` (confidence ≥ the threshold). ``images, confidence = result``."""

    images: np.ndarray
    confidence: np.ndarray
    classes: np.ndarray
    reached: np.ndarray

    def __iter__(self):
        yield self.images
        yield self.confidence


def _build(models, image_shape, jit_compile):
    build_forward = C.forward_builder(models)

    def log_probability(logits, target):
        return tf.gather(tf.nn.log_softmax(logits), target, axis=1, batch_dims=1)

    def run(x, classes, steps, step_size, threshold, clip_min, clip_max):
        forward = build_forward()
        log_threshold = tf.math.log(threshold)

        def ascend(x):
            # Images already at the threshold stay as they are; when none is left below it,
            # ``x`` comes back unchanged and the loop stops.
            scores, gradient = score_and_gradient(forward, x, classes, log_probability)
            active = scores < log_threshold
            step = step_size * C.steepest_direction(gradient, 2.0)
            moved = tf.clip_by_value(x + step, clip_min, clip_max)
            return tf.reduce_any(active), tf.where(C.per_sample(active, x), moved, x)

        ascend = C.loop_step(ascend, jit_compile)
        for _ in tf.range(steps):
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)  # serial steps
            any_active, x = ascend(x)
            if not any_active:
                break
        confidence = tf.exp(log_probability(forward(x), classes))
        return x, confidence

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def fooling_images(
    model,
    classes,
    image_shape=None,
    start=None,
    confidence=0.99,
    steps=300,
    step_size=0.5,
    clip_min=0.0,
    clip_max=1.0,
    seed=0,
    jit_compile="auto",
):
    """Images that ``model`` assigns to ``classes`` with at least ``confidence`` (Nguyen et al.).

    Args:
        model: classifier (softmax outputs used as probabilities) or a list of models.
        classes: the class of each image to make (a list of ints).
        image_shape: ``(H, W, C)``; default the model's input shape.
        start: starting images ``(n, H, W, C)``; default uniform noise in the clip range.
        confidence: probability to reach (stop per image once reached).
        steps: maximum gradient steps.
        step_size: L2 length of each step on the log-probability of the class.
        clip_min, clip_max: pixel range.
        seed: seed of the starting noise.

    Returns:
        ``FoolingResult``.
    """
    models = C.as_model_list(model)
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(f"classes must be a non-empty list of class indices; got {classes!r}.")
    confidence = check_float("confidence", confidence, minimum=0.0, maximum=1.0)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence}.")
    steps = check_int("steps", steps, minimum=1)
    step_size = check_float("step_size", step_size, minimum=0.0, strict_minimum=True)
    if start is None:
        if image_shape is None:
            inputs = getattr(models[0], "inputs", None)
            if not inputs:
                raise ValueError("image_shape is needed when the model has no known input shape.")
            image_shape = tuple(inputs[0].shape[1:])
        image_shape = tuple(int(d) for d in image_shape)
        rng = np.random.default_rng(seed)
        start = rng.uniform(clip_min, clip_max, size=(len(classes),) + image_shape)
    x = check_image_batch("start", np.asarray(start, dtype="float32"))
    if x.shape[0] != len(classes):
        raise ValueError(f"start has {x.shape[0]} images for {len(classes)} classes.")
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    logits = C.clean_logits(models, x)
    labels = C.check_labels("classes", classes, len(classes), logits.shape[1])
    jit = resolve_jit_compile(jit_compile)
    image_shape = tuple(x.shape[1:])
    function = C.cached(
        models, ("fooling", image_shape, jit), lambda: _build(models, image_shape, jit)
    )
    images, reached_conf = function(
        x,
        labels,
        tf.constant(steps),
        tf.constant(step_size, tf.float32),
        tf.constant(confidence, tf.float32),
        clip_min,
        clip_max,
    )
    reached_conf = reached_conf.numpy()
    return FoolingResult(
        images=images.numpy(),
        confidence=reached_conf,
        classes=labels.numpy().astype("int64"),
        reached=reached_conf >= confidence,
    )
