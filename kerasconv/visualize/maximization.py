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

import warnings

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
    wake=True,
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
        wake: what to do with targets whose score never moved (a unit dead at the start: zero
            gradient, so the image stays the start). ``True`` restarts them from the baseline
            plus uniform noise in ``[0, 1)``, a bright start that wakes most ReLU units; an image
            batch (e.g. training images) restarts each from the image that excites it most, the
            surest start for a unit that is alive on real data; ``False`` only reports them.
            Applies when ``init`` is ``"random"`` or ``"zeros"``.
        seed: seed of the random start and jitter.
        progress: ``progress(step, total, metrics)`` called every ``progress_every`` steps.
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.

    Returns:
        :class:`OptimizationResult`: ``images`` (the baseline plus the optimised deviation),
        ``history["score"]`` ``(steps, batch)`` scores before each step, ``scores`` the final
        scores, ``restarted`` (targets restarted from the waking start) and ``stuck`` (targets
        that never moved even then: their images are the start; a warning names them).

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
    if layer is not None and targets.dtype.kind in "iu" and targets.size:
        kind = "channel" if len(_layer_shape(model, layer)) == 4 else "unit"
        if targets.min() < 0 or targets.max() >= size:
            raise ValueError(
                f"targets must be {kind} indices of layer {layer!r} in [0, {size - 1}] (it has "
                f"{size} {kind}s); got values from {targets.min()} to {targets.max()}."
            )
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

    def run(start, targets, baseline):
        state, history = syn.run_loop(
            loop,
            (start, targets, baseline, tf.constant(seed, tf.int32)),
            steps,
            ("score",),
            progress_every,
            progress,
        )
        images = state[2] + state[0]
        return images.numpy(), history["score"], final_score(images, targets).numpy()

    images, history, scores = run(start, targets, baseline)
    # A unit that is dead at the start (a ReLU whose input is negative there) has a zero gradient:
    # the image never moves and its score never changes. Such targets are restarted from a start
    # that wakes most units: the baseline plus uniform noise in [0, 1) (a bright, positive image;
    # for images in [0, 1] as the digits, the whole range). What stays dead is reported.
    stuck = _never_moved(history, scores)
    restarted = np.zeros(batch, bool)
    if wake is not False and wake is not None and isinstance(init, str) and stuck.any():
        index = np.flatnonzero(stuck)
        if wake is True:
            wake_start = tf.random.stateless_uniform((len(index),) + shape, seed=[int(seed), 11])
        else:
            wake_start = _strongest_images(wake, tf.gather(targets, index), final_score, shape)
            wake_start = wake_start - tf.gather(baseline, index)
        wake_images, wake_history, wake_scores = run(
            wake_start, tf.gather(targets, index), tf.gather(baseline, index)
        )
        images[index], history[:, index], scores[index] = wake_images, wake_history, wake_scores
        restarted[index] = True
        stuck[index] = _never_moved(wake_history, wake_scores)
    if stuck.any():
        warnings.warn(
            f"activation maximisation: targets {targets.numpy()[stuck].tolist()} of "
            f"{'the classes' if layer is None else repr(layer)} never moved (a dead unit: zero "
            "gradient at the start); their images are the start. Try init= a real image that "
            "activates them.",
            stacklevel=2,
        )
    return syn.OptimizationResult(
        images=images, history={"score": history}, scores=scores, stuck=stuck, restarted=restarted
    )


def _strongest_images(candidates, targets, score, shape):
    """For each target, the candidate image that excites it most (a real-image start)."""
    candidates = np.asarray(candidates, dtype="float32")
    if candidates.ndim != 4 or tuple(candidates.shape[1:]) != tuple(shape):
        raise ValueError(
            f"wake must be True, False or candidate images (n, {', '.join(map(str, shape))}); "
            f"got shape {candidates.shape}."
        )
    candidates = tf.constant(candidates)
    count = int(candidates.shape[0])
    chosen = [
        int(tf.argmax(score(candidates, tf.fill([count], target))))
        for target in targets.numpy().tolist()
    ]
    return tf.gather(candidates, chosen)


def _never_moved(history, final):
    """Targets whose score never changed over the steps (zero gradient: a dead unit)."""
    scores = np.concatenate([np.asarray(history), np.asarray(final)[None]], axis=0)
    return np.all(scores == scores[:1], axis=0)


def _layer_shape(model, layer):
    return tuple(feature_extractor(model, [layer]).outputs[0].shape)
