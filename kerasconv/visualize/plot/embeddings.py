"""Embedding figures: t-SNE/PCA scatter plots, thumbnails and nearest-neighbour rows."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish, to_displayable


def embedding_scatter(points, labels, path=None, title="Embedding", class_names=None):
    """2-D points coloured by class, with a legend."""
    points = np.asarray(points, dtype="float32")
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError("points must be (N, 2) with one label per point.")
    figure, axis = plt.subplots(figsize=(5, 4.4))
    colours = matplotlib.colormaps["tab10"]
    for index, label in enumerate(np.unique(labels)):
        chosen = labels == label
        name = class_names[int(label)] if class_names is not None else str(label)
        axis.scatter(*points[chosen].T, s=8, color=colours(index % 10), label=name)
    axis.legend(fontsize=7, markerscale=2, loc="best", ncol=2)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


def embedding_thumbnails(points, images, path=None, title="Embedding (thumbnails)", zoom=0.6):
    """Each image drawn as a thumbnail at its 2-D position (the seeds' t-SNE of CNN codes)."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    points = np.asarray(points, dtype="float32")
    figure, axis = plt.subplots(figsize=(6, 6))
    axis.scatter(*points.T, s=0)
    for point, image in zip(points, images, strict=False):
        picture = np.clip(to_displayable(image), 0, 1)
        box = OffsetImage(picture, zoom=zoom, cmap="gray" if picture.ndim == 2 else None)
        axis.add_artist(AnnotationBbox(box, tuple(point), frameon=False))
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


def neighbor_rows(queries, database, pixel, feature, path=None, title=None):
    """Per query: the query, its nearest neighbours in pixel space, then in feature space."""
    count, k = np.asarray(pixel).shape
    figure, axes = plt.subplots(count, 2 * k + 1, figsize=(0.9 * (2 * k + 1), 1.0 * count + 0.4))
    axes = np.asarray(axes).reshape(count, 2 * k + 1)
    for row in range(count):
        axes[row, 0].imshow(np.clip(to_displayable(queries[row]), 0, 1), cmap="gray")
        for column in range(k):
            axes[row, 1 + column].imshow(
                np.clip(to_displayable(database[pixel[row][column]]), 0, 1), cmap="gray"
            )
            axes[row, 1 + k + column].imshow(
                np.clip(to_displayable(database[feature[row][column]]), 0, 1), cmap="gray"
            )
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, 0].set_title("query", fontsize=7)
    axes[0, 1].set_title("pixel space →", fontsize=7, loc="left")
    axes[0, 1 + k].set_title("feature space →", fontsize=7, loc="left")
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return _finish(figure, path)
