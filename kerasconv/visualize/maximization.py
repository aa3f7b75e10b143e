"""Activation maximisation: the image a network thinks is most typical of a class, a unit or a
feature map.

Simonyan, Vedaldi & Zisserman 2013 ("Deep inside convolutional networks") find
``argmax_I S_c(I) - lambda ||I||^2`` by gradient ascent on the class score before the softmax.
Yosinski, Clune, Nguyen, Fuchs & Lipson 2015 ("Understanding neural networks through deep
visualization") make the images far more interpretable with four regularisers applied after each
ascent step, ``I <- r(I + eta * grad)``:

* **L2 decay** ``I <- (1 - decay) I`` (the gradient step of Simonyan's ``lambda ||I||^2`` term with
  ``decay = 2 eta lambda``), which stops a few extreme pixels from dominating;
* **Gaussian blur** every ``blur_every`` steps, which removes the high frequencies ascent loves;
* **clipping pixels of small norm**: pixels whose norm (over channels) is below a per-image
  percentile are set to zero;
* **clipping pixels of small contribution**: pixels whose linear-approximation contribution
  ``|sum_c x_c * dS/dx_c|`` (how much the score would change if the pixel were zeroed) is below a
  percentile are set to zero.

Jitter (a random circular shift before each gradient, Mordvintsev et al. 2015) and a total
variation penalty (Mahendran & Vedaldi 2015) are also available. "Zero" means the ``baseline``
image (default 0; pass the training mean for mean-subtracted data): the optimised variable is the
deviation from it.

All targets are optimised at once as one batch in one compiled loop.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_float, check_int, check_labels
from kerasconv.gradients import logits_function
from kerasconv.models.features import feature_extractor, find_layer
from kerasconv.visualize import _synthesis as syn


def _score_function(model, layer, objective):
    """``(x, target) -> (batch,)`` scores and the number of valid targets."""
    if layer is None:
        logits = logits_function(model)
        size = int(model.outputs[0].shape[-1])

        def score(x, target):
            return tf.gather(logits(x), target, axis=1, batch_dims=1)

        return score, size
    find_layer(model, layer)  # a clear error for a wrong name
    taps = feature_extractor(model, [layer])
    shape = taps.outputs[0].shape
    size = int(shape[-1])
    rank = len(shape)

    def score(x, target):
        activation = tf.cast(taps(x, training=False)[layer], tf.float32)
        if rank == 2:
            return tf.gather(activation, target, axis=1, batch_dims=1)
        # (B, H, W, C) -> (B, H, W) feature map of each sample's target channel.
        maps = tf.gather(activation, target, axis=-1, batch_dims=1)
        if objective == "center":
            height, width = tf.shape(maps)[1], tf.shape(maps)[2]
            return maps[:, height // 2, width // 2]
        return tf.reduce_mean(maps, axis=list(range(1, rank - 1)))

    return score, size


def activation_maximization(
    model,
    targets,
    layer=None,
    objective="mean",
    steps=200,
    learning_rate=0.05,
    l2_decay=0.0,
    blur_every=0,
    blur_sigma=0.5,
    norm_clip_percentile=0.0,
    contribution_clip_percentile=0.0,
    jitter=0,
    tv_weight=0.0,
    value_range=None,
    baseline=0.0,
    init="random",
    image_shape=None,
    seed=0,
    progress=None,
    progress_every=50,
    jit_compile="auto",
):
    """One image per target that maximises it (Simonyan et al. 2013; Yosinski et al. 2015).

    Args:
        model: a Keras model. With ``layer=None`` the targets are classes and their pre-softmax
            scores (logits) are maximised (softmax is detected and removed).
        targets: class indices (``layer=None``), unit indices (dense layer) or channel indices
            (convolutional layer), one per image to synthesise: ``[0, 1, ..., 9]`` gives ten images.
        layer: name of the layer whose unit / feature map is maximised.
        objective: for feature maps, ``"mean"`` (the whole map, a "feature") or ``"center"`` (the
            single unit at the centre of the map, a "neuron").
        steps: gradient-ascent steps.
        learning_rate: step size in image units (the gradient is divided by its RMS per image).
        l2_decay: fraction of the deviation from ``baseline`` removed after each step (Yosinski's
            theta_decay; Simonyan's L2 penalty).
        blur_every, blur_sigma: Gaussian blur of width ``blur_sigma`` pixels every ``blur_every``
            steps (0: never).
        norm_clip_percentile: zero the pixels whose norm over channels is below this percentile
            (0-100; 0: off).
        contribution_clip_percentile: zero the pixels whose contribution is below this percentile.
        jitter: random circular shift of up to ``jitter`` pixels before each gradient.
        tv_weight: weight of a total-variation penalty (beta = 2) subtracted from the score.
        value_range: optional ``(low, high)`` to clip pixels into after each step.
        baseline: the "zero" image (scalar or an image), e.g. the training mean.
        init: ``"random"`` (the baseline plus N(0, 0.1²) noise, the default), ``"zeros"`` (the
            baseline itself, as Simonyan et al.) or an image batch. Random is the default because
            a ReLU network whose first-layer biases are all negative is dead at a blank image:
            every gradient is zero there and a zero start never moves.
        image_shape: ``(H, W, C)`` when the model's input size is not fixed.
        seed: seed of the random start and jitter.
        progress: ``progress(step, total, metrics)`` called every ``progress_every`` steps.
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.

    Returns:
        :class:`OptimizationResult`: ``images`` (the baseline plus the optimised deviation),
        ``history["score"]`` ``(steps, batch)`` scores before each step, ``scores`` the final
        scores.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5()
        >>> result = kerasconv.visualize.activation_maximization(model, range(10), steps=20)
        >>> result.images.shape
        (10, 32, 32, 1)
    """
    if not hasattr(model, "inputs"):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    check_choice("objective", objective, ("mean", "center"))
    steps = check_int("steps", steps, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
    l2_decay = check_float("l2_decay", l2_decay, 0.0, 1.0)
    blur_every = check_int("blur_every", blur_every, minimum=0)
    blur_sigma = check_float("blur_sigma", blur_sigma, 0.0, strict_minimum=True)
    norm_clip_percentile = check_float("norm_clip_percentile", norm_clip_percentile, 0.0, 100.0)
    contribution_clip_percentile = check_float(
        "contribution_clip_percentile", contribution_clip_percentile, 0.0, 100.0
    )
    jitter = check_int("jitter", jitter, minimum=0)
    tv_weight = syn.check_weight("tv_weight", tv_weight)
    value_range = syn.check_range(value_range)
    progress_every = syn.check_progress(progress, progress_every)
    seed = check_int("seed", seed)

    shape = image_shape or syn.model_input_shape(model)
    if shape is None or any(side is None for side in shape):
        raise ValueError(
            "The model's input size is not fixed; pass image_shape=(height, width, channels)."
        )
    shape = tuple(int(side) for side in shape)
    score_fn, size = _score_function(model, layer, objective)
    targets = np.atleast_1d(np.asarray(list(targets) if not np.isscalar(targets) else targets))
    targets = check_labels("targets", targets, len(targets), num_classes=size)
    batch = int(targets.shape[0])
    baseline = tf.broadcast_to(tf.constant(np.asarray(baseline, "float32")), (batch,) + shape)

    settings = (
        "activation_maximization",
        layer,
        objective,
        learning_rate,
        l2_decay,
        blur_every,
        blur_sigma,
        norm_clip_percentile,
        contribution_clip_percentile,
        jitter,
        tv_weight,
        value_range,
        progress_every,
        jit_compile,
    )

    def build():
        def step(state, index):
            deviation, target, base, seed_value = state
            shift = (
                syn.random_shift(seed_value, index, jitter) if jitter else tf.zeros([2], tf.int32)
            )
            with tf.GradientTape() as tape:
                tape.watch(deviation)
                image = syn.roll(base + deviation, shift)
                score = score_fn(image, target)
                objective_value = score
                if tv_weight:
                    objective_value = score - tv_weight * syn.total_variation(base + deviation)
                total = tf.reduce_sum(objective_value)
            gradient = tape.gradient(total, deviation)
            updated = deviation + learning_rate * syn.normalize_gradient(gradient)
            if l2_decay:
                updated = (1.0 - l2_decay) * updated
            if blur_every:
                updated = tf.cond(
                    tf.equal((index + 1) % blur_every, 0),
                    lambda: syn.gaussian_blur(updated, blur_sigma),
                    lambda: updated,
                )
            if value_range is not None:
                updated = tf.clip_by_value(base + updated, *value_range) - base
            if norm_clip_percentile:
                norms = tf.norm(updated, axis=-1)
                weak = syn.below_percentile(norms, norm_clip_percentile)
                updated = tf.where(weak[..., None], tf.zeros_like(updated), updated)
            if contribution_clip_percentile:
                contribution = tf.abs(tf.reduce_sum(updated * gradient, axis=-1))
                weak = syn.below_percentile(contribution, contribution_clip_percentile)
                updated = tf.where(weak[..., None], tf.zeros_like(updated), updated)
            return (updated, target, base, seed_value), (score,)

        return syn.compiled_loop(step, ("score",), progress_every, jit_compile), tf.function(
            lambda x, target: score_fn(x, target), reduce_retracing=True
        )

    loop, final_score = syn.cached(model, settings, build)
    start = syn.initial_images(init, (batch,) + shape, seed, baseline=0.0)
    if not isinstance(init, str):
        start = start - baseline
    state, history = syn.run_loop(
        loop,
        (start, targets, baseline, tf.constant(seed, tf.int32)),
        steps,
        ("score",),
        progress_every,
        progress,
    )
    images = state[2] + state[0]
    scores = final_score(images, targets).numpy()
    return syn.OptimizationResult(images=images.numpy(), history=history, scores=scores)
