"""Real photographs that ship inside scikit-image, scikit-learn and matplotlib (no download)."""

from __future__ import annotations

import numpy as np

# name -> (package, loader description); all in the packages' own wheels.
SAMPLE_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower", "grace_hopper")


def _load(name):
    if name in ("astronaut", "chelsea", "coffee", "rocket"):
        from skimage import data

        return getattr(data, name)()
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    if name == "grace_hopper":
        import matplotlib.image as mpimg
        from matplotlib import cbook

        with cbook.get_sample_data("grace_hopper.jpg") as handle:
            return mpimg.imread(handle, format="jpg")
    raise ValueError(f"Unknown sample image {name!r}; choose from {', '.join(SAMPLE_NAMES)}.")


def sample_image(name, size=None):
    """One photograph as float32 ``(H, W, 3)`` in [0, 1], optionally resized to ``size``."""
    image = np.asarray(_load(name))
    image = image.astype("float32") / (255.0 if image.dtype == np.uint8 else 1.0)
    if size is not None:
        import tensorflow as tf

        if isinstance(size, int):
            size = (size, size)
        image = tf.image.resize(image, size, antialias=True).numpy().clip(0, 1)
    return image


def sample_images(names=None, size=None):
    """The bundled photographs as ``{name: float32 (H, W, 3) in [0, 1]}``.

    Args:
        names: which ones (default all of ``SAMPLE_NAMES``: astronaut, chelsea, coffee, rocket,
            china, flower, grace_hopper).
        size: resize every image to ``size`` (int or ``(height, width)``), e.g. for a batch.

    Example:
        >>> import kerasconv
        >>> photos = kerasconv.data.sample_images(size=64)
        >>> photos["chelsea"].shape
        (64, 64, 3)
    """
    names = SAMPLE_NAMES if names is None else names
    return {name: sample_image(name, size) for name in names}
