"""DeepDream (Mordvintsev, Olah & Tyka 2015, "Inceptionism: going deeper into neural networks").

Gradient ascent on the image to boost whatever a layer already sees: the objective is the mean
squared activation of the chosen layers, so every feature that slightly fires is amplified (the
feedback loop that turns clouds into dogs). The recipe of the original notebook:

* **octaves**: the image is processed at ``octaves`` scales, each ``octave_scale`` (1.4) times
  the previous; after each octave the *detail* it added (result minus that octave's base) is
  upscaled and re-injected into the next, larger base, so large structures form at coarse scales;
* **jitter**: a random circular shift before each gradient, so the pattern does not lock onto the
  pixel grid;
* **normalised steps**: the gradient is divided by its mean absolute value;
* **tiled gradients**: the (shifted) image is cut into tiles of the network's input size and the
  gradient is computed tile group by tile group, so any image size works, with bounded memory,
  even on a network whose input size is fixed.

One compiled loop per octave size (the loop is traced once more for a new size, then reused).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_float, check_image_batch, check_int
from kerasconv.models.features import feature_extractor, find_layer
from kerasconv.visualize import _synthesis as syn


def _tile_size(model, tile_size):
    if tile_size == "auto":
        shape = syn.model_input_shape(model)
        if shape is None or shape[0] is None or shape[1] is None:
            return None
        return (int(shape[0]), int(shape[1]))
    if tile_size is None:
        return None
    if isinstance(tile_size, int):
        tile_size = (tile_size, tile_size)
    height, width = (check_int("tile_size", int(side), minimum=1) for side in tile_size)
    return (height, width)


def to_tiles(images, tile):
    """Cut an NHWC batch into ``tile``-sized tiles, mirroring the image into the bottom and right
    padding (zeros would create strong edges there that the ascent would amplify); the image must
    be at least half a tile in each direction.

    Returns ``(tiles, grid)`` with tiles ``(B * rows * columns, th, tw, C)`` and ``grid`` the
    ``(rows, columns)``; :func:`from_tiles` inverts it.
    """
    th, tw = tile
    shape = tf.shape(images)
    rows = (shape[1] + th - 1) // th
    columns = (shape[2] + tw - 1) // tw
    padded = tf.pad(
        images,
        [[0, 0], [0, rows * th - shape[1]], [0, columns * tw - shape[2]], [0, 0]],
        mode="SYMMETRIC",
    )
    channels = images.shape[-1]
    tiles = tf.reshape(padded, tf.stack([shape[0], rows, th, columns, tw, channels]))
    tiles = tf.transpose(tiles, [0, 1, 3, 2, 4, 5])
    return tf.reshape(tiles, tf.stack([-1, th, tw, channels])), (rows, columns)


def from_tiles(tiles, grid, image_shape):
    """Reassemble :func:`to_tiles`' output into images of ``image_shape`` ``(B, H, W, C)``."""
    rows, columns = grid
    th, tw, channels = tiles.shape[1], tiles.shape[2], tiles.shape[3]
    batch = image_shape[0]
    images = tf.reshape(tiles, tf.stack([batch, rows, columns, th, tw, channels]))
    images = tf.transpose(images, [0, 1, 3, 2, 4, 5])
    images = tf.reshape(images, tf.stack([batch, rows * th, columns * tw, channels]))
    return images[:, : image_shape[1], : image_shape[2], :]


def _layer_weights(layers, layer_weights):
    if layer_weights is None:
        return {name: 1.0 for name in layers}
    if not isinstance(layer_weights, dict) or set(layer_weights) != set(layers):
        raise ValueError("layer_weights must be a dict with one weight per layer in layers.")
    return {name: check_float(f"layer_weights[{name!r}]", w) for name, w in layer_weights.items()}


def dream_objective(model, layers, layer_weights=None):
    """A traceable ``images -> (batch,)`` DeepDream objective: the weighted sum over ``layers`` of
    the mean squared activation (use it to measure how much a dream boosted a layer)."""
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    for name in layers:
        find_layer(model, name)
    weights = _layer_weights(layers, layer_weights)
    taps = feature_extractor(model, layers)

    def objective(images):
        outputs = taps(images, training=False)
        total = 0.0
        for name in layers:
            activation = tf.cast(outputs[name], tf.float32)
            axes = list(range(1, len(activation.shape)))
            total = total + weights[name] * tf.reduce_mean(tf.square(activation), axis=axes)
        return total

    return objective


def deep_dream(
    model,
    images,
    layers,
    steps_per_octave=20,
    step_size=0.01,
    octaves=3,
    octave_scale=1.4,
    jitter=4,
    tile_size="auto",
    tile_batch=64,
    layer_weights=None,
    value_range=(0.0, 1.0),
    seed=0,
    progress=None,
    progress_every=50,
    jit_compile="auto",
):
    """DeepDream ``images`` on ``layers`` (Mordvintsev et al. 2015).

    Args:
        model: a Keras model (any input size, or a fixed one: tiles of that size are used).
        images: ``(batch, H, W, C)`` or one image; all are dreamt at once.
        layers: a layer name or several; their mean squared activations are maximised.
        steps_per_octave: ascent steps at each scale.
        step_size: size of each normalised step (image units).
        octaves, octave_scale: number of scales and the ratio between them (1.4 in the original).
        jitter: maximum random shift in pixels before each gradient.
        tile_size: ``"auto"`` (the model's input size when fixed, otherwise whole images), an int
            or ``(height, width)``, or ``None`` for whole images.
        tile_batch: tiles per gradient computation (bounds memory on large images).
        layer_weights: optional ``{layer: weight}``.
        value_range: clip pixels into ``(low, high)`` after each step (None: no clipping).
        seed, progress, progress_every, jit_compile: as in ``activation_maximization``.

    Returns:
        :class:`OptimizationResult`: ``images`` the dreams (same size as the inputs),
        ``history["objective"]`` ``(octaves * steps_per_octave, batch)`` (each octave at its own
        scale) and ``scores`` the final objective at full size.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5()
        >>> x, _ = kerasconv.data.load_arrays("digits", "test", image_size=32)
        >>> dreams = kerasconv.visualize.deep_dream(model, x[:2], "c3", steps_per_octave=5).images
    """
    images = check_image_batch("images", images, allow_single=True)
    if isinstance(layers, str):
        layers = [layers]
    layers = tuple(layers)
    steps_per_octave = check_int("steps_per_octave", steps_per_octave, minimum=1)
    step_size = check_float("step_size", step_size, 0.0, strict_minimum=True)
    octaves = check_int("octaves", octaves, minimum=1)
    octave_scale = check_float("octave_scale", octave_scale, 1.0, strict_minimum=True)
    jitter = check_int("jitter", jitter, minimum=0)
    tile = _tile_size(model, tile_size)
    tile_batch = check_int("tile_batch", tile_batch, minimum=1)
    value_range = syn.check_range(value_range)
    progress_every = syn.check_progress(progress, progress_every)
    seed = check_int("seed", seed)
    objective = dream_objective(model, layers, layer_weights)
    weights_key = tuple(sorted(_layer_weights(layers, layer_weights).items()))

    settings = (
        "deep_dream",
        layers,
        weights_key,
        step_size,
        jitter,
        tile,
        tile_batch,
        value_range,
        progress_every,
        jit_compile,
    )

    def build():
        def tile_gradient(tiles):
            # Gradient of the per-tile objective, one group of tiles at a time.
            count = tf.shape(tiles)[0]
            groups = (count + tile_batch - 1) // tile_batch
            grads = tf.TensorArray(tf.float32, size=groups, infer_shape=False)
            values = tf.TensorArray(tf.float32, size=groups, infer_shape=False)
            for group in tf.range(groups):
                chunk = tiles[group * tile_batch : (group + 1) * tile_batch]
                with tf.GradientTape() as tape:
                    tape.watch(chunk)
                    value = objective(chunk)
                    total = tf.reduce_sum(value)
                grads = grads.write(group, tape.gradient(total, chunk))
                values = values.write(group, value)
            return tf.ensure_shape(grads.concat(), tiles.shape), values.concat()

        def gradient_of(x, shift):
            shifted = syn.roll(x, shift)
            if tile is None:
                with tf.GradientTape() as tape:
                    tape.watch(shifted)
                    value = objective(shifted)
                    total = tf.reduce_sum(value)
                grad = tape.gradient(total, shifted)
            else:
                with tf.GradientTape() as pad_tape:
                    pad_tape.watch(shifted)
                    tiles, _ = to_tiles(shifted, tile)
                tile_grads, tile_values = tile_gradient(tiles)
                # Back through the tiling and the mirrored padding (its adjoint folds the
                # padding's gradient back onto the pixels it copied).
                grad = pad_tape.gradient(tiles, shifted, output_gradients=tile_grads)
                grad = tf.reshape(grad, tf.shape(shifted))
                grad.set_shape(shifted.shape)
                value = tf.reduce_mean(
                    tf.reshape(tile_values, tf.stack([tf.shape(x)[0], -1])), axis=1
                )
            return syn.roll(grad, -shift), value

        def step(state, index):
            x, seed_value = state
            shift = (
                syn.random_shift(seed_value, index, jitter) if jitter else tf.zeros([2], tf.int32)
            )
            grad, value = gradient_of(x, shift)
            scale = tf.reduce_mean(tf.abs(grad), axis=[1, 2, 3], keepdims=True) + 1e-8
            x = x + step_size * grad / scale
            if value_range is not None:
                x = tf.clip_by_value(x, *value_range)
            return (x, seed_value), (value,)

        def measure(x):
            return gradient_of(x, tf.zeros([2], tf.int32))[1]

        loop = syn.compiled_loop(step, ("objective",), progress_every, jit_compile)
        return loop, tf.function(measure, reduce_retracing=True)

    loop, measure = syn.cached(model, settings, build)
    height, width = int(images.shape[1]), int(images.shape[2])
    bases = [images]
    for octave in range(1, octaves):
        size = (
            max(1, int(round(height / octave_scale**octave))),
            max(1, int(round(width / octave_scale**octave))),
        )
        bases.append(tf.image.resize(images, size, method="bilinear", antialias=True))
    if tile is not None:
        smallest = bases[-1].shape[1:3]
        if smallest[0] * 2 < tile[0] or smallest[1] * 2 < tile[1]:
            raise ValueError(
                f"the smallest octave ({smallest[0]}x{smallest[1]}) is less than half a tile "
                f"({tile[0]}x{tile[1]}); use fewer octaves, a smaller octave_scale or tile_size."
            )
    detail = tf.zeros_like(bases[-1])
    histories = []
    total = steps_per_octave * octaves
    done = [0]

    def octave_progress(step, _, metrics):
        if progress is not None:
            progress(done[0] + step, total, metrics)

    x = images
    for number, base in enumerate(reversed(bases)):
        if tuple(detail.shape) != tuple(base.shape):
            detail = tf.image.resize(detail, tf.shape(base)[1:3], method="bilinear")
        x = base + detail
        if value_range is not None:
            x = tf.clip_by_value(x, *value_range)
        (x, _), history = syn.run_loop(
            loop,
            (x, tf.constant(seed + 1000 * number, tf.int32)),
            steps_per_octave,
            ("objective",),
            progress_every,
            octave_progress,
        )
        done[0] += steps_per_octave
        histories.append(history["objective"])
        detail = x - base
    return syn.OptimizationResult(
        images=x.numpy(),
        history={"objective": np.concatenate(histories, axis=0)},
        scores=measure(x).numpy(),
    )
