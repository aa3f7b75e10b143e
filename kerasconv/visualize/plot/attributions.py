"""Attribution figures: saliency/CAM grids, top patches, sanity and faithfulness curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish, to_displayable
from kerasconv.visualize.plot.images import heatmap_overlay


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
