"""Residual learning on Fashion-MNIST: training error of plain vs residual nets, and their loss surfaces.

Issue 17, point 7. He et al.'s CIFAR nets (``kerasconv.models.CIFARResNet``) at two depths, with
and without shortcuts — plain-20, plain-56, ResNet-20 and ResNet-56 in the full setting, at half
He et al.'s width (8/16/32 filters instead of 16/32/64) so that they fit a CPU — are trained on
Fashion-MNIST at 32×32 with the package's recipe (``kerasconv.training.train``: SGD momentum 0.9,
learning rate 0.1 with a cosine schedule, weight decay 5e-4; translations and flips). Then

* **training-error curves** (He et al. 2016, Fig. 1): the error on the training batches as they
  are trained on (as He et al. plot it), averaged over windows of steps. The paper: the deeper
  plain net has the *higher* training error (degradation); the deeper ResNet the lower;
* **2-D loss surfaces** (Li et al. 2018, Fig. 1) of the deeper plain net and ResNet around their
  solutions, along two filter-normalised random directions, on training images (contours and 3-D
  surfaces, log scale, the same ranges). The paper: the plain-56 surface is chaotic and sharp, the
  ResNet-56 one wide and convex;
* the loss on the straight line from the initial to the trained weights (Goodfellow et al. 2014).

Writes ``training_error.png``, ``surfaces.png``, ``interpolation.png``, ``surfaces.npz``,
``results.json`` and ``report.md`` to ``--out``.

    python -m apps.loss_landscape --full               # the study (see --estimate)
    python -m apps.loss_landscape --full --estimate    # time a few steps, print the estimate
    python -m apps.loss_landscape                      # quick: 12,000 images, 2 epochs
    python -m apps.loss_landscape --smoke              # seconds (the tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from apps import _fashion_study as fs  # noqa: E402

LEARNING_RATE = 0.1
SETTINGS = {
    "full": dict(
        train=None, test=None, depths=(20, 56), width=8, epochs=10, batch=128, every=50,
        resolution=21, range=1.0, samples=1000,
    ),
    "quick": dict(
        train=12_000, test=2_000, depths=(20, 56), width=8, epochs=2, batch=128, every=10,
        resolution=11, range=1.0, samples=500,
    ),
    "smoke": dict(
        train=256, test=128, depths=(8, 14), width=2, epochs=1, batch=32, every=4,
        resolution=3, range=1.0, samples=32,
    ),
}  # fmt: skip


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="loss_landscape", description=__doc__.splitlines()[0])
    fs.add_setting_arguments(parser, os.path.join("out", "loss_landscape"))
    fs.add_fill_argument(parser)
    parser.add_argument("--epochs", type=int, default=None, help="override the setting's epochs")
    parser.add_argument("--width", type=int, default=None, help="first-stage filters (He: 16)")
    args = parser.parse_args(argv)
    for name in ("epochs", "width"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.exit(2, f"loss_landscape: error: --{name} must be >= 1\n")
    args.seed_list = fs.parse_seeds(args.seeds, "loss_landscape")
    return args


def label(depth, shortcuts):
    return f"{'ResNet' if shortcuts else 'plain'}-{depth}"


def build(depth, shortcuts, width, seed):
    import kerasconv

    kerasconv.training.reproducible(seed)
    return kerasconv.models.CIFARResNet(
        depth=depth, shortcuts=shortcuts, width=width, input_shape=(32, 32, 1), classes=10
    )


def _training_error_callback(every, batch_size, train_size):
    """Training error over windows of ``every`` steps, from Keras's running epoch accuracy."""
    import keras

    class TrainingErrorEvery(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step, self.steps, self.errors = 0, [], []
            self.correct = self.seen = 0.0  # in the current window

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_correct = self.epoch_seen = 0.0

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            # Keras's accuracy is the mean over the epoch's samples so far: recover the counts.
            seen = float(min((batch + 1) * batch_size, train_size))
            correct = float(logs["accuracy"]) * seen
            self.correct += correct - self.epoch_correct
            self.seen += seen - self.epoch_seen
            self.epoch_correct, self.epoch_seen = correct, seen
            if self.step % every == 0:
                self.steps.append(self.step)
                self.errors.append(1.0 - self.correct / self.seen)
                self.correct = self.seen = 0.0

    return TrainingErrorEvery()


def train(model, settings, data, seed):
    import kerasconv

    x_train, y_train, x_test, y_test = data
    callback = _training_error_callback(settings["every"], settings["batch"], len(x_train))
    history = kerasconv.training.train(
        model,
        (x_train, y_train),
        (x_test, y_test),
        epochs=settings["epochs"],
        batch_size=settings["batch"],
        learning_rate=LEARNING_RATE,
        weight_decay=5e-4,
        schedule="cosine",
        augment=fs.recipe_augmentation(seed, settings),
        seed=seed,
        callbacks=[callback],
        verbose=0,
    )
    return callback.steps, callback.errors, [float(v) for v in history.history["val_accuracy"]]


def sharpness(surface):
    """Mean loss on the grid's outer ring minus the centre loss: how fast the loss rises."""
    import numpy as np

    loss = surface["loss"]
    ring = np.concatenate([loss[0], loss[-1], loss[1:-1, 0], loss[1:-1, -1]])
    return float(ring.mean() - loss[loss.shape[0] // 2, loss.shape[1] // 2])


def run(settings, seeds, data):
    """Train every net per seed; the surfaces of the deepest pair for the first seed."""
    import numpy as np

    import kerasconv

    x_train, y_train = data[0], data[1]
    evaluation = (x_train[: settings["samples"]], y_train[: settings["samples"]])
    deepest = max(settings["depths"])
    results, surfaces, lines = {}, {}, {}
    for seed in seeds:
        for shortcuts in (False, True):
            for depth in settings["depths"]:
                name = label(depth, shortcuts)
                model = build(depth, shortcuts, settings["width"], seed)
                initial = kerasconv.visualize.model_state(model)
                started = time.time()
                steps, errors, test_curve = train(model, settings, data, seed)
                entry = {
                    "seed": seed,
                    "steps": steps,
                    "train_error": errors,
                    "test_error": 1.0 - test_curve[-1],
                    "params": kerasconv.models.count_trainable(model),
                    "train_seconds": time.time() - started,
                }
                if depth == deepest and seed == seeds[0]:
                    started = time.time()
                    surface = kerasconv.visualize.loss_surface(
                        model,
                        evaluation,
                        x_range=(-settings["range"], settings["range"]),
                        y_range=(-settings["range"], settings["range"]),
                        resolution=settings["resolution"],
                        seed=seed,
                    )
                    surfaces[name] = surface
                    lines[name] = kerasconv.visualize.interpolate_loss(
                        model, initial, model, evaluation, alphas=np.linspace(0.0, 1.25, 11)
                    )
                    centre = surface["loss"][surface["loss"].shape[0] // 2][
                        surface["loss"].shape[1] // 2
                    ]
                    entry.update(
                        sharpness=sharpness(surface),
                        centre_loss=float(centre),
                        surface_seconds=time.time() - started,
                    )
                results.setdefault(name, []).append(entry)
                print(
                    f"{name}, seed {seed}: final training error {100 * errors[-1]:.1f}%, test "
                    f"error {100 * entry['test_error']:.1f}% ({entry['train_seconds']:.0f} s)",
                    flush=True,
                )
    return results, surfaces, lines


def estimate(settings, seeds, sample):
    x, y = sample[0], sample[1]
    train_size = settings["train"] or fs.TRAIN_SIZE
    test_size = settings["test"] or fs.TEST_SIZE
    total, parts = 0.0, []
    for shortcuts in (False, True):
        for depth in settings["depths"]:
            model = build(depth, shortcuts, settings["width"], 0)
            step = fs.seconds_per_step(model, x, y, settings["batch"])
            per_image_forward = step / settings["batch"] / 3
            per_epoch = step * train_size / settings["batch"] + per_image_forward * test_size
            seconds = per_epoch * settings["epochs"] * len(seeds)
            if depth == max(settings["depths"]):
                points = settings["resolution"] ** 2 + 11
                seconds += per_image_forward * points * settings["samples"]
            total += seconds
            parts.append(f"{label(depth, shortcuts)} {per_epoch:.0f} s/epoch")
    parts.append(
        f"{settings['epochs']} epochs × {len(seeds)} seed(s); surfaces "
        f"{settings['resolution']}² points × {settings['samples']} images"
    )
    return total, parts


def final_error(entry, windows=3):
    """The training error over the last ``windows`` windows (less noisy than the last one)."""
    import numpy as np

    return float(np.mean(entry["train_error"][-windows:]))


def write_report(results, surfaces, lines_, settings, setting, command, out, machine_line, wall):
    import numpy as np

    from kerasconv.visualize import plot

    os.makedirs(out, exist_ok=True)
    seeds = [r["seed"] for r in next(iter(results.values()))]
    fs.line_figure(
        {
            f"{name} (seed {r['seed']})": (r["steps"], 100 * np.asarray(r["train_error"]))
            for name, rs in results.items()
            for r in rs
        },
        os.path.join(out, "training_error.png"),
        title=f"Training error on Fashion-MNIST ({setting}; width {settings['width']}, "
        f"mean over windows of {settings['every']} steps)",
        xlabel=f"training step (batch {settings['batch']})",
        ylabel="training error (%)",
        log_y=True,
    )
    deepest = max(settings["depths"])
    plot.loss_surfaces(
        surfaces,
        path=os.path.join(out, "surfaces.png"),
        title=f"Loss surfaces on Fashion-MNIST training images, filter-normalised directions "
        f"(depth {deepest}, width {settings['width']})",
    )
    plot.interpolation_curves(
        lines_,
        path=os.path.join(out, "interpolation.png"),
        title="Loss from the initial (alpha=0) to the trained (alpha=1) weights",
    )
    np.savez(
        os.path.join(out, "surfaces.npz"),
        **{
            f"{name}_{key}": value
            for name, s in surfaces.items()
            for key, value in s.items()
            if key != "directions"
        },
    )
    train_text = f"{settings['train']:,}" if settings["train"] else "all 60,000"
    test_text = f"{settings['test']:,}" if settings["test"] else "all 10,000"
    width = settings["width"]
    lines = [
        "# Residual learning: training error and loss surfaces, plain vs residual nets",
        "",
        "He et al. 2016, Fig. 1: the deeper *plain* net has the higher training error "
        "(degradation), the deeper ResNet the lower. Li et al. 2018, Fig. 1: without skip "
        "connections the deep net's loss surface is chaotic and sharp; with them it is wide and "
        "nearly convex.",
        "",
        f"Setting **{setting}**: {train_text} training / {test_text} test images at 32×32, "
        f"CIFAR nets of depth {' and '.join(map(str, settings['depths']))} with first-stage width "
        f"{width} ({width}/{2 * width}/{4 * width} filters; He et al.: 16/32/64), "
        f"{settings['epochs']} epoch(s), batch {settings['batch']}, SGD momentum 0.9, learning "
        f"rate {LEARNING_RATE} with a cosine schedule, weight decay 5e-4, "
        f"{fs.translations_text(settings)} and flips. "
        f"Surfaces: {settings['resolution']}×{settings['resolution']} grid over "
        f"[-{settings['range']}, {settings['range']}]², mean cross-entropy on the first "
        f"{settings['samples']} training images (no augmentation, batch norm in inference mode).",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line}; wall time {wall:.0f} s.",
        "",
        "| net | # params | training error, last 3 windows | test error | centre loss "
        "| sharpness (ring − centre) | train s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rs in results.items():
        first = rs[0]
        centre = f"{first['centre_loss']:.3f}" if "centre_loss" in first else "–"
        sharp = f"{first['sharpness']:.3f}" if "sharpness" in first else "–"
        lines.append(
            f"| {name} | {first['params']:,} | {fs.pm([final_error(r) for r in rs], 100, 1, '%')} "
            f"| {fs.pm([r['test_error'] for r in rs], 100, 1, '%')} | {centre} | {sharp} "
            f"| {fs.pm([r['train_seconds'] for r in rs], 1, 0)} |"
        )
    shallow = min(settings["depths"])

    def order(kind):
        a = fs.mean_std([final_error(r) for r in results[label(deepest, kind)]])[0]
        b = fs.mean_std([final_error(r) for r in results[label(shallow, kind)]])[0]
        return "above" if a > b else "below"

    lines += [
        "",
        fs.spread_sentence("Training and test errors", seeds) + " "
        f"Measured: plain-{deepest}'s final training error is **{order(False)}** "
        f"plain-{shallow}'s (He et al.: above); ResNet-{deepest}'s is **{order(True)}** "
        f"ResNet-{shallow}'s (He et al.: below).",
        "",
        "![training error](training_error.png)",
        "",
        "![surfaces](surfaces.png)",
        "",
        "A larger sharpness number means the loss climbs faster away from the solution; where "
        "the grid's outer ring lies on a plateau of high loss for both nets, the number no "
        "longer tells the basins' widths apart: compare the contours.",
        "",
        "![interpolation](interpolation.png)",
        "",
        "Goodfellow et al.'s experiment: the loss on the straight line from the initial to the "
        "trained weights.",
        "",
    ]
    return fs.write_report(out, lines, setting, settings, results)


def main(argv=None):
    args = parse_args(argv)
    return fs.main(
        "loss_landscape",
        argv,
        args,
        SETTINGS,
        estimate=lambda settings, sample: estimate(settings, args.seed_list, sample),
        run=lambda settings, data: run(settings, args.seed_list, data),
        # run returns (results, surfaces, lines): the report takes them in that order.
        report=lambda outputs, *rest: write_report(*outputs, *rest),
        overrides=("epochs", "width", "fill"),
    )


if __name__ == "__main__":
    sys.exit(main())
