"""Grids of images, heat-map overlays and labelled rows: the building blocks of most figures."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish, to_displayable


def image_grid(
    images,
    titles=None,
    columns=None,
    cmap="gray",
    normalize="each",
    title=None,
    path=None,
    cell_size=1.4,
):
    """Draw a grid of images.

    Args:
        images: array ``(n, H, W)`` or ``(n, H, W, C)`` with C in {1, 3}.
        titles: optional list of ``n`` short strings.
        columns: images per row (default: about square).
        cmap: colour map for single-channel images.
        normalize: ``"each"`` (min-max per image), ``"all"`` (one scale for the grid, so signs and
            magnitudes compare, as for filter banks) or ``None`` (values already in [0, 1]).
        title: figure title.
        path: save a PNG here.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (n, H, W) or (n, H, W, C); got shape {images.shape}.")
    count = images.shape[0]
    if count == 0:
        raise ValueError("images is empty.")
    columns = columns or int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / columns))
    if normalize == "all":
        low, high = float(images.min()), float(images.max())
        images = (images - low) / max(high - low, 1e-12)
    figure, axes = plt.subplots(
        rows, columns, figsize=(cell_size * columns, cell_size * rows + (0.4 if title else 0))
    )
    axes = np.atleast_1d(axes).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index >= count:
            continue
        image = images[index]
        if normalize == "each":
            image = to_displayable(image)
        axis.imshow(np.clip(image, 0, 1), cmap=cmap if image.ndim == 2 else None, vmin=0, vmax=1)
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def heatmap_overlay(image, heatmap, alpha=0.5, cmap="jet"):
    """Blend a heat map (H, W) over an image (H, W) or (H, W, C); returns an RGB array in [0, 1]."""
    image = to_displayable(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.shape != image.shape[:2]:
        import tensorflow as tf

        heatmap = tf.image.resize(heatmap[..., None], image.shape[:2]).numpy()[..., 0]
    colours = matplotlib.colormaps[cmap](to_displayable(heatmap))[..., :3]
    return np.clip((1 - alpha) * image + alpha * colours, 0, 1)


def labelled_image_rows(rows, row_labels, path=None, title=None, cell_size=1.0, column_titles=None):
    """Rows of images in [0, 1] with a label left of each row (autoencoders' before/after figures).

    Args:
        rows: list of arrays ``(n, H, W)`` or ``(n, H, W, C)``, all with the same ``n``
            (e.g. ``[inputs, reconstructions]`` or ``[clean, noisy, denoised]``).
        row_labels: one string per row.
        column_titles: optional ``n`` strings above the first row.
    """
    rows = [np.asarray(row, dtype="float32") for row in rows]
    if not rows or len(rows) != len(row_labels):
        raise ValueError("rows and row_labels must be non-empty and of the same length.")
    rows = [row[..., 0] if row.ndim == 4 and row.shape[-1] == 1 else row for row in rows]
    count = len(rows[0])
    if count == 0 or any(len(row) != count for row in rows):
        raise ValueError("every row must hold the same, non-zero number of images.")
    figure, axes = plt.subplots(
        len(rows),
        count,
        figsize=(cell_size * count + 1.2, cell_size * len(rows) + (0.4 if title else 0)),
        squeeze=False,
    )
    for r, (row, label) in enumerate(zip(rows, row_labels, strict=True)):
        for c in range(count):
            axis = axes[r, c]
            image = np.clip(row[c], 0, 1)
            axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if c == 0:
                axis.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
            if r == 0 and column_titles is not None:
                axis.set_title(str(column_titles[c]), fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)
