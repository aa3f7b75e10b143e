"""Batch normalisation speeds up training (Ioffe & Szegedy 2015, Figure 2), on the real digits.

A VGG-style network (kerasconv.models.VGG, configuration A with narrow layers) is trained three
times on scikit-learn's handwritten digits with SGD + momentum: without batch normalisation, with
it, and with it at a 5× larger learning rate (the paper's "BN-x5"). Test accuracy is measured
every few training steps, giving the seed's figure: accuracy against the number of training steps.

Run::

    python apps/batchnorm_study.py --out out/batchnorm_study     # the study (a few minutes)
    python apps/batchnorm_study.py --smoke --out /tmp/bn          # well under a minute
"""

from __future__ import annotations

import argparse
import os
import sys

FULL = dict(image_size=32, width_multiplier=0.25, fc_units=64, epochs=8, every=15)
SMOKE = dict(image_size=32, width_multiplier=0.125, fc_units=32, epochs=1, every=22)
LEARNING_RATE = 0.01


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("out", "batchnorm_study"))
    parser.add_argument("--epochs", type=int, default=None, help="passes over the training set")
    parser.add_argument("--smoke", action="store_true", help="tiny settings (well under a minute)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def train_curve(batch_norm, learning_rate, settings, data, seed):
    """Test accuracy every ``settings['every']`` steps; returns ``(steps, accuracies)``."""
    import keras
    import numpy as np
    import tensorflow as tf

    import kerasconv

    x_train, y_train, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    size = settings["image_size"]
    model = kerasconv.models.VGG(
        config="A",
        batch_norm=batch_norm,
        input_shape=(size, size, 1),
        classes=10,
        width_multiplier=settings["width_multiplier"],
        fc_units=settings["fc_units"],
        dropout=0.0,
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    batch = 32
    steps_per_pass = len(x_train) // batch
    total = steps_per_pass * settings["epochs"]
    dataset = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=seed)
        .repeat()
        .batch(batch, drop_remainder=True)
    )
    every = settings["every"]
    history = model.fit(
        dataset,
        epochs=max(1, total // every),
        steps_per_epoch=every,
        validation_data=(x_test, y_test),
        validation_batch_size=360,
        verbose=0,
    )
    accuracies = history.history["val_accuracy"]
    steps = every * np.arange(1, len(accuracies) + 1)
    return steps, accuracies


def run(settings, seed=0):
    import kerasconv

    size = settings["image_size"]
    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=size)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=size)
    data = (x_train, y_train, x_test, y_test)
    runs = {
        "without batch norm": (False, LEARNING_RATE),
        "with batch norm": (True, LEARNING_RATE),
        "with batch norm, 5× learning rate": (True, 5 * LEARNING_RATE),
    }
    curves = {}
    for label, (batch_norm, learning_rate) in runs.items():
        curves[label] = train_curve(batch_norm, learning_rate, settings, data, seed)
        print(f"{label:>36}: final test accuracy {curves[label][1][-1]:.3f}", flush=True)
    return curves


def steps_to_reach(steps, accuracies, target):
    for step, accuracy in zip(steps, accuracies, strict=True):
        if accuracy >= target:
            return int(step)
    return None


def write_report(curves, settings, out):
    from kerasconv.visualize import plot

    os.makedirs(out, exist_ok=True)
    figure = "batchnorm_accuracy_vs_steps.png"
    plot.accuracy_curves(
        {label: accuracies for label, (_, accuracies) in curves.items()},
        path=os.path.join(out, figure),
        title="VGG-style net on the digits: test accuracy vs. training steps",
        xlabel=f"training steps (× {settings['every']})",
    )
    target = 0.9
    lines = [
        "# Batch normalisation: accuracy against training steps",
        "",
        "Ioffe & Szegedy 2015, Figure 2 (the lecture notes): batch-normalised networks reach a",
        "given accuracy in far fewer steps and tolerate larger learning rates. Here a VGG-style",
        f"network (configuration A, filters × {settings['width_multiplier']}, fully connected",
        f"layers of {settings['fc_units']}) is trained on scikit-learn's digits "
        f"({settings['image_size']}×{settings['image_size']}) with SGD + momentum 0.9, batch 32,",
        f"learning rate {LEARNING_RATE} (and 5× that for the last run).",
        "",
        f"| run | test accuracy after {int(curves[next(iter(curves))][0][-1])} steps "
        f"| steps to {int(target * 100)}% |",
        "|---|---:|---:|",
    ]
    for label, (steps, accuracies) in curves.items():
        reached = steps_to_reach(steps, accuracies, target)
        lines.append(
            f"| {label} | {100 * accuracies[-1]:.1f}% | {reached if reached else 'not reached'} |"
        )
    lines += ["", f"![test accuracy against training steps]({figure})", ""]
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return os.path.join(out, "report.md")


def main(argv=None):
    args = parse_args(argv)
    settings = dict(SMOKE if args.smoke else FULL)
    if args.epochs is not None:
        if args.epochs < 1:
            print("batchnorm_study: error: --epochs must be >= 1", file=sys.stderr)
            return 2
        settings["epochs"] = args.epochs
    curves = run(settings, seed=args.seed)
    path = write_report(curves, settings, args.out)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
