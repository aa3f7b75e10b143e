"""Regenerate the figure of docs/data.md that compares the translations' two fills.

Usage: ``python docs/figures/data_figures.py`` (seconds). The first test image of each
Fashion-MNIST class at 32×32, then two random translations of 10% of each: with Keras's default
border (``fill_mode="reflect"``, bilinear) and with a black one (``fill_mode="constant"``,
``interpolation="nearest"``: pad with zeros and crop). Both rows use the same seed, so each column
moves by about the same amount in both.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import kerasconv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat"]
CLASSES += ["sandal", "shirt", "sneaker", "bag", "ankle boot"]


def main(path=os.path.join(HERE, "data_translation_fill.png"), seed=3):
    x, y = kerasconv.data.load_arrays("fashion_mnist", "test", image_size=32)
    first = [int(np.flatnonzero(y == c)[0]) for c in range(10)]
    images = x[first]
    rows = {"test image": images}
    for label, fill in [("reflect (default)", "reflect"), ("zeros", "constant")]:
        layer = kerasconv.data.augmentation(
            translate=0.1,
            fill_mode=fill,
            interpolation="bilinear" if fill == "reflect" else "nearest",
            seed=seed,
        )
        rows[f"translated,\n{label}"] = np.asarray(layer(images, training=True))
    fig, axes = plt.subplots(len(rows), 10, figsize=(12, 4.2))
    for r, (label, batch) in enumerate(rows.items()):
        for c in range(10):
            ax = axes[r, c]
            ax.imshow(batch[c, ..., 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(CLASSES[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.suptitle("Random translations of 10%: what fills the border", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
