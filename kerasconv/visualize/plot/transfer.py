"""Transfer-learning figures (kerasconv.transfer): invariance curves and per-layer probes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kerasconv.visualize.plot._figure import _finish


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
