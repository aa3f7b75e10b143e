"""All of kerasconv's drawing, on matplotlib (Agg, so it works with no screen).

Compute functions elsewhere return arrays; the functions here turn arrays into figures. Each returns
the ``matplotlib.figure.Figure`` and, when ``path`` is given, also saves a PNG there.
"""

from __future__ import annotations

import math
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


def training_curves(history, path=None, title="Training"):
    """Loss and accuracy per epoch from a ``keras.callbacks.History`` or its ``history`` dict."""
    logs = getattr(history, "history", history)
    if not logs:
        raise ValueError("history is empty: nothing to plot.")
    metrics = [key for key in logs if not key.startswith("val_") and key != "learning_rate"]
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2))
    axes = np.atleast_1d(axes)
    for axis, metric in zip(axes, metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        axis.plot(epochs, logs[metric], marker="o", label="train")
        if f"val_{metric}" in logs:
            axis.plot(epochs, logs[f"val_{metric}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return _finish(figure, path)


def confusion_matrix(matrix, class_names=None, path=None, title="Confusion matrix"):
    """Draw a confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square; got shape {matrix.shape}.")
    n = matrix.shape[0]
    names = class_names if class_names is not None else [str(i) for i in range(n)]
    figure, axis = plt.subplots(figsize=(0.45 * n + 2.5, 0.45 * n + 2))
    axis.imshow(matrix, cmap="Blues")
    for i in range(n):
        for j in range(n):
            colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            axis.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
    axis.set_xticks(range(n), names, rotation=45 if n > 10 else 0)
    axis.set_yticks(range(n), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


def prediction_grid(images, labels, predictions, class_names=None, path=None, columns=8):
    """A grid of images titled ``pred (true)``; wrong predictions in red."""
    images = np.asarray(images)
    names = class_names
    count = len(images)
    columns = min(columns, count)
    rows = int(math.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.45 * rows))
    axes = np.atleast_1d(axes).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index >= count:
            continue
        axis.imshow(to_displayable(images[index]), cmap="gray")
        true, predicted = int(labels[index]), int(predictions[index])
        text = f"{names[predicted] if names else predicted} ({names[true] if names else true})"
        axis.set_title(text, fontsize=7, color="black" if true == predicted else "red")
    figure.suptitle("predicted (true)", fontsize=9)
    figure.tight_layout()
    return _finish(figure, path)


# --- attacks (kerasconv.attacks) ---


def adversarial_example(
    original, adversarial, original_label, adversarial_label, amplify=10.0, path=None, title=None
):
    """The seeds' figure: original, adversarial and ``amplify``× difference, with predictions.

    Images are drawn on their own value range (assumed [0, 1]); the difference is shown as
    ``0.5 + amplify · (adversarial - original)`` clipped to [0, 1] so that grey means unchanged.
    """
    original = np.asarray(original, dtype="float32")
    adversarial = np.asarray(adversarial, dtype="float32")
    if original.shape != adversarial.shape:
        raise ValueError(
            f"original {original.shape} and adversarial {adversarial.shape} differ in shape."
        )
    difference = np.clip(0.5 + amplify * (adversarial - original), 0.0, 1.0)
    panels = [
        (np.clip(original, 0, 1), f"original: {original_label}"),
        (np.clip(adversarial, 0, 1), f"adversarial: {adversarial_label}"),
        (difference, f"{amplify:g}x difference"),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(7.2, 2.7))
    for axis, (image, text) in zip(axes, panels):
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        axis.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
        axis.set_title(text, fontsize=9)
        axis.axis("off")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def transferability_heatmap(
    matrix, source_names, target_names, path=None, title="Transferability", value_label="accuracy"
):
    """Heat map of a source × target transfer table (values in [0, 1], shown as percentages)."""
    matrix = np.asarray(matrix, dtype="float64")
    if matrix.shape != (len(source_names), len(target_names)):
        raise ValueError(
            f"matrix shape {matrix.shape} does not match {len(source_names)} sources × "
            f"{len(target_names)} targets."
        )
    rows, cols = matrix.shape
    figure, axis = plt.subplots(figsize=(1.5 * cols + 4.5, 0.7 * rows + 2.2))
    image = axis.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0)
    for i in range(rows):
        for j in range(cols):
            colour = "black" if matrix[i, j] > 0.6 else "white"
            axis.text(j, i, f"{100 * matrix[i, j]:.0f}%", ha="center", va="center", color=colour)
    axis.set_xticks(range(cols), target_names, rotation=20, ha="right")
    axis.set_yticks(range(rows), source_names)
    axis.set_xlabel("target model")
    axis.set_ylabel("source of the adversarial examples")
    figure.colorbar(image, ax=axis, label=value_label, fraction=0.046)
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def accuracy_vs_eps(curves, eps, path=None, title="Accuracy under attack", xlabel="eps"):
    """Accuracy against attack strength: ``curves`` maps a label to accuracies, one per eps."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot.")
    eps = np.asarray(eps, dtype="float64")
    figure, axis = plt.subplots(figsize=(5.0, 3.4))
    for label, values in curves.items():
        values = np.asarray(values, dtype="float64")
        if values.shape != eps.shape:
            raise ValueError(f"curve {label!r} has {values.size} values for {eps.size} eps.")
        axis.plot(eps, values, marker="o", label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("accuracy")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(title)
    figure.tight_layout()
    return _finish(figure, path)


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


def invariance_curves(
    studies, path=None, max_images=5, title="Invariance (Zeiler & Fergus Fig. 5)"
):
    """One row per transformation: distance at each layer and true-class probability vs. amount.

    ``studies`` is a list of ``kerasconv.transfer.InvarianceCurves`` (or one). Thin lines are single
    images (up to ``max_images``), the thick black line is the mean over all images.
    """
    if not isinstance(studies, (list, tuple)):
        studies = [studies]
    if not studies:
        raise ValueError("studies is empty: nothing to plot.")
    columns = len(studies[0].layers) + 1
    figure, axes = plt.subplots(
        len(studies), columns, figsize=(3.3 * columns, 2.6 * len(studies)), squeeze=False
    )
    for row, study in zip(axes, studies, strict=True):
        panels = [(study.distances[layer], f"{layer}: feature distance") for layer in study.layers]
        panels.append((study.probabilities, "P(true class)"))
        for axis, (values, label) in zip(row, panels, strict=True):
            for index in range(min(max_images, values.shape[1])):
                axis.plot(
                    study.amounts,
                    values[:, index],
                    linewidth=0.9,
                    alpha=0.7,
                    label=f"image {index} (class {study.labels[index]})",
                )
            axis.plot(
                study.amounts, values.mean(axis=1), color="black", linewidth=2.2, label="mean"
            )
            axis.set_xlabel(study.unit, fontsize=8)
            axis.set_title(f"{study.kind}: {label}", fontsize=8)
            axis.tick_params(labelsize=7)
            axis.grid(alpha=0.3)
        row[-1].set_ylim(-0.03, 1.03)
        if study is studies[0]:
            row[-1].legend(fontsize=6, loc="lower left")
        if study.normalized:
            row[0].set_ylabel("‖f(Tx) − f(x)‖ / ‖f(x)‖", fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def probe_accuracy_by_layer(table, path=None, dataset=None, title="Linear probes per layer"):
    """Accuracy (mean ± std over splits) of each probe against layer depth, from a ``ProbeTable``.

    ``table`` may also be a list of ``(label, ProbeTable)`` pairs drawn on the same axes (for
    example a trained and an untrained network).
    """
    tables = table if isinstance(table, (list, tuple)) else [("", table)]
    figure, axis = plt.subplots(figsize=(6.0, 3.4))
    for number, (label, one) in enumerate(tables):
        name = dataset if dataset is not None else next(iter(one.results))
        positions = np.arange(len(one.layers))
        for method in one.methods:
            results = [one.results[name][(method, layer)] for layer in one.layers]
            means = [100 * r.mean for r in results]
            spreads = [100 * r.std for r in results]
            text = ("SVM" if method == "svm" else "softmax") + (f", {label}" if label else "")
            axis.errorbar(
                positions,
                means,
                yerr=spreads,
                marker="o",
                capsize=3,
                label=text,
                linestyle="-" if number == 0 else "--",
            )
        axis.set_xticks(positions, one.layers)
    axis.set_xlabel("layer (input = raw pixels)")
    axis.set_ylabel("test accuracy (%)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def accuracy_curves(curves, path=None, title="Validation accuracy", xlabel="epoch"):
    """Several accuracy curves on one axis: ``{label: sequence of accuracies in [0, 1]}``."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot.")
    figure, axis = plt.subplots(figsize=(5.6, 3.4))
    for label, values in curves.items():
        values = 100 * np.asarray(values, dtype="float64")
        axis.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("accuracy (%)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


# --- part 1 of kerasconv.visualize: looking inside (filters, maps, attributions, embeddings) ---


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


def attribution_grid(
    images, maps, path=None, title=None, overlay=True, cmap="jet", row_titles=None
):
    """Rows of samples: the image, then one column per method's map.

    Args:
        images: ``(batch, H, W, C)``.
        maps: ``{method name: (batch, H, W) or (batch, H, W, C) array}``.
        overlay: blend heat maps over the image; ``False`` draws the raw map. Maps with three
            channels (guided backprop, deconvnet) are drawn as images.
    """
    images = np.asarray(images, dtype="float32")
    names = list(maps)
    rows, columns = len(images), len(names) + 1
    figure, axes = plt.subplots(rows, columns, figsize=(1.55 * columns, 1.55 * rows + 0.3))
    axes = np.asarray(axes).reshape(rows, columns)
    for row in range(rows):
        axes[row, 0].imshow(np.clip(to_displayable(images[row]), 0, 1), cmap="gray")
        if row_titles is not None:
            axes[row, 0].set_ylabel(str(row_titles[row]), fontsize=7)
        for column, name in enumerate(names, start=1):
            value = np.asarray(maps[name][row], dtype="float32")
            axis = axes[row, column]
            if value.ndim == 3 and value.shape[-1] == 3:
                # Signed RGB reconstructions: centre at grey, as in Springenberg et al.
                scale = max(float(np.abs(value).max()), 1e-12)
                axis.imshow(np.clip(0.5 + 0.5 * value / scale, 0, 1))
            else:
                if value.ndim == 3:
                    value = value[..., 0]
                if overlay:
                    axis.imshow(heatmap_overlay(images[row], value, cmap=cmap))
                else:
                    axis.imshow(to_displayable(value), cmap=cmap)
            if row == 0:
                axis.set_title(name, fontsize=7)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, 0].set_title("image", fontsize=7)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return _finish(figure, path)


def top_patch_grid(result, path=None, title="Top patches", show_images=True):
    """Top-k patches (``kerasconv.visualize.TopPatches``): the crops, and the images with boxes."""
    from matplotlib.patches import Rectangle

    count = len(result.values)
    rows = 2 if show_images else 1
    figure, axes = plt.subplots(rows, count, figsize=(1.2 * count, 1.35 * rows + 0.3))
    axes = np.asarray(axes).reshape(rows, count)
    for index in range(count):
        axis = axes[0, index]
        axis.imshow(np.clip(to_displayable(result.patches[index]), 0, 1), cmap="gray")
        axis.set_title(f"{result.values[index]:.2f}", fontsize=7)
        axis.axis("off")
        if show_images:
            axis = axes[1, index]
            axis.imshow(np.clip(to_displayable(result.images[index]), 0, 1), cmap="gray")
            top, left, bottom, right = result.boxes[index]
            axis.add_patch(
                Rectangle(
                    (left - 0.5, top - 0.5),
                    right - left,
                    bottom - top,
                    fill=False,
                    edgecolor="red",
                    linewidth=1.2,
                )
            )
            axis.set_xlim(-0.5, result.images.shape[2] - 0.5)
            axis.set_ylim(result.images.shape[1] - 0.5, -0.5)
            axis.axis("off")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return _finish(figure, path)


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


def randomization_curves(results, path=None, title="Cascading randomisation (Adebayo et al.)"):
    """Spearman correlation with the trained model's map as layers are re-initialised."""
    figure, axis = plt.subplots(figsize=(5.2, 3.4))
    for result in results:
        axis.plot(range(len(result.layers)), result.correlations, marker="o", label=result.method)
    layers = results[0].layers
    axis.set_xticks(range(len(layers)), layers, rotation=45, ha="right", fontsize=7)
    axis.axhline(0, color="grey", linewidth=0.6)
    axis.set_ylabel("rank correlation")
    axis.set_xlabel("randomised down to")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return _finish(figure, path)


def faithfulness_curves(curves, path=None, title="Deletion and insertion"):
    """Mean deletion and insertion curves per method, AUCs in the legend."""
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for name, curve in curves.items():
        axes[0].plot(
            curve.fractions,
            curve.deletion.mean(0),
            label=f"{name} (AUC {curve.deletion_auc.mean():.2f})",
        )
        axes[1].plot(
            curve.fractions,
            curve.insertion.mean(0),
            label=f"{name} (AUC {curve.insertion_auc.mean():.2f})",
        )
    labels = ("deletion (lower is better)", "insertion (higher is better)")
    for axis, label in zip(axes, labels, strict=True):
        axis.set_xlabel("fraction of pixels")
        axis.set_ylabel("target probability")
        axis.set_title(label, fontsize=9)
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


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


def loss_surfaces(
    surfaces, path=None, title="Loss surfaces (filter-normalised directions)", log=True
):
    """Side-by-side 2-D loss surfaces: a contour plot and a 3-D surface for each model.

    Args:
        surfaces: ``{name: result}`` where each result is ``kerasconv.visualize.loss_surface``'s
            dict (``"x"``, ``"y"``, ``"loss"``).
        log: draw ``log(loss)`` on the vertical axis as Li et al. (shows the dynamic range).
    """
    if not surfaces:
        raise ValueError("surfaces is empty.")
    count = len(surfaces)
    figure = plt.figure(figsize=(4.6 * count, 8.2))
    for column, (name, surface) in enumerate(surfaces.items()):
        xs, ys = np.asarray(surface["x"]), np.asarray(surface["y"])
        losses = np.asarray(surface["loss"], dtype="float64")
        values = np.log(np.maximum(losses, 1e-8)) if log else losses
        grid_x, grid_y = np.meshgrid(xs, ys)
        axis = figure.add_subplot(2, count, column + 1)
        contours = axis.contour(
            grid_x,
            grid_y,
            losses,
            levels=np.geomspace(max(losses.min(), 1e-4), losses.max(), 15) if log else 15,
            cmap="viridis",
        )
        axis.clabel(contours, fontsize=6, fmt="%.2g")
        axis.plot([0], [0], "r+", markersize=10)
        axis.set_title(f"{name}: loss contours", fontsize=9)
        axis.set_xlabel("direction 1")
        axis.set_ylabel("direction 2")
        axis3d = figure.add_subplot(2, count, count + column + 1, projection="3d")
        axis3d.plot_surface(grid_x, grid_y, values, cmap="viridis", linewidth=0, antialiased=True)
        axis3d.set_title(f"{name}: {'log ' if log else ''}loss surface", fontsize=9)
        axis3d.set_xlabel("d1", fontsize=7)
        axis3d.set_ylabel("d2", fontsize=7)
        axis3d.tick_params(labelsize=6)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def interpolation_curves(curves, path=None, title="Loss along a straight line (Goodfellow et al.)"):
    """Loss (and accuracy) against alpha for one or more ``interpolate_loss`` results.

    Args:
        curves: ``{label: result}`` with ``"alpha"``, ``"loss"`` and optionally ``"accuracy"``.
    """
    if not curves:
        raise ValueError("curves is empty.")
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.3))
    for label, curve in curves.items():
        axes[0].plot(curve["alpha"], curve["loss"], marker=".", label=label)
        if "accuracy" in curve:
            axes[1].plot(curve["alpha"], curve["accuracy"], marker=".", label=label)
    for axis, name in zip(axes, ("cross-entropy loss", "accuracy"), strict=True):
        axis.set_xlabel("alpha")
        axis.set_ylabel(name)
        axis.axvline(0, color="gray", lw=0.5)
        axis.axvline(1, color="gray", lw=0.5)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
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


def optimization_curves(history, path=None, title="Optimisation", log=False):
    """Per-step curves of an ``OptimizationResult.history`` (batch mean, one panel each)."""
    names = [name for name, values in history.items() if np.asarray(values).ndim == 2]
    if not names:
        raise ValueError("history has no (steps, batch) arrays to plot.")
    figure, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 2.8), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        values = np.asarray(history[name]).mean(axis=1)
        axis.plot(np.arange(1, len(values) + 1), values)
        if log and np.all(values > 0):
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.set_title(name, fontsize=9)
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


# --- end of plot.py ---
