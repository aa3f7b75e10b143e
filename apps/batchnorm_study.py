"""Batch normalisation speeds up training (Ioffe & Szegedy 2015, Figure 1), on Fashion-MNIST.

Issue 17, point 6. The same VGG-style network (``kerasconv.models.VGG``, configuration A, filters
× 1/8, fully connected layers of 64, no dropout) is trained on Fashion-MNIST at 32×32 without batch
normalisation, with it, and with it at a 5× larger learning rate (the paper's "BN-x5"), with the
package's optimizer (``kerasconv.training.train``: SGD, momentum 0.9, weight decay 5e-4) at a
*constant* learning rate of 0.01 (a schedule would change the rate along the curve) and no
augmentation (so that the nets differ only in batch norm). Test accuracy is measured every few
steps on the test images; the report gives the steps needed to reach 85% test accuracy and the
curves, per seed.

Run::

    python -m apps.batchnorm_study --full --seeds 0,1    # the study: 60,000 images, 2 epochs
    python -m apps.batchnorm_study --full --estimate     # time a few steps, print the estimate
    python -m apps.batchnorm_study                       # quick: 12,000 images, 1 epoch
    python -m apps.batchnorm_study --smoke --out /tmp/bn # seconds (the tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from apps import _fashion_study as fs  # noqa: E402

LEARNING_RATE = 0.01
TARGET = 0.85
RUNS = {
    "without batch norm": (False, LEARNING_RATE),
    "with batch norm": (True, LEARNING_RATE),
    "with batch norm, 5× learning rate": (True, 5 * LEARNING_RATE),
}
SETTINGS = {
    "full": dict(train=None, test=None, epochs=2, batch=32, every=100, width=0.125, fc=64),
    "quick": dict(train=12_000, test=2_000, epochs=1, batch=32, every=25, width=0.125, fc=64),
    "smoke": dict(train=384, test=256, epochs=1, batch=32, every=4, width=0.0625, fc=16),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="batchnorm_study", description=__doc__.splitlines()[0])
    fs.add_setting_arguments(parser, os.path.join("out", "batchnorm_study"))
    parser.add_argument("--epochs", type=int, default=None, help="passes over the training set")
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.exit(2, "batchnorm_study: error: --epochs must be >= 1\n")
    args.seed_list = fs.parse_seeds(args.seeds, "batchnorm_study")
    return args


def build(batch_norm, settings, seed):
    import kerasconv

    kerasconv.training.reproducible(seed)
    return kerasconv.models.VGG(
        config="A",
        batch_norm=batch_norm,
        input_shape=(32, 32, 1),
        classes=10,
        width_multiplier=settings["width"],
        fc_units=settings["fc"],
        dropout=0.0,
    )


def accuracy_function(model, batch_size=500):
    """A compiled ``accuracy(x, y)`` over the whole of ``x`` in inference mode, ``batch_size``
    images at a time (one ``tf.range`` loop inside one cached ``tf.function``)."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def accuracy(x, y):
        count = tf.shape(x)[0]
        correct = tf.constant(0, tf.int64)
        for start in tf.range(0, count, batch_size):
            probabilities = model(x[start : start + batch_size], training=False)
            predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            hits = tf.equal(predicted, y[start : start + batch_size])
            correct += tf.reduce_sum(tf.cast(hits, tf.int64))
        return tf.cast(correct, tf.float64) / tf.cast(count, tf.float64)

    return accuracy


def _curve_callback(x_test, y_test, every):
    import keras
    import tensorflow as tf

    class TestAccuracyEvery(keras.callbacks.Callback):
        """Test accuracy after every ``every`` training steps (counted across epochs)."""

        def __init__(self):
            super().__init__()
            self.x = tf.convert_to_tensor(x_test)
            self.y = tf.convert_to_tensor(y_test.astype("int32"))
            self.step, self.steps, self.accuracies = 0, [], []

        def on_train_begin(self, logs=None):
            self.accuracy = accuracy_function(self.model)

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step % every == 0:
                self.steps.append(self.step)
                self.accuracies.append(float(self.accuracy(self.x, self.y)))

    return TestAccuracyEvery()


def train_curve(batch_norm, learning_rate, settings, data, seed):
    """``(steps, test accuracies, seconds)`` for one net."""
    import kerasconv

    x_train, y_train, x_test, y_test = data
    model = build(batch_norm, settings, seed)
    callback = _curve_callback(x_test, y_test, settings["every"])
    started = time.time()
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=settings["epochs"],
        batch_size=settings["batch"],
        learning_rate=learning_rate,
        schedule="constant",
        weight_decay=5e-4,
        seed=seed,
        callbacks=[callback],
        verbose=0,
    )
    return callback.steps, callback.accuracies, time.time() - started


def steps_to_reach(steps, accuracies, target=TARGET):
    """The first measured step at which test accuracy is at least ``target``, or ``None``."""
    for step, accuracy in zip(steps, accuracies, strict=True):
        if accuracy >= target:
            return int(step)
    return None


def run(settings, seeds, data):
    results = {label: [] for label in RUNS}
    for seed in seeds:
        for label, (batch_norm, learning_rate) in RUNS.items():
            steps, accuracies, seconds = train_curve(
                batch_norm, learning_rate, settings, data, seed
            )
            reached = steps_to_reach(steps, accuracies)
            results[label].append(
                {
                    "seed": seed,
                    "steps": steps,
                    "accuracy": accuracies,
                    "steps_to_target": reached,
                    "seconds": seconds,
                }
            )
            print(
                f"{label:>34}, seed {seed}: {TARGET:.0%} at step {reached or 'not reached'}, "
                f"final test accuracy {accuracies[-1]:.3f} ({seconds:.0f} s)",
                flush=True,
            )
    return results


def estimate(settings, seeds, sample):
    x, y = sample[0], sample[1]
    train_size = settings["train"] or fs.TRAIN_SIZE
    test_size = settings["test"] or fs.TEST_SIZE
    total, parts = 0.0, []
    steps = settings["epochs"] * (train_size // settings["batch"])
    for label, (batch_norm, _) in RUNS.items():
        seconds = fs.seconds_per_step(build(batch_norm, settings, 0), x, y, settings["batch"])
        # Each evaluation: a forward pass over the test images, about 1/3 of a training step each.
        evaluations = steps // settings["every"] * test_size / settings["batch"] / 3
        per_run = seconds * (steps + evaluations)
        total += per_run * len(seeds)
        parts.append(f"{label} {per_run:.0f} s × {len(seeds)} seed(s)")
    return total, parts


def _mean_curve(runs):
    import numpy as np

    length = min(len(r["accuracy"]) for r in runs)
    return np.mean([r["accuracy"][:length] for r in runs], axis=0)


def write_report(results, settings, setting, command, out, machine_line, wall):
    from kerasconv.visualize import plot

    os.makedirs(out, exist_ok=True)
    figure = "batchnorm_accuracy_vs_steps.png"
    seeds = [r["seed"] for r in next(iter(results.values()))]
    plot.accuracy_curves(
        {label: _mean_curve(runs) for label, runs in results.items()},
        path=os.path.join(out, figure),
        title=f"VGG-A (1/8 width) on Fashion-MNIST, test accuracy ({setting}; "
        f"mean of {len(seeds)} seed(s))",
        xlabel=f"training steps (× {settings['every']}, batch {settings['batch']})",
    )
    train_text = f"{settings['train']:,}" if settings["train"] else "all 60,000"
    test_text = f"{settings['test']:,}" if settings["test"] else "all 10,000"
    last = results[next(iter(results))][0]["steps"][-1]
    lines = [
        "# Batch normalisation: test accuracy against training steps",
        "",
        "Ioffe & Szegedy 2015 (Figure 1, MNIST): the batch-normalised net reaches a given test "
        "accuracy in far fewer steps and trains at a larger learning rate.",
        "",
        f"Setting **{setting}**: VGG-A with filters × {settings['width']} and fully connected "
        f"layers of {settings['fc']}, {train_text} training images at 32×32, test accuracy on "
        f"{test_text} test images every {settings['every']} steps; batch {settings['batch']}, "
        f"{settings['epochs']} epoch(s) ({last} steps), SGD momentum 0.9, weight decay 5e-4, "
        f"constant learning rate {LEARNING_RATE} (5× for the last run), no augmentation.",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line}; wall time {wall:.0f} s.",
        "",
        f"| run | steps to {TARGET:.0%} (per seed) | steps to {TARGET:.0%} (mean ± std) "
        f"| test accuracy after {last} steps | seconds per run |",
        "|---|---|---:|---:|---:|",
    ]
    for label, runs in results.items():
        per_seed = ", ".join(str(r["steps_to_target"] or "not reached") for r in runs)
        reached = [r["steps_to_target"] for r in runs]
        mean_steps = "not reached" if None in reached else fs.pm(reached, 1, 0)
        lines.append(
            f"| {label} | {per_seed} | {mean_steps} "
            f"| {fs.pm([r['accuracy'][-1] for r in runs], 100, 1, '%')} "
            f"| {fs.pm([r['seconds'] for r in runs], 1, 0)} |"
        )
    lines += [
        "",
        f"Seeds: {', '.join(map(str, seeds))}. Steps are measured at a resolution of "
        f"{settings['every']} steps.",
        "",
        f"![test accuracy against training steps]({figure})",
        "",
    ]
    return fs.write_report(out, lines, setting, settings, results)


def main(argv=None):
    args = parse_args(argv)
    return fs.main(
        "batchnorm_study",
        argv,
        args,
        SETTINGS,
        estimate=lambda settings, sample: estimate(settings, args.seed_list, sample),
        run=lambda settings, data: run(settings, args.seed_list, data),
        report=write_report,
    )


if __name__ == "__main__":
    sys.exit(main())
