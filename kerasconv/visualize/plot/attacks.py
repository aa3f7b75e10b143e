"""Adversarial-attack figures (kerasconv.attacks): examples, transfer heat maps, accuracy vs eps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish


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
