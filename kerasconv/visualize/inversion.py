"""Feature inversion: which images does a layer consider identical to a given one?

Mahendran & Vedaldi 2015 ("Understanding deep image representations by inverting them") solve

    x* = argmin_x ||Phi(x) - Phi_0||^2 / ||Phi_0||^2
                  + lambda_TV R_TV^beta(x) + lambda_alpha ||x||_alpha^alpha

where ``Phi`` is the representation at one layer and ``Phi_0 = Phi(x_0)`` the code of the original
image. The total-variation prior ``R_TV^beta`` favours piecewise-smooth images and the alpha-norm
(alpha = 6 in the paper) keeps pixels in range. The normalisation by ``||Phi_0||^2`` makes the loss
comparable across layers. Reconstructions from early layers are nearly photographic; deeper layers
keep only what matters for the classification, so their reconstructions drift (the seeds' figure).

Adam on the image batch, all images at once, in one compiled loop.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_float, check_image_batch, check_int
from kerasconv.models.features import feature_extractor, find_layer
from kerasconv.visualize import _synthesis as syn


def _check_layers(model, layers):
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers must name at least one layer.")
    for name in layers:
        find_layer(model, name)
    return layers


def invert_features(
    model,
    images,
    layer,
    steps=300,
    learning_rate=0.05,
    tv_weight=0.01,
    tv_beta=2.0,
    alpha_weight=0.0,
    alpha=6.0,
    value_range=(0.0, 1.0),
    baseline=None,
    init="random",
    seed=0,
    progress=None,
    progress_every=50,
    jit_compile="auto",
):
    """Reconstruct ``images`` from their code at ``layer`` (Mahendran & Vedaldi 2015).

    Args:
        model: a Keras model.
        images: the originals ``(batch, H, W, C)`` (or one image); their codes are the targets.
        layer: the layer whose representation is inverted (any layer, up to the logits).
        steps, learning_rate: Adam steps and step size.
        tv_weight, tv_beta: weight and exponent of the total-variation prior (beta = 2 smooth,
            beta = 1 edge-preserving).
        alpha_weight, alpha: weight and exponent of the alpha-norm prior on ``x - baseline``.
        value_range: clip pixels into ``(low, high)`` after each step (None: no clipping).
        baseline: the centre of the alpha-norm and of the random start (default: the mean pixel
            of ``images``).
        init: ``"random"`` (baseline plus N(0, 0.2²) noise, as the paper starts from noise; enough
            to wake ReLUs that are dead at a flat image, which would otherwise never move) or
            ``"zeros"`` (the baseline).
        seed, progress, progress_every, jit_compile: as in ``activation_maximization``.

    Returns:
        :class:`OptimizationResult` with ``images`` the reconstructions, ``history["loss"]`` and
        ``history["feature_error"]`` (the normalised code distance) per step and ``scores`` the
        final normalised code distance of each reconstruction.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5()
        >>> x, _ = kerasconv.data.load_arrays("digits", "test", image_size=32)
        >>> result = kerasconv.visualize.invert_features(model, x[:4], "c1", steps=50)
    """
    images = check_image_batch("images", images, allow_single=True)
    layer = _check_layers(model, layer)[0]
    expected = syn.model_input_shape(model)
    if (
        expected is not None
        and len(expected) == 3
        and any(
            want is not None and want != got
            for want, got in zip(expected, images.shape[1:], strict=True)
        )
    ):
        size = "×".join("any" if side is None else str(side) for side in expected)
        raise ValueError(
            f"images must have shape (batch, {size}) for model {model.name!r}; got "
            f"{tuple(images.shape)}."
        )
    steps = check_int("steps", steps, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
    tv_weight = syn.check_weight("tv_weight", tv_weight)
    tv_beta = check_float("tv_beta", tv_beta, 0.0, strict_minimum=True)
    alpha_weight = syn.check_weight("alpha_weight", alpha_weight)
    alpha = check_float("alpha", alpha, 1.0)
    value_range = syn.check_range(value_range)
    progress_every = syn.check_progress(progress, progress_every)
    seed = check_int("seed", seed)
    if baseline is None:
        baseline = float(tf.reduce_mean(images))
    baseline = tf.broadcast_to(tf.constant(np.asarray(baseline, "float32")), tf.shape(images))

    settings = (
        "invert_features",
        layer,
        learning_rate,
        tv_weight,
        tv_beta,
        alpha_weight,
        alpha,
        value_range,
        progress_every,
        jit_compile,
    )

    def build():
        taps = feature_extractor(model, [layer])

        def code(x):
            return tf.cast(taps(x, training=False)[layer], tf.float32)

        def distance(x, target):
            axes = list(range(1, len(target.shape)))
            error = tf.reduce_sum(tf.square(code(x) - target), axis=axes)
            return error / (tf.reduce_sum(tf.square(target), axis=axes) + 1e-12)

        def step(state, index):
            x, m, v, target, base = state
            with tf.GradientTape() as tape:
                tape.watch(x)
                error = distance(x, target)
                loss = error
                if tv_weight:
                    loss = loss + tv_weight * syn.total_variation(x, tv_beta)
                if alpha_weight:
                    loss = loss + alpha_weight * syn.alpha_norm(x - base, alpha)
                total = tf.reduce_sum(loss)
            gradient = tape.gradient(total, x)
            x, m, v = syn.adam_update(x, gradient, m, v, index + 1, learning_rate)
            if value_range is not None:
                x = tf.clip_by_value(x, *value_range)
            return (x, m, v, target, base), (loss, error)

        loop = syn.compiled_loop(step, ("loss", "feature_error"), progress_every, jit_compile)
        return (
            loop,
            tf.function(code, reduce_retracing=True),
            tf.function(distance, reduce_retracing=True),
        )

    loop, code, distance = syn.cached(model, settings, build)
    target = code(images)
    if isinstance(init, str) and init == "random":
        start = baseline + 0.2 * tf.random.stateless_normal(tf.shape(images), seed=[seed, 11])
    elif isinstance(init, str) and init == "zeros":
        start = baseline
    else:
        start = syn.initial_images(init, tuple(images.shape), seed)
    if value_range is not None:
        start = tf.clip_by_value(start, *value_range)
    zeros = tf.zeros_like(start)
    state, history = syn.run_loop(
        loop,
        (start, zeros, zeros, target, baseline),
        steps,
        ("loss", "feature_error"),
        progress_every,
        progress,
    )
    result = state[0]
    return syn.OptimizationResult(
        images=result.numpy(), history=history, scores=distance(result, target).numpy()
    )


def invert_from_layers(model, images, layers, **kwargs):
    """Reconstruct ``images`` from each of several layers (the seeds' "reconstructions from
    intermediate layers" figure).

    Args:
        model, images: as in :func:`invert_features`.
        layers: layer names, shallow to deep.
        **kwargs: passed to :func:`invert_features` (steps, priors, ...).

    Returns:
        ``{layer: OptimizationResult}`` in the order of ``layers``; compare the reconstructions
        with the originals with :func:`reconstruction_error`.
    """
    images = check_image_batch("images", images, allow_single=True)
    layers = _check_layers(model, layers)
    return {name: invert_features(model, images, name, **kwargs) for name in layers}


def reconstruction_error(reconstructions, originals):
    """Mean squared pixel error per image, ``(batch,)``."""
    reconstructions = np.asarray(reconstructions, "float32")
    originals = np.asarray(originals, "float32")
    if reconstructions.shape != originals.shape:
        raise ValueError(
            f"shapes differ: reconstructions {reconstructions.shape}, originals {originals.shape}."
        )
    return np.mean((reconstructions - originals) ** 2, axis=tuple(range(1, originals.ndim)))
