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
    figure, axis = plt.subplots(figsize=(1.2 * cols + 2.6, 0.6 * rows + 1.6))
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
    axis.set_title(title)
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


# --- end of plot.py ---
