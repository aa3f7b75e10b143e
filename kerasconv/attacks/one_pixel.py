"""The one-pixel attack (Su, Vargas & Sakurai 2019, "One pixel attack for fooling deep neural
networks"), by differential evolution.

Each candidate is ``pixels`` tuples ``(row, column, value per channel)``. Differential evolution
(DE/rand/1, no crossover, as in the paper) evolves a population per image: a child
``a + F · (b − c)`` of three random members replaces its parent when it lowers the fitness — the
probability of the true class (untargeted) or minus the probability of the target (targeted). No
gradients are needed. Every generation of every image's population is evaluated in one model call,
and the generations run in one ``tf.function`` over ``tf.range``, stopping early once every image
is fooled.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_float, check_int, resolve_jit_compile
from kerasconv.attacks import _common as C


@dataclasses.dataclass(frozen=True)
class OnePixelResult(C.AttackResult):
    """``AttackResult`` (``eps`` is the number of pixels, ``norm`` 0) plus the pixels changed:
    ``locations`` ``(batch, pixels, 2)`` (row, column) and ``values`` ``(batch, pixels, C)``."""

    locations: np.ndarray = None
    values: np.ndarray = None


def _paint(x, candidates, pixels, channels, height, width):
    """Images ``(batch, population, H, W, C)`` with each candidate's pixels set."""
    images = tf.tile(x[:, None], [1, tf.shape(candidates)[1], 1, 1, 1])
    per = 2 + channels
    for k in range(pixels):
        row = tf.cast(tf.floor(candidates[..., k * per]), tf.int32)
        col = tf.cast(tf.floor(candidates[..., k * per + 1]), tf.int32)
        value = candidates[..., k * per + 2 : (k + 1) * per]
        mask = tf.one_hot(row, height)[..., :, None] * tf.one_hot(col, width)[..., None, :]
        mask = mask[..., None]
        images = images * (1.0 - mask) + mask * value[:, :, None, None, :]
    return images


def _build(models, image_shape, pixels, targeted, jit_compile):
    build_forward = C.forward_builder(models)
    height, width, channels = image_shape
    per = 2 + channels

    def run(x_all, given_all, index, population, max_iter, mutation, clip_min, clip_max, seed):
        forward = build_forward()
        x = tf.gather(x_all, index)
        given = tf.gather(given_all, index)
        clean_logits = forward(x)
        labels = tf.where(given >= 0, given, tf.argmax(clean_logits, -1, output_type=tf.int32))
        batch = tf.shape(x)[0]
        dims = pixels * per
        low = tf.tile(tf.concat([[0.0, 0.0], tf.fill([channels], clip_min)], 0), [pixels])
        high = tf.tile(
            tf.concat([[height - 1e-3, width - 1e-3], tf.fill([channels], clip_max)], 0), [pixels]
        )

        def fitness(candidates):
            images = _paint(x, candidates, pixels, channels, height, width)
            flat = tf.reshape(images, tf.concat([[-1], tf.shape(x)[1:]], 0))
            probabilities = tf.nn.softmax(forward(flat))
            predictions = tf.argmax(probabilities, -1, output_type=tf.int32)
            probabilities = tf.reshape(probabilities, [batch, population, -1])
            predictions = tf.reshape(predictions, [batch, population])
            p_label = tf.gather(probabilities, labels, axis=2, batch_dims=1)
            if targeted:
                return -p_label, tf.equal(predictions, labels[:, None])
            return p_label, tf.not_equal(predictions, labels[:, None])

        u = tf.random.stateless_uniform([batch, population, dims], seed)
        pop = low + u * (high - low)
        score, fooled = fitness(pop)
        for generation in tf.range(max_iter):
            if tf.reduce_all(tf.reduce_any(fooled, axis=1)):
                break
            # Three distinct random members per child: the first three of a random permutation.
            noise = tf.random.stateless_uniform(
                [batch, population, population], seed + tf.stack([1, generation])
            )
            order = tf.argsort(noise, axis=-1)
            a = tf.gather(pop, order[..., 0], batch_dims=1)
            b = tf.gather(pop, order[..., 1], batch_dims=1)
            c = tf.gather(pop, order[..., 2], batch_dims=1)
            child = tf.clip_by_value(a + mutation * (b - c), low, high)
            child_score, child_fooled = fitness(child)
            better = child_score < score
            pop = tf.where(better[..., None], child, pop)
            score = tf.where(better, child_score, score)
            fooled = tf.where(better, child_fooled, fooled)
        # Per image: a fooling candidate if any, else the best score.
        merit = -score + 1e3 * tf.cast(fooled, tf.float32)
        best = tf.argmax(merit, axis=1, output_type=tf.int32)
        chosen = tf.gather(pop, best, batch_dims=1)
        x_adv = _paint(x, chosen[:, None], pixels, channels, height, width)[:, 0]
        predictions = tf.argmax(forward(x_adv), -1, output_type=tf.int32)
        return x_adv, predictions, chosen, clean_logits, labels

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.int32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((2,), tf.int32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def one_pixel_attack(
    model,
    x,
    pixels=1,
    y=None,
    targeted=False,
    population=100,
    max_iter=50,
    mutation=0.5,
    clip_min=0.0,
    clip_max=1.0,
    seed=0,
    jit_compile="auto",
    batch_size=4096,
):
    """Change ``pixels`` (1–5) pixels per image to fool ``model`` (Su et al. 2019).

    Args:
        model: classifier (softmax outputs used as probabilities) or a list of models.
        x: images ``(batch, H, W, C)``; never modified.
        pixels: how many pixels may change, 1 to 5.
        y: true labels (or targets if ``targeted``); None uses the model's predictions.
        targeted: drive the prediction to ``y``.
        population: candidates per image (the paper uses 400).
        max_iter: generations at most (the paper uses 100).
        mutation: DE's scale factor F (the paper: 0.5).
        clip_min, clip_max: range of the new pixel values.
        seed: random seed.
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.
        batch_size: candidate images evaluated per model call: the images are attacked in
            chunks of ``max(1, batch_size // population)``, so the working memory stays bounded
            whatever the number of images. Each chunk's evolution stops once it is all fooled.

    Returns:
        ``OnePixelResult``.
    """
    models = C.as_model_list(model)
    x = C.check_images(x)
    pixels = check_int("pixels", pixels, minimum=1, maximum=5)
    population = check_int("population", population, minimum=4)
    max_iter = check_int("max_iter", max_iter, minimum=0)
    mutation = check_float("mutation", mutation, minimum=0.0, maximum=2.0)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    if not (np.isfinite(clip_min) and np.isfinite(clip_max)):
        raise ValueError("one_pixel_attack needs finite clip_min and clip_max (the pixel range).")
    batch_size = C.check_batch_size(batch_size)
    jit = resolve_jit_compile(jit_compile)
    batch = int(x.shape[0])
    classes = C.class_count(models, x)
    given = C.given_labels(y, targeted, batch, classes)
    image_shape = tuple(x.shape[1:])
    function = C.cached(
        models,
        ("one_pixel", image_shape, pixels, bool(targeted), jit),
        lambda: _build(models, image_shape, pixels, bool(targeted), jit),
    )
    x_adv = np.empty((batch,) + image_shape, "float32")
    predictions = np.empty((batch,), "int64")
    chosen = np.empty((batch, pixels * (2 + image_shape[-1])), "float32")
    logits = np.empty((batch, classes), "float32")
    labels = np.empty((batch,), "int64")
    seed_tensor = C.draw_seed(seed)
    chunk = max(1, batch_size // population)
    for begin in range(0, batch, chunk):
        end = min(batch, begin + chunk)
        out = function(
            x,
            given,
            tf.range(begin, end),
            tf.constant(population),
            tf.constant(max_iter),
            tf.constant(mutation, tf.float32),
            clip_min,
            clip_max,
            seed_tensor + tf.constant([2 * begin, 0], tf.int32),
        )
        x_adv[begin:end] = out[0].numpy()
        predictions[begin:end] = out[1].numpy()
        chosen[begin:end] = out[2].numpy()
        logits[begin:end] = out[3].numpy()
        labels[begin:end] = out[4].numpy()
        if begin == 0:
            C.check_logits(logits[begin:end], models)
    success = predictions == labels if targeted else predictions != labels
    linf, l2 = (t.numpy() for t in C.perturbation_norms(tf.constant(x_adv), x))
    chosen = chosen.reshape(batch, pixels, -1)
    base = C.assemble(
        x_adv[None],
        success[None],
        [pixels],
        labels,
        np.argmax(logits, -1),
        predictions[None],
        linf[None],
        l2[None],
        targeted,
        0.0,
        True,
    )
    return OnePixelResult(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(C.AttackResult)},
        locations=np.floor(chosen[..., :2]).astype("int64"),
        values=chosen[..., 2:],
    )
