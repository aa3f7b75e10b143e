"""Saving figures and scaling arrays for display, shared by every drawing module."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(figure, path, dpi=110):
    """Save ``figure`` as ``path`` (folders are created), close it, and return ``path``."""
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return path


def _finish(figure, path):
    if path is not None:
        save_figure(figure, path)
    return figure


def to_displayable(image):
    """Scale an image array to [0, 1] for display (per image, min-max), dropping a size-1 channel."""
    image = np.asarray(image, dtype="float32")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    low, high = float(np.min(image)), float(np.max(image))
    if high - low < 1e-12:
        return np.zeros_like(image)
    return (image - low) / (high - low)
