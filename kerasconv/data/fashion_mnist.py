"""Fashion-MNIST offline: a tfds builder that reads Zalando's IDX files from a local folder.

Debian ships the dataset: ``apt-get install dataset-fashion-mnist`` puts
``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` in ``/usr/share/datasets/fashion-mnist/``.
The builder subclasses the tfds catalogue's own ``fashion_mnist`` builder and replaces only where the
files come from, so what it prepares is the catalogue dataset itself: the same name, version,
features (``image`` 28×28×1 uint8, ``label`` with the ten class names), splits (60,000 train /
10,000 test) and example order. Once prepared, even ``tfds.load("fashion_mnist", download=False)``
finds it in the same ``data_dir``.

Where the files are read from, first found wins: the ``source_dir`` argument, the environment
variable ``KERASCONV_FASHION_MNIST_DIR``, then ``/usr/share/datasets/fashion-mnist``. Files may be
gzipped (``*.gz``, as Debian and Zalando ship them) or plain.

The IDX format (LeCun et al.): a big-endian magic number ``0x00000803`` (unsigned bytes, 3 dims) for
images or ``0x00000801`` (1 dim) for labels, one big-endian int32 per dimension, then the bytes. Every
field is checked; a truncated or corrupt file is a :class:`FashionMnistError` naming the file.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification.mnist import FashionMNIST as _CatalogueFashionMNIST

DEFAULT_SOURCE_DIR = "/usr/share/datasets/fashion-mnist"
SOURCE_DIR_ENV = "KERASCONV_FASHION_MNIST_DIR"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_IMAGE_MAGIC = 0x00000803
_LABEL_MAGIC = 0x00000801
_HOW_TO_GET = (
    "Install them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu: files in "
    f"{DEFAULT_SOURCE_DIR}), or put the four files "
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
    "t10k-labels-idx1-ubyte.gz (from https://github.com/zalandoresearch/fashion-mnist) in a folder "
    f"and pass source_dir=FOLDER or set {SOURCE_DIR_ENV}=FOLDER."
)


class FashionMnistError(ValueError, FileNotFoundError):
    """Fashion-MNIST's files are missing, truncated or corrupt (the message says how to fix it)."""


def source_dir(path=None):
    """The folder the IDX files are read from (argument, then environment, then Debian's folder)."""
    if path is not None:
        return os.fspath(path)
    return os.environ.get(SOURCE_DIR_ENV) or DEFAULT_SOURCE_DIR


def _find(folder, stem):
    for name in (stem + ".gz", stem):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def source_files(path=None):
    """``{split: (images_path, labels_path, count)}``; a clear error when any file is absent."""
    folder = source_dir(path)
    found, missing = {}, []
    for split, (images, labels, count) in FILES.items():
        image_path, label_path = _find(folder, images), _find(folder, labels)
        missing += [
            stem + ".gz" for stem, p in ((images, image_path), (labels, label_path)) if not p
        ]
        found[split] = (image_path, label_path, count)
    if missing:
        raise FashionMnistError(
            f"Fashion-MNIST's files are not in {folder} (missing: {', '.join(missing)}). {_HOW_TO_GET}"
        )
    return found


def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        with open(path, "rb") as handle:
            return handle.read()
    except (EOFError, OSError, gzip.BadGzipFile) as error:
        raise FashionMnistError(
            f"{path} is truncated or corrupt ({type(error).__name__}: {error}). "
            f"Reinstall or replace it. {_HOW_TO_GET}"
        ) from None


def read_idx(path, magic, expected_shape=None):
    """The array stored in an IDX file, after checking its magic number, dimensions and length.

    Args:
        path: an IDX file, gzipped (``.gz``) or plain.
        magic: the expected magic number (``0x00000803`` for 3-D uint8 images, ``0x00000801`` for
            1-D uint8 labels).
        expected_shape: the shape it must have, or ``None`` to accept any.
    """
    data = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FashionMnistError(f"{path} is truncated: {len(data)} bytes, shorter than its header.")
    (found_magic,) = struct.unpack(">I", data[:4])
    if found_magic != magic:
        raise FashionMnistError(
            f"{path} is not an IDX file of the expected kind: magic number 0x{found_magic:08x}, "
            f"expected 0x{magic:08x}."
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if expected_shape is not None and tuple(shape) != tuple(expected_shape):
        raise FashionMnistError(
            f"{path} holds an array of shape {tuple(shape)}; Fashion-MNIST's is {tuple(expected_shape)}."
        )
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise FashionMnistError(
            f"{path} is truncated or corrupt: {len(data) - header} data bytes after the header, "
            f"expected {size} for shape {tuple(shape)}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_split(split, path=None):
    """``(images uint8 (n, 28, 28, 1), labels int64 (n,))`` of one split, read and checked."""
    image_path, label_path, count = source_files(path)[split]
    images = read_idx(image_path, _IMAGE_MAGIC, (count, 28, 28))
    labels = read_idx(label_path, _LABEL_MAGIC, (count,))
    if labels.max() >= len(CLASS_NAMES):
        raise FashionMnistError(
            f"{label_path} is corrupt: label {int(labels.max())} found, labels must be 0-9."
        )
    return images[..., None], labels.astype(np.int64)


class FashionMnist(_CatalogueFashionMNIST, skip_registration=True):
    """The tfds catalogue's ``fashion_mnist``, prepared from local IDX files instead of a download.

    Args:
        source_dir: folder holding the four IDX files (default: ``$KERASCONV_FASHION_MNIST_DIR`` or
            ``/usr/share/datasets/fashion-mnist``).
        **kwargs: forwarded to the tfds builder (``data_dir``, ...).
    """

    name = "fashion_mnist"

    def __init__(self, *, source_dir=None, **kwargs):
        self._source_dir = source_dir
        super().__init__(**kwargs)

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        source_files(self._source_dir)  # a clear error before tfds starts writing
        return {split: self._generate_examples(split) for split in ("train", "test")}

    def _generate_examples(self, split):  # pylint: disable=arguments-differ
        images, labels = read_split(split, self._source_dir)
        # Keys are the example indices, as in the catalogue builder, so the order is the same.
        for index in range(len(labels)):
            yield index, {"image": images[index], "label": int(labels[index])}


__all__ = ["CLASS_NAMES", "FashionMnist", "FashionMnistError", "read_idx", "read_split", "tfds"]
