"""``kerasconv.data.load``: batched, prefetched ``tf.data`` pipelines for real datasets, offline.

Names:

* ``"digits"`` — scikit-learn's 1,797 real handwritten digits (tfds builder ``sklearn_digits``),
  served at 28×28×1 by default (``image_size`` picks any size; LeNet-5 wants 32).
* ``"fashion_mnist"`` — Zalando's Fashion-MNIST (60,000 train / 10,000 test, 28×28×1, 10 clothing
  classes), the tfds catalogue dataset prepared offline from the IDX files of Debian's
  ``dataset-fashion-mnist`` (see :mod:`kerasconv.data.fashion_mnist`; ``source_dir`` or
  ``$KERASCONV_FASHION_MNIST_DIR`` points elsewhere).
* ``"lfw_faces"`` — scikit-image's LFW subset, faces vs. non-faces, 25×25×1 by default.
* ``"imagefolder"`` — a folder of your own, ``data_dir/<split>/<label>/*.jpg|png`` (tfds ImageFolder).
* any tensorflow-datasets name (``"mnist"``, ``"cifar10"``, ...) through ``tfds.load`` with
  ``download=False`` by default: these machines are offline, so the data must already be prepared
  in ``data_dir`` (or ``$TFDS_DATA_DIR``); when it is absent the error says how to prepare it.

Every pipeline yields ``(images, labels)``: float32 images in [0, 1] of shape ``(batch, H, W, C)``
and int32 labels.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from kerasconv._validation import check_choice, check_int
from kerasconv.data import builders
from kerasconv.data.fashion_mnist import FashionMnist

BUNDLED = {
    "digits": builders.SklearnDigits,
    "fashion_mnist": FashionMnist,
    "lfw_faces": builders.LfwFaces,
}
DEFAULT_SIZES = {"digits": (28, 28), "fashion_mnist": (28, 28), "lfw_faces": (25, 25)}
# Builders that read raw files from a folder of their own (``source_dir``).
_SOURCE_DIR_BUILDERS = ("fashion_mnist",)


def default_data_dir():
    """Where kerasconv prepares its bundled datasets: ``$KERASCONV_DATA_DIR``, ``$TFDS_DATA_DIR``
    or ``~/tensorflow_datasets`` (the tfds default)."""
    return (
        os.environ.get("KERASCONV_DATA_DIR")
        or os.environ.get("TFDS_DATA_DIR")
        or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
    )


@contextlib.contextmanager
def _lock(path):
    """An inter-process file lock so parallel test workers do not prepare the same data twice."""
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def bundled_builder(name, data_dir=None, source_dir=None):
    """The prepared tfds builder of a bundled dataset (prepared on first use, offline).

    ``source_dir`` is where a builder that reads raw files finds them (Fashion-MNIST's IDX files);
    the others ignore it.
    """
    data_dir = os.fspath(data_dir) if data_dir is not None else default_data_dir()
    kwargs = {"source_dir": source_dir} if name in _SOURCE_DIR_BUILDERS else {}
    builder = BUNDLED[name](data_dir=data_dir, **kwargs)
    if not builder.is_prepared():
        with _lock(os.path.join(data_dir, f".kerasconv_{name}.lock")):
            builder = BUNDLED[name](data_dir=data_dir, **kwargs)
            if not builder.is_prepared():
                print(
                    f"kerasconv: preparing the {name} dataset in {data_dir} (once; later runs "
                    "reuse it)",
                    file=sys.stderr,
                    flush=True,
                )
                with _quiet_tfds():
                    builder.download_and_prepare()
    return builder


@contextlib.contextmanager
def _quiet_tfds():
    """tfds's per-example progress bars, off while a bundled dataset is prepared."""
    tfds.disable_progress_bar()
    try:
        yield
    finally:
        tfds.enable_progress_bar()


def _normalise_size(image_size, name):
    if image_size is None:
        return DEFAULT_SIZES.get(name)
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(s, (int, np.integer)) and s > 0 for s in image_size)
    ):
        raise ValueError(
            f"image_size must be a positive int or a (height, width) pair; got {image_size!r}."
        )
    return tuple(int(s) for s in image_size)


def _missing_data_error(name, data_dir, error):
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
    return ValueError(
        f"The tensorflow-datasets dataset {name!r} is not prepared in {where} and kerasconv does "
        "not download (download=False). To prepare it: on a machine with internet access run "
        f"`python -c \"import tensorflow_datasets as tfds; tfds.load('{name}', data_dir='DIR')\"`, "
        "copy DIR to this machine and pass data_dir=DIR (or set TFDS_DATA_DIR=DIR); or, where "
        f"downloads are allowed, call kerasconv.data.load({name!r}, download=True). "
        f"Bundled offline datasets: {', '.join(sorted(BUNDLED))}. (tfds said: "
        f"{str(error).splitlines()[0] if str(error) else type(error).__name__})"
    )


def _raw_dataset(name, split, data_dir, download, shuffle_files, channels, source_dir=None):
    """``(dataset of (uint8 image, label), class_names)`` before resizing and batching."""
    if name in BUNDLED:
        builder = bundled_builder(name, data_dir, source_dir)
        _check_split(split, tuple(builder.info.splits.keys()))
        dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=shuffle_files)
        return dataset, builder.info.features["label"].names
    if name == "imagefolder":
        if data_dir is None:
            raise ValueError(
                "load('imagefolder') needs data_dir=<root folder> laid out as "
                "root/<split>/<label>/<image files>."
            )
        if not os.path.isdir(data_dir):
            raise ValueError(f"data_dir {os.fspath(data_dir)!r} is not a folder.")
        builder = tfds.ImageFolder(os.fspath(data_dir))
        splits = tuple(builder.info.splits.keys())
        if not splits:
            raise ValueError(
                f"No images found under {os.fspath(data_dir)!r}: expected "
                "root/<split>/<label>/<image files> (jpg, png)."
            )
        check_choice("split", split, splits)
        dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=shuffle_files)
        return dataset, builder.info.features["label"].names
    try:
        dataset, info = tfds.load(
            name,
            split=split,
            data_dir=data_dir,
            download=download,
            as_supervised=True,
            with_info=True,
            shuffle_files=shuffle_files,
        )
    except (tfds.core.registered.DatasetNotFoundError, AssertionError, FileNotFoundError) as error:
        if (
            isinstance(error, tfds.core.registered.DatasetNotFoundError)
            and "not found" in str(error).lower()
            and "available" in str(error).lower()
        ):
            raise ValueError(
                f"Unknown dataset {name!r}: not bundled with kerasconv ({', '.join(sorted(BUNDLED))}, "
                "imagefolder) and not in the tensorflow-datasets catalogue."
            ) from None
        raise _missing_data_error(name, data_dir, error) from None
    names = info.features["label"].names if "label" in info.features else None
    return dataset, names


def _check_split(split, splits):
    """Accept a split name or a tfds split expression over known splits (``"train[:10%]+test"``)."""
    if not isinstance(split, str):
        raise TypeError(f"split must be a string; got {type(split).__name__}.")
    for part in split.split("+"):
        check_choice("split", part.split("[", 1)[0].strip(), splits)


def builder_size(name, split, data_dir=None, source_dir=None):
    """The number of examples in a split (expression) of a bundled dataset."""
    builder = bundled_builder(name, data_dir, source_dir)
    return int(builder.info.splits[split].num_examples)


def class_names(name, data_dir=None, source_dir=None):
    """The class names of a dataset (``["0", ..., "9"]`` for the digits)."""
    if name in BUNDLED:
        return list(bundled_builder(name, data_dir, source_dir).info.features["label"].names)
    _, names = _raw_dataset(name, "train", data_dir, False, False, None)
    return list(names)


def load(
    name,
    split="train",
    batch_size=32,
    image_size=None,
    data_dir=None,
    download=False,
    shuffle=None,
    seed=0,
    channels=None,
    augment=None,
    drop_remainder=False,
    source_dir=None,
    resize="bilinear",
):
    """A batched, prefetched ``tf.data.Dataset`` of ``(images in [0, 1], int32 labels)``.

    Args:
        name: ``"digits"``, ``"fashion_mnist"``, ``"lfw_faces"``, ``"imagefolder"`` or any tfds
            name.
        split: ``"train"``, ``"test"`` or any tfds split expression (``"train[:10%]"``).
        batch_size: batch size, or ``None`` for unbatched examples.
        image_size: int or ``(height, width)``; default: 28 for digits, 25 for faces, native
            otherwise (``imagefolder`` needs one, as its images may differ in size).
        data_dir: where tfds data lives (``imagefolder``: the root folder).
        download: let tfds download (off by default: these machines are offline).
        shuffle: shuffle examples each epoch; default ``True`` for the ``"train"`` split and for
            expressions over it (``"train[:10%]"``).
        seed: shuffling seed (reproducible order).
        channels: force 1 (grey) or 3 (RGB) channels; default: the data's own.
        augment: a Keras layer (e.g. ``kerasconv.data.augmentation()``) applied to each batch.
        drop_remainder: drop the last incomplete batch.
        source_dir: where ``"fashion_mnist"`` reads its IDX files (default
            ``$KERASCONV_FASHION_MNIST_DIR`` or ``/usr/share/datasets/fashion-mnist``).
        resize: how images reach ``image_size``: ``"bilinear"`` (antialiased resampling, the
            default) or ``"pad"`` (zero-pad, or centre-crop, around the untouched pixels: how
            LeCun et al. 1998 brought 28×28 digits to LeNet-5's 32×32; for data on a black
            background such as MNIST and Fashion-MNIST).

    Example:
        >>> import kerasconv
        >>> train = kerasconv.data.load("digits", split="train", batch_size=64, image_size=32)
        >>> images, labels = next(iter(train))
        >>> images.shape
        TensorShape([64, 32, 32, 1])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a dataset name string; got {type(name).__name__}.")
    name = name.lower()
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    if channels is not None:
        check_choice("channels", channels, (1, 3))
    check_choice("resize", resize, ("bilinear", "pad"))
    size = _normalise_size(image_size, name)
    if name == "imagefolder" and size is None:
        raise ValueError("load('imagefolder') needs image_size: folder images may differ in size.")
    if shuffle is None:  # shuffle the training split, and expressions over it ("train[:10%]")
        shuffle = isinstance(split, str) and split.split("[", 1)[0].strip() == "train"
    dataset, _ = _raw_dataset(
        name, split, data_dir, download, bool(shuffle), channels, source_dir=source_dir
    )

    def prepare(image, label):
        # Works on one image (H, W, C) or on a batch (N, H, W, C): the bundled datasets convert
        # and resize whole batches (one vectorised op per batch, not one per image).
        image = tf.image.convert_image_dtype(image, tf.float32)
        if channels == 1 and image.shape[-1] == 3:
            image = tf.image.rgb_to_grayscale(image)
        elif channels == 3 and image.shape[-1] == 1:
            image = tf.image.grayscale_to_rgb(image)
        if size is not None and tuple(image.shape[-3:-1]) != size:
            if resize == "pad":
                image = tf.image.resize_with_crop_or_pad(image, size[0], size[1])
            else:
                image = tf.image.resize(image, size, method="bilinear", antialias=True)
                image = tf.clip_by_value(image, 0.0, 1.0)
        return image, tf.cast(label, tf.int32)

    if augment is not None and not callable(augment):
        raise TypeError("augment must be a Keras layer or callable taking a batch.")
    if name in BUNDLED:
        # Small, fixed-size images: convert and resize them once, 1,024 at a time (one vectorised
        # op per chunk, not one per image), cache the result in memory (Fashion-MNIST's training
        # split at 32×32 takes 245 MB of float32), then shuffle the whole split every epoch and
        # batch. Later epochs only shuffle and batch: as cheap as arrays already in memory.
        dataset = dataset.batch(1024).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        count = builder_size(name, split, data_dir, source_dir)
        # unbatch() forgets the size: restore it (Keras's progress bar and the learning-rate
        # schedules need the number of steps per epoch).
        dataset = dataset.unbatch().apply(tf.data.experimental.assert_cardinality(count)).cache()
        if shuffle:
            dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        if batch_size is not None:
            dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    else:
        dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        if shuffle:
            # Cache the decoded images and shuffle the whole split each epoch (a buffer of 4,096
            # to 60,000 examples).
            buffer = int(dataset.cardinality())
            buffer = 60_000 if buffer <= 0 else max(4096, min(buffer, 60_000))
            dataset = dataset.cache().shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        if batch_size is not None:
            dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if batch_size is not None and augment is not None:
        dataset = dataset.map(
            lambda x, y: (augment(x, training=True), y)
        )  # sequential: random layers draw from one seed state, in batch order (reproducible)
    return dataset.prefetch(tf.data.AUTOTUNE)


def load_arrays(name, split="train", image_size=None, data_dir=None, channels=None, **kwargs):
    """The whole split as NumPy arrays ``(x float32 (n, H, W, C) in [0, 1], y int64 (n,))``.

    Convenient for the small bundled datasets; order is fixed (no shuffling).
    """
    dataset = load(
        name,
        split=split,
        batch_size=256,
        image_size=image_size,
        data_dir=data_dir,
        shuffle=False,
        channels=channels,
        **kwargs,
    )
    xs, ys = [], []
    for images, labels in dataset:
        xs.append(images.numpy())
        ys.append(labels.numpy())
    return np.concatenate(xs).astype("float32"), np.concatenate(ys).astype("int64")
