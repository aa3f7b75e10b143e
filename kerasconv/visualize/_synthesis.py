"""Shared machinery of the image-optimisation methods (activation maximisation, inversion,
DeepDream, style transfer): the compiled step loop, its cache, Adam on plain tensors, and the image
priors (Gaussian blur, total variation, jitter, percentile clipping).

Every method writes a ``step(state, step_index) -> (state, metrics)`` function of tensors and hands
it to :func:`compiled_loop`, which wraps it in ONE ``tf.function`` looping over ``tf.range``. The
Python driver :func:`run_loop` calls that compiled loop in chunks of ``chunk`` steps so a progress
callback can be called between chunks; the chunk length is a tensor argument, so a short last chunk
does not retrace. Loops are cached per (model, settings) on the model (``kerasconv._cache``), like
``kerasconv.gradients`` does, so a second call with the same model and settings reuses the graph.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import check_float, check_int, resolve_jit_compile


@dataclasses.dataclass
class OptimizationResult:
    """What an image-optimisation method returns.

    Attributes:
        images: the optimised images, float32 NumPy ``(batch, H, W, C)``.
        history: ``{name: (steps, batch) array}`` of per-step, per-sample quantities (the score or
            loss before each step's update), for convergence plots and tests.
        scores: the final per-sample objective (score for maximisation, loss for minimisation).
        stuck: activation maximisation only: ``(batch,)`` bool, targets whose score never moved
            (dead units); ``None`` elsewhere.
        restarted: activation maximisation only: targets restarted from a waking start.
    """

    images: np.ndarray
    history: dict
    scores: np.ndarray
    stuck: np.ndarray | None = None
    restarted: np.ndarray | None = None


def cached(model, key, build):
    """Return the object cached for ``(model, key)``, building it with ``build()`` on a miss."""
    try:
        cache = model_cache(model, "synthesis_loops")
    except TypeError:  # not weak-referenceable (a plain function): no caching
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def compiled_loop(step_fn, metric_names, chunk, jit_compile):
    """One ``tf.function`` running ``step_fn`` ``count`` times from step ``start``.

    ``step_fn(state, step) -> (state, metrics)`` where ``state`` is a tuple of tensors of fixed
    shapes and ``metrics`` a tuple of ``(batch,)`` float tensors (one per name). The compiled
    function ``loop(state, start, count)`` returns the final state and a ``(count, batch)`` history
    per metric; ``count <= chunk`` (history buffers have the static length ``chunk``).
    """
    names = tuple(metric_names)

    def loop(state, start, count):
        batch = tf.shape(state[0])[0]
        buffers = tuple(tf.zeros(tf.stack([chunk, batch]), tf.float32) for _ in names)
        for index in tf.range(count):
            state, metrics = step_fn(state, start + index)
            buffers = tuple(
                tf.tensor_scatter_nd_update(buffer, [[index]], [tf.cast(metric, tf.float32)])
                for buffer, metric in zip(buffers, metrics, strict=True)
            )
        return state, tuple(buffer[:count] for buffer in buffers)

    return tf.function(loop, reduce_retracing=True, jit_compile=resolve_jit_compile(jit_compile))


def run_loop(loop, state, steps, metric_names, chunk, progress=None):
    """Drive a :func:`compiled_loop` for ``steps`` steps; returns ``(state, history)``.

    ``progress(step, total, metrics)`` is called after every chunk with the number of steps done and
    the batch mean of each metric at the last step.
    """
    done = 0
    pieces = {name: [] for name in metric_names}
    state = tuple(state)
    while done < steps:
        count = min(chunk, steps - done)
        state, history = loop(state, tf.constant(done, tf.int32), tf.constant(count, tf.int32))
        state = tuple(state)
        for name, values in zip(metric_names, history, strict=True):
            pieces[name].append(values.numpy())
        done += count
        if progress is not None:
            progress(
                done, steps, {name: float(np.mean(pieces[name][-1][-1])) for name in metric_names}
            )
    history = {
        name: np.concatenate(values, axis=0) if values else np.zeros((0,), "float32")
        for name, values in pieces.items()
    }
    return state, history


def check_progress(progress, progress_every):
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be a callable (step, total, metrics) or None; got {progress!r}."
        )
    return check_int("progress_every", progress_every, minimum=1)


def adam_update(x, gradient, m, v, t, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One Adam step (Kingma & Ba 2015) on plain tensors, descending ``gradient``; ``t`` >= 1."""
    m = beta1 * m + (1.0 - beta1) * gradient
    v = beta2 * v + (1.0 - beta2) * tf.square(gradient)
    t = tf.cast(t, tf.float32)
    m_hat = m / (1.0 - tf.pow(beta1, t))
    v_hat = v / (1.0 - tf.pow(beta2, t))
    return x - learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon), m, v


def gaussian_kernel(sigma):
    """A normalised 1-D Gaussian of standard deviation ``sigma`` (radius ``ceil(3 sigma)``)."""
    radius = max(1, int(math.ceil(3.0 * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype="float64")
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (weights / weights.sum()).astype("float32")


def gaussian_blur(images, sigma):
    """Separable Gaussian blur of an NHWC batch (reflecting borders); ``sigma`` a Python float."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    channels = images.shape[-1]
    vertical = tf.constant(np.tile(kernel[:, None, None, None], (1, 1, channels, 1)))
    horizontal = tf.constant(np.tile(kernel[None, :, None, None], (1, 1, channels, 1)))
    # REFLECT padding needs the pad to be smaller than the side; small images use SYMMETRIC sides.
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="SYMMETRIC")
    blurred = tf.nn.depthwise_conv2d(padded, vertical, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(blurred, horizontal, [1, 1, 1, 1], "VALID")


def total_variation(images, beta=2.0):
    """Per-image total variation of Mahendran & Vedaldi 2015 (R_{V^beta}), averaged over pixels.

    ``mean((dx^2 + dy^2)^(beta / 2))`` over the ``(H-1) x (W-1)`` positions and the channels;
    ``beta = 1`` is the classic (anisotropic-free) TV, ``beta = 2`` the smooth quadratic form.
    """
    dx = images[:, :-1, 1:, :] - images[:, :-1, :-1, :]
    dy = images[:, 1:, :-1, :] - images[:, :-1, :-1, :]
    squared = tf.square(dx) + tf.square(dy)
    if beta == 2.0:
        values = squared
    else:
        # The small offset keeps the gradient finite where the image is flat (beta < 2).
        values = tf.pow(squared + 1e-8, beta / 2.0)
    return tf.reduce_mean(values, axis=[1, 2, 3])


def alpha_norm(images, alpha=6.0):
    """Per-image mean ``|x|^alpha`` (Mahendran & Vedaldi's alpha-norm prior; large alpha bounds
    the range without a hard clip)."""
    return tf.reduce_mean(tf.pow(tf.abs(images) + 1e-12, alpha), axis=[1, 2, 3])


def random_shift(seed, step, pixels):
    """A deterministic random ``(dy, dx)`` in ``[-pixels, pixels]`` for this step (traceable)."""
    return tf.random.stateless_uniform(
        [2],
        seed=tf.stack([tf.cast(seed, tf.int32), tf.cast(step, tf.int32)]),
        minval=-pixels,
        maxval=pixels + 1,
        dtype=tf.int32,
    )


def roll(images, shift):
    """Circularly shift an NHWC batch by ``shift = (dy, dx)`` (jitter; gradients roll back)."""
    return tf.roll(images, shift=shift, axis=[1, 2])


def below_percentile(values, percentile):
    """Mask ``(B, H, W)``: True on the ``floor(percentile / 100 * H * W)`` smallest ``values`` of
    each image (0-100).

    Exactly that many pixels per image, ties included: pixels of equal value are taken in raster
    order (a plain ``values < threshold`` would clip nothing when more than that share is tied at
    the threshold, e.g. zero contributions where every ReLU is dead).
    """
    shape = tf.shape(values)
    flat = tf.reshape(values, [shape[0], -1])
    count = tf.shape(flat)[1]
    k = tf.cast(tf.floor(percentile / 100.0 * tf.cast(count, tf.float32)), tf.int32)
    order = tf.argsort(flat, axis=1, stable=True)
    rank = tf.argsort(order, axis=1, stable=True)  # each pixel's place in its image's order
    return tf.reshape(rank < k, shape)


def normalize_gradient(gradient):
    """Divide each image's gradient by its RMS, so the step size is in image units."""
    rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
    return gradient / (rms + 1e-8)


def check_range(value_range):
    """``None`` or a ``(low, high)`` pair with ``low < high``."""
    if value_range is None:
        return None
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise TypeError(f"value_range must be None or (low, high); got {value_range!r}.") from None
    if not low < high:
        raise ValueError(f"value_range must have low < high; got {value_range!r}.")
    return (low, high)


def model_input_shape(model):
    """The model's input shape without the batch axis, e.g. ``(32, 32, 1)`` (None where free)."""
    try:
        return tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


def initial_images(init, shape, seed, baseline=0.0, scale=0.1):
    """The starting batch: ``"zeros"`` (the baseline), ``"random"`` (baseline + N(0, scale)) or an
    array of the right shape."""
    if isinstance(init, str):
        if init == "zeros":
            return tf.zeros(shape, tf.float32) + baseline
        if init == "random":
            noise = tf.random.stateless_normal(shape, seed=[int(seed), 7]) * scale
            return noise + baseline
        raise ValueError(f"init must be 'zeros', 'random' or an image batch; got {init!r}.")
    array = tf.convert_to_tensor(np.asarray(init, dtype="float32"))
    if array.shape.rank == len(shape) - 1:
        array = tf.repeat(array[None], shape[0], axis=0)
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"init must have shape {tuple(shape)}; got {tuple(array.shape)}.")
    return array


def check_weight(name, value):
    return check_float(name, value, minimum=0.0)
