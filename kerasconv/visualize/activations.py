"""Feature maps of any layer for any images (the seeds' activation grids)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import check_int, resolve_jit_compile
from kerasconv.models.features import feature_extractor
from kerasconv.visualize._common import check_model, prepare_images


def compiled_extractor(model, layers):
    """A cached, compiled ``x -> {layer: activation}`` for ``model`` (one trace per input size)."""
    check_model(model)
    key = tuple(layers)
    cache = model_cache(model, "activation_extractors")
    if key not in cache:
        extractor = feature_extractor(model, list(key))
        shape = tuple(model.inputs[0].shape[1:])
        signature = None
        if all(side is not None for side in shape):
            signature = [tf.TensorSpec((None,) + shape, tf.float32)]
        cache[key] = tf.function(
            lambda x: {
                name: tf.cast(value, tf.float32)
                for name, value in extractor(x, training=False).items()
            },
            jit_compile=resolve_jit_compile("auto"),
            input_signature=signature,
            reduce_retracing=signature is None,
        )
    return cache[key]


def activations(model, x, layers, batch_size=256):
    """Activations of ``layers`` for images ``x``.

    Args:
        model: a Keras model (nested layers as ``"outer/inner"``).
        x: images ``(batch, H, W, C)`` or one image ``(H, W, C)``.
        layers: a layer name or a list of names.
        batch_size: images per forward pass.

    Returns:
        ``{name: array (batch, ...)}`` for a list of names, or the array for a single name.

    Example:
        >>> maps = kerasconv.visualize.activations(model, x_test[:1], "c1")  # doctest: +SKIP
        >>> maps.shape
        (1, 28, 28, 6)
    """
    single = isinstance(layers, str)
    names = [layers] if single else list(layers)
    if not names:
        raise ValueError("layers must name at least one layer.")
    check_int("batch_size", batch_size, minimum=1)
    x = prepare_images(model, x)
    forward = compiled_extractor(model, names)
    parts = {name: [] for name in names}
    for start in range(0, int(x.shape[0]), batch_size):
        result = forward(x[start : start + batch_size])
        for name in names:
            parts[name].append(result[name].numpy())
    result = {name: np.concatenate(values, axis=0) for name, values in parts.items()}
    return result[names[0]] if single else result


def feature_map_grid_data(activation, channels=None):
    """One image's ``(h, w, C)`` activation as ``(C, h, w)`` maps ready for an image grid."""
    activation = np.asarray(activation)
    if activation.ndim == 4:
        if activation.shape[0] != 1:
            raise ValueError("pass the activation of one image, shape (h, w, C) or (1, h, w, C).")
        activation = activation[0]
    if activation.ndim != 3:
        raise ValueError(f"expected an activation (h, w, C); got shape {activation.shape}.")
    maps = np.moveaxis(activation, -1, 0)
    if channels is not None:
        maps = maps[list(channels)]
    return maps
