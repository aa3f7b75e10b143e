"""Training figures: loss/accuracy curves, confusion matrices and prediction grids."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish, to_displayable


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
