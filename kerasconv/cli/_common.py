"""Argument helpers shared by the sub-commands: models, images and datasets named on the command line."""

from __future__ import annotations

import os

from kerasconv.cli import UsageError


def load_model_arg(value, **create_kwargs):
    """A model from ``--model``: a ``.keras`` file, a SavedModel folder is refused, or a registry name."""
    import keras

    if value.endswith(".keras") or os.path.sep in value:
        if not os.path.exists(value):
            raise UsageError(f"model file {value!r} does not exist")
        if os.path.isdir(value):
            raise UsageError(
                f"{value!r} is a folder; pass a .keras file (SavedModels are for serving: "
                "`kerasconv serve`)"
            )
        if value.endswith(".keras"):
            _check_keras_archive(value)
        try:
            return keras.saving.load_model(value, compile=False)
        except Exception as error:  # noqa: BLE001 - any load failure is the user's file
            raise UsageError(f"could not load {value!r} as a Keras model: {error}") from None
    import kerasconv

    return kerasconv.models.create(value, **create_kwargs)


def _check_keras_archive(path):
    """A damaged ``.keras`` file is reported as corrupt (Keras says "File not found" for it)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, OSError):
        damaged, names = path, set()
    if damaged is not None or "config.json" not in names:
        raise UsageError(
            f"model file {path!r} is corrupt or truncated (not a complete .keras zip archive"
            f"{'' if damaged in (None, path) else f'; {damaged!r} is damaged'})"
        )


def _digit_indices(value, count):
    """``digits:N`` -> [N]; ``digits:A-B`` -> A..B inclusive (test digits)."""
    spec = value.split(":", 1)[1]
    try:
        if "-" in spec:
            first, last = (int(part) for part in spec.split("-", 1))
        else:
            first = last = int(spec)
    except ValueError:
        raise UsageError(
            f"image {value!r}: expected digits:N or digits:A-B with integers (test digits)"
        ) from None
    if not 0 <= first <= last < count:
        raise UsageError(f"image {value!r}: digit indices must be in [0, {count - 1}]")
    return list(range(first, last + 1))


def digit_label(value):
    """The true label of ``digits:N`` (test digit N), or ``None`` for any other image argument."""
    if not value.startswith("digits:"):
        return None
    import kerasconv

    _, y = kerasconv.data.load_arrays("digits", "test", image_size=8)
    indices = _digit_indices(value, len(y))
    return int(y[indices[0]]) if len(indices) == 1 else None


def load_images_arg(value, size=None, channels=None):
    """A batch ``(n, H, W, C)`` from an image argument; ``digits:A-B`` gives test digits A to B.

    Every other form gives a batch of one (see ``load_image_arg``).
    """
    import numpy as np

    import kerasconv

    if value.startswith("digits:"):
        x, _ = kerasconv.data.load_arrays("digits", "test", image_size=size or 28)
        images = x[_digit_indices(value, len(x))]
        if channels == 3:
            images = np.repeat(images, 3, axis=-1)
        return images.astype("float32")
    return load_image_arg(value, size=size, channels=channels)[None]


def load_image_arg(value, size=None, channels=None):
    """An image from ``--image``: a PNG/JPEG path, ``digits:N`` (test digit N) or a sample photo name.

    Returns float32 ``(H, W, C)`` in [0, 1], resized to ``size`` (height, width) when given.
    """
    import numpy as np
    import tensorflow as tf

    import kerasconv

    if value.startswith("digits:"):
        x, _ = kerasconv.data.load_arrays("digits", "test", image_size=size or 28)
        indices = _digit_indices(value, len(x))
        if len(indices) != 1:
            raise UsageError(f"image {value!r}: this command takes one image (digits:N)")
        image = x[indices[0]]
    elif value in kerasconv.data.SAMPLE_NAMES:
        image = kerasconv.data.sample_image(value)
    else:
        if not os.path.isfile(value):
            raise UsageError(
                f"--image {value!r} is not a file, digits:N or a sample name "
                f"({', '.join(kerasconv.data.SAMPLE_NAMES)})"
            )
        data = tf.io.read_file(value)
        try:
            image = tf.io.decode_image(data, channels=0, expand_animations=False).numpy()
        except tf.errors.InvalidArgumentError:
            raise UsageError(f"--image {value!r} is not a PNG, JPEG, GIF or BMP image") from None
        image = image.astype("float32") / 255.0
    if channels == 1 and image.shape[-1] == 3:
        image = np.asarray(tf.image.rgb_to_grayscale(image))
    elif channels == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if size is not None and tuple(image.shape[:2]) != tuple(size):
        image = tf.image.resize(image, size, antialias=True).numpy().clip(0, 1)
    return image.astype("float32")


def model_image_size(model):
    """``((height, width), channels)`` of a model's input (``None`` where unknown)."""
    shape = model.inputs[0].shape
    return (shape[1], shape[2]), shape[3]
