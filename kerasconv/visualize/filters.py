"""Convolution kernels as images (the seeds' "Gabor-like" first-layer filters)."""

from __future__ import annotations

import keras
import numpy as np

from kerasconv.models.features import find_layer
from kerasconv.visualize._common import check_model


def _kernel_layers(model, prefix=""):
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_kernel_layers(layer, prefix + layer.name + "/"))
            continue
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) == 4:
            found.append(prefix + layer.name)
    return found


def convolution_layers(model):
    """Names of the layers with a 4-D kernel ``(kh, kw, in, out)``, first to last."""
    check_model(model)
    return _kernel_layers(model)


def filters(model, layer=None):
    """The kernels of a convolution layer as ``(filters, kh, kw, in_channels)``.

    Args:
        model: a Keras model.
        layer: the convolution's name; default the first convolution.

    Example:
        >>> kernels = kerasconv.visualize.filters(model)  # LeNet: (6, 5, 5, 1)  # doctest: +SKIP
    """
    check_model(model)
    if layer is None:
        names = _kernel_layers(model)
        if not names:
            raise ValueError(f"Model {model.name!r} has no convolution layer.")
        layer = names[0]
    target = find_layer(model, layer)
    kernel = getattr(target, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        raise ValueError(
            f"Layer {layer!r} ({type(target).__name__}) has no 2-D convolution kernel "
            "(kh, kw, in, out)."
        )
    return np.moveaxis(np.asarray(keras.ops.convert_to_numpy(kernel), dtype="float32"), -1, 0)


def filter_slices(kernels, max_filters=16, max_inputs=16):
    """Deeper kernels as a grid: ``(filters, inputs, kh, kw)`` single-channel slices."""
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ValueError(f"kernels must be (filters, kh, kw, in); got shape {kernels.shape}.")
    return np.moveaxis(kernels[:max_filters, :, :, :max_inputs], -1, 1)
