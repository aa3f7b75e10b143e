"""Synthesis and loss-landscape figures: optimisation curves, loss surfaces, interpolations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish


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
