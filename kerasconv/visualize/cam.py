"""Class activation maps from gradients: Grad-CAM and Grad-CAM++.

Both weight the feature maps ``A^k`` of a convolutional layer by how much the target score depends
on them and keep the positive part. The layer defaults to the last one with spatial extent, found
automatically, also inside a nested backbone (``"backbone/block5_conv3"``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv.models.features import find_layer
from kerasconv.visualize._common import (
    default_spatial_layer,
    engine,
    prepare_images,
    resolve_target,
    to_numpy,
)


def _layer_gradients(model, x, target, layer, output, use_logits):
    x = prepare_images(model, x)
    layer = default_spatial_layer(model) if layer is None else layer
    find_layer(model, layer)
    score_fn, target = resolve_target(model, x, target, output, use_logits)
    gradient_engine = engine(
        model, layer=layer, output=output, score_fn=score_fn, use_logits=use_logits
    )
    _, gradient, activation = gradient_engine(x, target)
    if gradient.shape.rank != 4:
        raise ValueError(
            f"Layer {layer!r} has output shape {tuple(activation.shape)}; Grad-CAM needs a layer "
            "with spatial extent (batch, height, width, channels)."
        )
    return x, gradient, activation


def _finish(x, cam, upsample):
    if upsample:
        cam = tf.image.resize(cam[..., None], tf.shape(x)[1:3], method="bilinear")[..., 0]
    return to_numpy(cam)


def grad_cam(model, x, target=None, *, layer=None, output=None, use_logits=True, upsample=True):
    """Grad-CAM (Selvaraju et al. 2017): ``ReLU(Σ_k α_k A^k)`` with ``α_k = mean_ij ∂S/∂A^k_ij``.

    Args:
        layer: a layer with spatial extent (default: the last one, found automatically).
        upsample: resize the map bilinearly to the input size (``(batch, H, W)``); ``False``
            returns it at the layer's resolution ``(batch, h, w)``.

    Example:
        >>> cam = kerasconv.visualize.grad_cam(model, x_test[:4], layer="c3")  # doctest: +SKIP
    """
    x, gradient, activation = _layer_gradients(model, x, target, layer, output, use_logits)
    weights = tf.reduce_mean(gradient, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * activation, axis=-1))
    return _finish(x, cam, upsample)


def grad_cam_plus_plus(
    model, x, target=None, *, layer=None, output=None, use_logits=True, upsample=True
):
    """Grad-CAM++ (Chattopadhay et al. 2018): pixel-wise weights
    ``α^kc_ij = g² / (2 g² + Σ_ab A^k_ab g³)`` on the positive gradients ``g = ∂S/∂A``
    (the paper's closed form for an exponential of the score), ``w_k = Σ_ij α^kc_ij ReLU(g_ij)``.
    """
    x, gradient, activation = _layer_gradients(model, x, target, layer, output, use_logits)
    squared = gradient * gradient
    cubed = squared * gradient
    total = tf.reduce_sum(activation, axis=[1, 2], keepdims=True)
    denominator = 2.0 * squared + total * cubed
    safe = tf.where(tf.abs(denominator) > 1e-12, denominator, tf.ones_like(denominator))
    alpha = tf.where(tf.abs(denominator) > 1e-12, squared / safe, tf.zeros_like(squared))
    weights = tf.reduce_sum(alpha * tf.nn.relu(gradient), axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * activation, axis=-1))
    return _finish(x, cam, upsample)


def normalize_maps(maps):
    """Scale each map to [0, 1] (a zero map stays zero)."""
    maps = np.asarray(maps, dtype="float32")
    flat = maps.reshape(len(maps), -1)
    low = flat.min(axis=1)
    span = flat.max(axis=1) - low
    span[span < 1e-12] = 1.0
    return (maps - low.reshape((-1,) + (1,) * (maps.ndim - 1))) / span.reshape(
        (-1,) + (1,) * (maps.ndim - 1)
    )
