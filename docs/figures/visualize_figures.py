"""Regenerate the docs figures of docs/visualize.md that show top patches and deletion/insertion.

Usage: ``python docs/figures/visualize_figures.py`` (about a minute on a quiet CPU: it trains the
docs' LeNet-5 on the digits with seed 0, as the test fixture does). The full gallery,
``apps/visualize_gallery.py``, draws the same figures among many others.
"""

from __future__ import annotations

import os

import keras
import numpy as np

import kerasconv
from kerasconv import visualize
from kerasconv.visualize import plot

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    keras.utils.set_random_seed(0)
    model = kerasconv.models.LeNet5(classes=10)
    kerasconv.training.train(
        model, (x_train, y_train), epochs=15, batch_size=32, learning_rate=0.05, seed=0, verbose=0
    )
    # The strongest C3 map over the test digits (a live one: dead maps raise in top_patches).
    strength = visualize.activations(model, x_test, ["c3"])["c3"].max(axis=(0, 1, 2))
    channel = int(np.argmax(strength))
    print("C3 maps dead on every test digit:", np.flatnonzero(strength == 0).tolist())
    top = visualize.top_patches(model, "c3", x_test, channel=channel, k=6)
    plot.top_patch_grid(
        top,
        path=os.path.join(HERE, "visualize_top_patches.png"),
        title=f"C3 map {channel}: the 6 strongest test patches (receptive field 14 px)",
    )
    x, y = x_test[:16], y_test[:16]
    maps = {
        "saliency": visualize.saliency_map(model, x, y),
        "integrated gradients": visualize.integrated_gradients(model, x, y, steps=64),
        "Grad-CAM (s4)": visualize.grad_cam(model, x, y),
        "random": np.random.default_rng(0).random(x.shape[:3]).astype("float32"),
    }
    curves = {
        name: visualize.deletion_insertion(model, x, m, y, steps=16) for name, m in maps.items()
    }
    for name, curve in curves.items():
        print(
            f"{name:22s} deletion AUC {curve.deletion_auc.mean():.3f} "
            f"insertion AUC {curve.insertion_auc.mean():.3f}"
        )
    plot.faithfulness_curves(
        curves,
        path=os.path.join(HERE, "visualize_deletion_insertion.png"),
        title="Deletion (to black) and insertion (from black), 16 test digits",
    )


if __name__ == "__main__":
    main()
