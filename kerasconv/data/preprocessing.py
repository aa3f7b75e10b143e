"""Preprocessing: per-channel standardisation fitted on the training split, and augmentation.

Augmentation uses Keras 3's own preprocessing layers (the seeds' "data augmentation": flips,
crops, translations), which run inside ``tf.data`` or inside a model.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kerasconv._validation import check_choice, check_float

FILL_MODES = ("reflect", "constant", "wrap", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def fit_standardization(data, name="standardize"):
    """A ``keras.layers.Normalization`` with per-channel mean and variance fitted on ``data``.

    ``data``: a ``tf.data.Dataset`` of images or ``(images, labels)``, or an image array. Fit it on
    the training split only and put it first in the model (or map it over every split).
    """
    if isinstance(data, tf.data.Dataset):
        element = data.element_spec
        if isinstance(element, tuple):
            data = data.map(lambda x, *rest: x)
    layer = keras.layers.Normalization(axis=-1, name=name)
    layer.adapt(data)
    return layer


def augmentation(
    flip=False,
    translate=0.1,
    zoom=0.0,
    rotate=0.0,
    crop=None,
    seed=0,
    name="augmentation",
    fill_mode="reflect",
    interpolation="bilinear",
):
    """A ``keras.Sequential`` of random augmentations, active only in training.

    Args:
        flip: random horizontal flips (off by default: a flipped digit is another symbol).
        translate: fraction of height/width for random translations.
        zoom: fraction for random zoom in/out.
        rotate: fraction of a full turn for random rotations.
        crop: ``(height, width)`` for random crops (then the output is that size).
        seed: random seed.
        fill_mode: what the translations, zooms and rotations put where the image moved away:
            ``"reflect"`` (Keras's default: a mirror image of the border), ``"constant"`` (zeros,
            black: for objects on a black background such as Fashion-MNIST and the digits, where a
            reflection adds a mirrored copy of the object's edge), ``"wrap"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (Keras's default: shifts by fractions of a pixel, which
            blur) or ``"nearest"`` (whole-pixel shifts; with ``fill_mode="constant"`` a
            translation is He et al.'s "pad with zeros, crop at random").
    """
    translate = check_float("translate", translate, 0.0, 1.0)
    zoom = check_float("zoom", zoom, 0.0, 1.0)
    rotate = check_float("rotate", rotate, 0.0, 1.0)
    fill_mode = check_choice("fill_mode", fill_mode, FILL_MODES)
    interpolation = check_choice("interpolation", interpolation, INTERPOLATIONS)
    moves = dict(fill_mode=fill_mode, interpolation=interpolation, seed=seed)
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if crop is not None:
        layers.append(keras.layers.RandomCrop(*crop, seed=seed))
    if translate:
        layers.append(keras.layers.RandomTranslation(translate, translate, **moves))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, **moves))
    if rotate:
        layers.append(keras.layers.RandomRotation(rotate, **moves))
    if not layers:
        raise ValueError("augmentation() was asked for no augmentation at all.")
    return keras.Sequential(layers, name=name)
