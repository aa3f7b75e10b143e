"""Universal adversarial perturbations (Moosavi-Dezfooli, Fawzi, Fawzi & Frossard 2017).

One perturbation ``v`` with ``||v|| ≤ eps`` that changes the prediction of most images of a data
distribution: ``f(x + v) ≠ f(x)`` for many ``x``. Moosavi-Dezfooli et al. pass over the data
repeatedly and, for each image not yet fooled, push ``v`` towards that image's decision boundary
and project it back onto the eps ball. This implementation does the same batch-wise (as in the
stochastic form of Shafahi et al. 2020): each step takes a random batch, ascends the loss of the
images ``x + v`` does not fool yet, steps ``v`` along the steepest direction of the chosen norm and
projects. All steps run in one ``tf.function`` over ``tf.range``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_int, resolve_jit_compile
from kerasconv.attacks import _common as C


@dataclasses.dataclass(frozen=True)
class UniversalResult:
    """``perturbation`` ``(H, W, C)``, its ``fooling_rate`` on the data it was built on, ``eps``
    and ``norm``. ``perturbation, fooling_rate = result`` unpacks the two main fields."""

    perturbation: np.ndarray
    fooling_rate: float
    eps: float
    norm: float

    def __iter__(self):
        yield self.perturbation
        yield self.fooling_rate


def _build(models, image_shape, norm, jit_compile):
    build_forward = C.forward_builder(models)

    def run(x, labels, eps, step_size, steps, batch_size, clip_min, clip_max, seed):
        forward = build_forward()
        eps_v = tf.reshape(eps, [1])
        count = tf.shape(x)[0]
        v = tf.zeros((1,) + image_shape, tf.float32)

        def ascend(v, step):
            index = tf.random.stateless_uniform(
                [batch_size], seed + tf.stack([0, step]), 0, count, dtype=tf.int32
            )
            xb = tf.gather(x, index)
            yb = tf.gather(labels, index)
            with tf.GradientTape() as tape:
                tape.watch(v)
                logits = forward(tf.clip_by_value(xb + v, clip_min, clip_max))
                not_fooled = tf.cast(
                    tf.equal(tf.argmax(logits, -1, output_type=tf.int32), yb), tf.float32
                )
                # Only images v does not fool yet pull on it (Moosavi-Dezfooli et al.'s rule).
                loss = tf.reduce_sum(C.cross_entropy(logits, yb) * not_fooled)
            gradient = tape.gradient(loss, v)
            v = v + step_size * C.steepest_direction(gradient, norm)
            return C.project(v, eps_v, norm)

        ascend = C.loop_step(ascend, jit_compile)
        for step in tf.range(steps):
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)  # serial steps
            v = ascend(v, step)
        return v[0]

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((2,), tf.int32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def _predict(models, x, batch_size=512):
    return C.predict_classes(models, x, batch_size)


def universal_perturbation(
    model,
    x,
    eps,
    norm=np.inf,
    nb_epochs=5,
    batch_size=64,
    step_size=None,
    clip_min=None,
    clip_max=None,
    seed=0,
    jit_compile="auto",
):
    """One perturbation that fools ``model`` on most of ``x`` (Moosavi-Dezfooli et al. 2017).

    Args:
        model: classifier (softmax removed automatically) or a list of models.
        x: the images to build the perturbation on ``(N, H, W, C)``; never modified.
        eps: budget of the perturbation in ``norm`` (``np.inf`` or 2).
        nb_epochs: passes over the data (``nb_epochs · N / batch_size`` steps).
        batch_size: images per step.
        step_size: size of each step (default ``eps / 5``).
        clip_min, clip_max: valid pixel range applied to ``x + v``.
        seed: seed of the batch sampling.
        jit_compile: ``"auto"``, True or False.

    Returns:
        ``UniversalResult`` with the perturbation and its fooling rate on ``x`` (share of images
        whose prediction changes). Use ``fooling_rate`` on held-out data.
    """
    models = C.as_model_list(model)
    norm = C.check_norm(norm)
    x = C.check_images(x)
    eps_arr, scalar = C.check_eps(eps)
    if not scalar:
        raise ValueError("universal_perturbation takes one eps; call it once per budget.")
    eps = float(eps_arr[0])
    nb_epochs = check_int("nb_epochs", nb_epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    step_size = eps / 5 if step_size is None else C.check_float("step_size", step_size, 0.0)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    C.clean_logits(models, x[:8])
    jit = resolve_jit_compile(jit_compile)
    image_shape = tuple(x.shape[1:])
    function = C.cached(
        models,
        ("universal", image_shape, norm, jit),
        lambda: _build(models, image_shape, norm, jit),
    )
    labels = tf.constant(_predict(models, x), tf.int32)
    steps = nb_epochs * int(np.ceil(int(x.shape[0]) / batch_size))
    perturbation = function(
        x,
        labels,
        tf.constant(eps, tf.float32),
        tf.constant(step_size, tf.float32),
        tf.constant(steps, tf.int32),
        tf.constant(min(batch_size, int(x.shape[0])), tf.int32),
        clip_min,
        clip_max,
        C.draw_seed(seed),
    ).numpy()
    rate = fooling_rate(models, x, perturbation, clip_min, clip_max)
    return UniversalResult(perturbation=perturbation, fooling_rate=rate, eps=eps, norm=norm)


def fooling_rate(model, x, perturbation, clip_min=None, clip_max=None, batch_size=512):
    """Share of images whose prediction changes when ``perturbation`` is added (then clipped to
    ``[clip_min, clip_max]``); the images are evaluated ``batch_size`` at a time."""
    models = C.as_model_list(model)
    x = C.check_images(x)
    low, high = C.check_clip(x, clip_min, clip_max, sanity_checks=False)
    batch_size = C.check_batch_size(batch_size)
    perturbation = np.asarray(perturbation, dtype="float32")
    if perturbation.shape != tuple(x.shape[1:]):
        raise ValueError(
            f"perturbation must have the image shape {tuple(x.shape[1:])}; "
            f"got {perturbation.shape}."
        )
    clean = _predict(models, x, batch_size)
    changed = 0
    for i in range(0, int(x.shape[0]), batch_size):
        attacked = tf.clip_by_value(x[i : i + batch_size] + perturbation[None], low, high)
        changed += int(np.sum(_predict(models, attacked, batch_size) != clean[i : i + batch_size]))
    return changed / int(x.shape[0])
