"""Autoencoder figures (kerasconv.autoencoders): latent scatter plots and manifolds."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish


def latent_scatter(points, labels, path=None, title="Latent space", axis_labels=("z1", "z2")):
    """2-D codes coloured by class, with the code axes labelled (values kept, unlike t-SNE)."""
    points = np.asarray(points, dtype="float32")
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError("points must be (N, 2) with one label per point.")
    figure, axis = plt.subplots(figsize=(5.2, 4.4))
    colours = matplotlib.colormaps["tab10"]
    for index, label in enumerate(np.unique(labels)):
        chosen = labels == label
        axis.scatter(*points[chosen].T, s=7, color=colours(index % 10), label=str(label), alpha=0.8)
    axis.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axis.set_xlabel(axis_labels[0])
    axis.set_ylabel(axis_labels[1])
    axis.grid(alpha=0.3)
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


def latent_manifold(images, values, path=None, title="Latent manifold", axis_labels=("z1", "z2")):
    """Tile a grid of decoded images ``(g, g, H, W[, C])`` into one picture with code-value ticks.

    ``values`` are the code values of the columns (left to right); rows run from the highest value
    at the top to the lowest at the bottom, as ``kerasconv.autoencoders.latent_grid`` returns them.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == 5 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 4 or images.shape[0] != images.shape[1]:
        raise ValueError(f"images must be (g, g, H, W) or (g, g, H, W, 1); got {images.shape}.")
    grid, _, height, width = images.shape
    values = np.asarray(values, dtype="float32")
    if values.shape != (grid,):
        raise ValueError(f"values must hold {grid} numbers; got shape {values.shape}.")
    canvas = images.transpose(0, 2, 1, 3).reshape(grid * height, grid * width)
    figure, axis = plt.subplots(figsize=(6, 6))
    axis.imshow(np.clip(canvas, 0, 1), cmap="gray", vmin=0, vmax=1)
    step = max(1, grid // 5)
    ticks = list(range(0, grid, step))
    axis.set_xticks([t * width + width / 2 for t in ticks], [f"{values[t]:.2f}" for t in ticks])
    axis.set_yticks(
        [t * height + height / 2 for t in ticks], [f"{values[::-1][t]:.2f}" for t in ticks]
    )
    axis.set_xlabel(axis_labels[0])
    axis.set_ylabel(axis_labels[1])
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


# --- synthesis (issue 6, part 2): loss landscapes, feature evolution, optimisation curves ---
