"""Gradient attributions: saliency maps, SmoothGrad, integrated gradients, gradient × input.

Every function takes a Keras classifier, a batch of images and a target, and returns one raw map
per sample as a NumPy array; drawing is in :mod:`kerasconv.visualize.plot`. They all run on
:class:`kerasconv.gradients.GradientEngine`, compiled once per model and not retraced on new data.

``target``: ``None`` (the model's own predicted class), an int, one class index per sample, or a
callable ``score_fn(logits, target) -> (batch,)``. Scores are pre-softmax logits (a softmax at the
model's end is removed), as in Simonyan et al., because probabilities saturate.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.visualize._common import engine, prepare_images, resolve_target, to_numpy


def _reduce(values, reduce_channels):
    """(B, H, W, C) -> (B, H, W) by ``"max_abs"``, ``"sum"``, ``"sum_abs"``; ``None`` keeps C."""
    if reduce_channels is None:
        return values
    check_choice("reduce_channels", reduce_channels, ("max_abs", "sum", "sum_abs"))
    if reduce_channels == "max_abs":
        return np.max(np.abs(values), axis=-1)
    if reduce_channels == "sum_abs":
        return np.sum(np.abs(values), axis=-1)
    return np.sum(values, axis=-1)


def input_gradients(model, x, target=None, *, output=None, use_logits=True):
    """The raw gradient ∂S/∂x of the target score, shape ``(batch, H, W, C)``."""
    x = prepare_images(model, x)
    score_fn, target = resolve_target(model, x, target, output, use_logits)
    _, gradient = engine(model, output=output, score_fn=score_fn, use_logits=use_logits)(x, target)
    return to_numpy(gradient)


def saliency_map(model, x, target=None, *, output=None, use_logits=True, reduce_channels="max_abs"):
    """Image-specific class saliency (Simonyan, Vedaldi & Zisserman 2013, "Deep inside
    convolutional networks").

    ``M_ij = max_c |∂S/∂x_ijc|`` for the target class score ``S`` (a logit).

    Returns:
        ``(batch, H, W)`` (or ``(batch, H, W, C)`` with ``reduce_channels=None``).

    Example:
        >>> maps = kerasconv.visualize.saliency_map(model, x_test[:8])  # doctest: +SKIP
    """
    gradient = input_gradients(model, x, target, output=output, use_logits=use_logits)
    return _reduce(gradient, reduce_channels)


def gradient_times_input(
    model, x, target=None, *, output=None, use_logits=True, reduce_channels="sum"
):
    """Gradient × input (Shrikumar et al. 2016), summed over channels by default:
    ``(batch, H, W)``."""
    images = prepare_images(model, x)
    gradient = input_gradients(model, images, target, output=output, use_logits=use_logits)
    return _reduce(gradient * to_numpy(images), reduce_channels)


def smoothgrad(
    model,
    x,
    target=None,
    *,
    noise_level=0.15,
    samples=50,
    squared=False,
    seed=0,
    output=None,
    use_logits=True,
    reduce_channels="max_abs",
):
    """SmoothGrad (Smilkov et al. 2017): the gradient averaged over noisy copies of the input.

    Args:
        noise_level: standard deviation of the Gaussian noise as a fraction of each image's range
            ``max(x) - min(x)`` (the paper recommends 10–20%).
        samples: number of noisy copies (the paper uses about 50).
        squared: average the squared gradients (SmoothGrad-Squared) instead.
        seed: the noise is deterministic for a seed and does not depend on the batch.

    Returns:
        ``(batch, H, W)`` maps (``max_c |·|`` of the averaged gradient by default).
    """
    check_float("noise_level", noise_level, minimum=0.0)
    check_int("samples", samples, minimum=1)
    check_int("seed", seed, minimum=0)
    x = prepare_images(model, x)
    score_fn, target = resolve_target(model, x, target, output, use_logits)
    spread = tf.reduce_max(x, axis=[1, 2, 3]) - tf.reduce_min(x, axis=[1, 2, 3])
    stddev = noise_level * spread
    gradient_engine = engine(model, output=output, score_fn=score_fn, use_logits=use_logits)
    averaged = gradient_engine.smooth(x, target, stddev, samples, seed=seed, squared=squared)
    return _reduce(to_numpy(averaged), reduce_channels)


_METHODS = ("gauss_legendre", "riemann_trapezoid", "riemann_middle", "riemann_left")


def path_points(steps, method="riemann_trapezoid"):
    """Interpolation points ``alphas`` in [0, 1] and quadrature weights summing to 1."""
    check_int("steps", steps, minimum=1)
    check_choice("method", method, _METHODS)
    if method == "gauss_legendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    if method == "riemann_trapezoid":
        if steps < 2:
            raise ValueError("riemann_trapezoid needs steps >= 2.")
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
        return alphas, weights
    if method == "riemann_middle":
        return (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    return np.arange(steps) / steps, np.full(steps, 1.0 / steps)


def _baseline_like(x, baseline):
    if baseline is None:
        return tf.zeros_like(x)
    if np.isscalar(baseline):
        return tf.fill(tf.shape(x), tf.constant(float(baseline), tf.float32))
    baseline = tf.convert_to_tensor(baseline, tf.float32)
    if baseline.shape.rank == 3:
        baseline = baseline[None]
    try:
        return tf.broadcast_to(baseline, tf.shape(x))
    except (tf.errors.InvalidArgumentError, ValueError):
        raise ValueError(
            f"baseline of shape {tuple(baseline.shape)} does not match x of shape {tuple(x.shape)}."
        ) from None


def integrated_gradients(
    model,
    x,
    target=None,
    *,
    baseline=None,
    steps=256,
    method="riemann_trapezoid",
    output=None,
    use_logits=True,
    reduce_channels="sum",
    return_delta=False,
):
    """Integrated gradients (Sundararajan, Taly & Yan 2017, "Axiomatic attribution").

    ``(x - x') · ∫₀¹ ∂S(x' + α(x - x'))/∂x dα`` with the integral by quadrature over ``steps``
    points (the trapezoidal rule by default), all inside one compiled loop. By completeness the
    attributions of a sample sum to ``S(x) - S(x')``. A ReLU network's path gradient is piecewise
    constant, so the quadrature error falls only like ``1/steps``: on the digits LeNet-5 the worst
    sample is 1.8% off at 64 steps and 0.4% at the default 256.

    Args:
        baseline: ``None`` (black image), a number, or an image / batch of images.
        steps: quadrature points; at the default 256 the sum is within 1% of ``S(x) - S(x')``.
        method: ``"gauss_legendre"``, ``"riemann_trapezoid"``, ``"riemann_middle"``,
            ``"riemann_left"``.
        reduce_channels: ``"sum"`` (default, keeps completeness), ``"sum_abs"``, ``"max_abs"`` or
            ``None`` for ``(batch, H, W, C)``.
        return_delta: also return ``sum(attributions) - (S(x) - S(x'))`` per sample.
    """
    x = prepare_images(model, x)
    base = _baseline_like(x, baseline)
    score_fn, target = resolve_target(model, x, target, output, use_logits)
    alphas, weights = path_points(steps, method)
    gradient_engine = engine(model, output=output, score_fn=score_fn, use_logits=use_logits)
    average = gradient_engine.integrated(x, base, target, alphas, weights)
    attributions = to_numpy(average * (x - base))
    maps = _reduce(attributions, reduce_channels)
    if not return_delta:
        return maps
    score_at_x, _ = gradient_engine(x, target)
    score_at_base, _ = gradient_engine(base, target)
    delta = attributions.reshape(len(attributions), -1).sum(axis=1) - (
        to_numpy(score_at_x) - to_numpy(score_at_base)
    )
    return maps, delta
