"""Filters and feature maps: learned kernels, whitening filters, activations and their evolution."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish, to_displayable
from kerasconv.visualize.plot.images import image_grid


def filter_grid(kernels, path=None, title="Filters", max_filters=64, max_inputs=16):
    """Convolution kernels ``(filters, kh, kw, in)`` as images on one shared colour scale.

    One- and three-channel kernels are drawn as grey/colour images (first-layer "Gabor-like"
    filters); deeper kernels as a grid of single-channel slices, one row per filter.
    """
    kernels = np.asarray(kernels, dtype="float32")
    if kernels.ndim != 4:
        raise ValueError(f"kernels must be (filters, kh, kw, in); got shape {kernels.shape}.")
    kernels = kernels[:max_filters]
    if kernels.shape[-1] in (1, 3):
        return image_grid(kernels, normalize="all", title=title, path=path, cell_size=0.9)
    slices = np.moveaxis(kernels[:, :, :, :max_inputs], -1, 1)  # (filters, inputs, kh, kw)
    rows, columns = slices.shape[:2]
    return image_grid(
        slices.reshape((rows * columns,) + slices.shape[2:]),
        columns=columns,
        normalize="all",
        title=f"{title} (rows: filters, columns: input channels)",
        path=path,
        cell_size=0.55,
    )


def feature_map_grid(activation, path=None, title="Feature maps", max_maps=64, cmap="viridis"):
    """One image's activation ``(h, w, C)`` as a grid of ``C`` feature maps, each min-max scaled."""
    activation = np.asarray(activation, dtype="float32")
    if activation.ndim == 4 and activation.shape[0] == 1:
        activation = activation[0]
    if activation.ndim != 3:
        raise ValueError(f"activation must be (h, w, C); got shape {activation.shape}.")
    maps = np.moveaxis(activation, -1, 0)[:max_maps]
    titles = [str(index) for index in range(len(maps))]
    return image_grid(maps, titles=titles, cmap=cmap, title=title, path=path, cell_size=1.0)


def whitening_filters(layer_or_matrix, image_shape, n=16, rows_to_show=None, path=None, title=None):
    """Rows of a ZCA whitening matrix ``W`` reshaped to images (the lecture notes' figure).

    Row ``i`` of ``W`` is the filter that produces whitened pixel ``i``; for natural images and
    digits it is a centre-surround blob at pixel ``i``.

    Args:
        layer_or_matrix: an adapted ``kerasconv.layers.ZCAWhitening`` or a ``(d, d)`` array.
        image_shape: ``(H, W)`` or ``(H, W, C)`` with ``H · W · C = d``.
        n: how many rows to show, at pixel positions spread evenly over the image (first channel).
        rows_to_show: explicit row indices instead of ``n``.
        path: save a PNG here.
    """
    matrix = getattr(layer_or_matrix, "whitening_matrix", layer_or_matrix)
    matrix = np.asarray(matrix, dtype="float64")
    image_shape = tuple(int(s) for s in image_shape)
    size = int(np.prod(image_shape))
    if matrix.ndim != 2 or matrix.shape != (size, size):
        raise ValueError(
            f"the whitening matrix must be ({size}, {size}) for image_shape {image_shape}; "
            f"got shape {matrix.shape}."
        )
    height, width = image_shape[:2]
    channels = image_shape[2] if len(image_shape) == 3 else 1
    if rows_to_show is None:
        side = max(1, int(round(math.sqrt(n))))
        ys = np.linspace(0, height - 1, side + 2)[1:-1].round().astype(int)
        xs = np.linspace(0, width - 1, side + 2)[1:-1].round().astype(int)
        rows_to_show = [(y * width + x) * channels for y in ys for x in xs]
    rows_to_show = list(rows_to_show)
    count = len(rows_to_show)
    columns = int(math.ceil(math.sqrt(count)))
    grid_rows = int(math.ceil(count / columns))
    figure, axes = plt.subplots(
        grid_rows, columns, figsize=(1.3 * columns, 1.3 * grid_rows + (0.4 if title else 0))
    )
    axes = np.atleast_1d(axes).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index >= count:
            continue
        row = matrix[rows_to_show[index]].reshape(height, width, channels)
        if channels == 1:
            # Symmetric colour scale around 0: red excitatory centre, blue inhibitory surround.
            limit = max(float(np.abs(row).max()), 1e-12)
            axis.imshow(row[..., 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            axis.imshow(to_displayable(row))
        pixel = rows_to_show[index] // channels
        axis.set_title(f"row {pixel // width},{pixel % width}", fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def feature_evolution(records, path=None, title="Evolution of features during training"):
    """Grid of recorded features: one row per feature, one column per epoch.

    Args:
        records: ``{epoch: array (features, h, w) or (features, h, w, c)}`` as recorded by
            ``kerasconv.visualize.FeatureEvolution``.
    """
    if not records:
        raise ValueError("records is empty.")
    epochs = sorted(records)
    count = len(records[epochs[0]])
    figure, axes = plt.subplots(
        count, len(epochs), figsize=(0.95 * len(epochs) + 0.6, 0.95 * count + 0.6), squeeze=False
    )
    for column, epoch in enumerate(epochs):
        for row in range(count):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            image = to_displayable(records[epoch][row])
            axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            if row == 0:
                axis.set_title(f"epoch {epoch}", fontsize=7)
            if column == 0:
                axis.set_ylabel(f"#{row}", fontsize=7)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return _finish(figure, path)
