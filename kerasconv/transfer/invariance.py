"""Invariance of features to translation, scale and rotation (seed 000, "Translation / Scale /
Rotation"; Zeiler & Fergus 2014, Fig. 5).

For a few images, transform each by a sweep of amounts (vertical translation in pixels, scale
factor, rotation in degrees) and record

* the Euclidean distance between the features of the transformed and the original image at the
  first layer and at the top hidden layer, divided by the norm of the original's features so the
  layers compare (Zeiler & Fergus plot the raw distance; ``normalize=False`` gives it), and
* the probability the model gives the true class.

Zeiler & Fergus found the first layer's features change sharply with any transformation, the top
layer's much less (quasi-linearly for translation and scale), and the output stays stable under
translation and scale but not under rotation, except for rotationally symmetric objects.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_image_batch, check_labels

TRANSFORMS = ("translation", "horizontal_translation", "scale", "rotation")
DEFAULT_AMOUNTS = {
    "translation": np.arange(-8, 9, 2, dtype="float32"),
    "horizontal_translation": np.arange(-8, 9, 2, dtype="float32"),
    "scale": np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.7], dtype="float32"),
    "rotation": np.arange(-180, 181, 30, dtype="float32"),
}
UNITS = {
    "translation": "vertical shift (pixels)",
    "horizontal_translation": "horizontal shift (pixels)",
    "scale": "scale factor",
    "rotation": "rotation (degrees)",
}


def _inverse_map(kind, amount, height, width):
    """The 8 numbers of ``keras.ops.image.affine_transform``: output pixel -> input pixel."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    if kind == "translation":  # content moves down by ``amount`` pixels
        return [1.0, 0.0, 0.0, 0.0, 1.0, -amount, 0.0, 0.0]
    if kind == "horizontal_translation":  # content moves right
        return [1.0, 0.0, -amount, 0.0, 1.0, 0.0, 0.0, 0.0]
    if kind == "scale":  # content grows by ``amount`` about the centre
        inverse = 1.0 / amount
        return [inverse, 0.0, cx - inverse * cx, 0.0, inverse, cy - inverse * cy, 0.0, 0.0]
    # rotation: counter-clockwise on screen by ``amount`` degrees about the centre
    theta = math.radians(amount)
    cos, sin = math.cos(theta), math.sin(theta)
    return [
        cos,
        -sin,
        cx - cos * cx + sin * cy,
        sin,
        cos,
        cy - sin * cx - cos * cy,
        0.0,
        0.0,
    ]


def transform_images(images, kind, amount, interpolation="bilinear"):
    """``images`` translated, scaled or rotated by ``amount``, with zeros filled in.

    ``kind``: ``"translation"`` (content down by ``amount`` pixels), ``"horizontal_translation"``
    (right), ``"scale"`` (factor about the centre) or ``"rotation"`` (degrees, counter-clockwise).
    """
    check_choice("kind", kind, TRANSFORMS)
    images = check_image_batch("images", images, allow_single=True)
    if kind == "scale" and not amount > 0:
        raise ValueError(f"a scale factor must be > 0; got {amount}.")
    height, width = int(images.shape[1]), int(images.shape[2])
    transform = tf.constant([_inverse_map(kind, float(amount), height, width)], tf.float32)
    transform = tf.repeat(transform, tf.shape(images)[0], axis=0)
    return keras.ops.image.affine_transform(
        images, transform, interpolation=interpolation, fill_mode="constant", fill_value=0.0
    )


@dataclasses.dataclass
class InvarianceCurves:
    """One sweep. ``distances[layer]`` and ``probabilities`` are ``(amounts, images)`` arrays."""

    kind: str
    amounts: np.ndarray
    layers: list
    distances: dict
    probabilities: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    normalized: bool

    @property
    def unit(self):
        return UNITS[self.kind]

    def mean_distance(self, layer):
        return self.distances[layer].mean(axis=1)

    def mean_probability(self):
        return self.probabilities.mean(axis=1)

    def accuracy(self):
        """Fraction of images still classified correctly at each amount."""
        return (self.predictions == self.labels[None]).mean(axis=1)

    def to_dict(self):
        return {
            "kind": self.kind,
            "amounts": self.amounts.tolist(),
            "mean_distance": {layer: self.mean_distance(layer).tolist() for layer in self.layers},
            "mean_true_class_probability": self.mean_probability().tolist(),
            "accuracy": self.accuracy().tolist(),
            "normalized": self.normalized,
        }


def default_layers(model):
    """The first layer with weights and the last hidden layer before the classifier."""
    weighted = [layer.name for layer in model.layers if layer.weights]
    if len(weighted) < 2:
        raise ValueError(f"Model {model.name!r} needs two layers with weights; pass layers=.")
    return [weighted[0], weighted[-2]]


def _probabilities(outputs):
    outputs = np.asarray(outputs, dtype="float64")
    sums = outputs.sum(axis=-1)
    if np.all(outputs >= 0) and np.allclose(sums, 1.0, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def invariance_study(
    model,
    images,
    labels,
    kind="translation",
    amounts=None,
    layers=None,
    normalize=True,
    batch_size=256,
):
    """Feature distances and true-class probability over a sweep of one transformation.

    Args:
        model: a classifier (softmax or logits output).
        images: ``(n, H, W, C)`` images (a handful is enough: the seed used five).
        labels: their true classes.
        kind: ``"translation"`` (vertical, as in the seed), ``"horizontal_translation"``,
            ``"scale"`` or ``"rotation"``.
        amounts: the sweep (default: ``DEFAULT_AMOUNTS[kind]``; it should contain the identity,
            0 or 1, where the distance is 0).
        layers: layers to compare (default: the first and the top hidden layer).
        normalize: divide each distance by the norm of the original image's features.

    Returns:
        an ``InvarianceCurves``.
    """
    from kerasconv.transfer.features import extract_features

    check_choice("kind", kind, TRANSFORMS)
    images = check_image_batch("images", images).numpy()
    labels = check_labels("labels", labels, len(images)).numpy()
    amounts = np.asarray(DEFAULT_AMOUNTS[kind] if amounts is None else amounts, dtype="float32")
    if amounts.ndim != 1 or len(amounts) == 0:
        raise ValueError(f"amounts must be a non-empty 1-D sequence; got {amounts!r}.")
    layers = default_layers(model) if layers is None else list(layers)
    output_layer = model.layers[-1].name
    taps = list(dict.fromkeys(layers + [output_layer]))
    transformed = np.concatenate(
        [transform_images(images, kind, amount).numpy() for amount in amounts]
    )
    original = extract_features(model, taps, images, batch_size=batch_size)
    swept = extract_features(model, taps, transformed, batch_size=batch_size)
    count, steps = len(images), len(amounts)
    distances = {}
    for layer in layers:
        reference = original[layer]
        moved = swept[layer].reshape(steps, count, -1)
        distance = np.linalg.norm(moved - reference[None], axis=-1)
        if normalize:
            distance = distance / (np.linalg.norm(reference, axis=-1)[None] + 1e-12)
        distances[layer] = distance
    outputs = _probabilities(swept[output_layer]).reshape(steps, count, -1)
    probabilities = np.take_along_axis(outputs, labels[None, :, None], axis=-1)[..., 0]
    return InvarianceCurves(
        kind=kind,
        amounts=amounts,
        layers=layers,
        distances=distances,
        probabilities=probabilities,
        predictions=outputs.argmax(axis=-1),
        labels=labels,
        normalized=bool(normalize),
    )
