"""Recipe quality on Fashion-MNIST: LeNet-5, a batch-norm CNN and ResNet-20 with the package's recipe.

Issue 17, point 1. Each net is trained with ``kerasconv.training.train`` (SGD with momentum 0.9,
cosine learning-rate schedule, decoupled weight decay 5e-4) and ``kerasconv.data.augmentation``
(random translations of 10% and horizontal flips; ``--fill zeros``: the translations by whole
pixels with a black border instead of Keras's reflected one) on Fashion-MNIST at 32×32, and its
test accuracy is set beside the Fashion-MNIST README's benchmark table and the issue's goals:

* LeNet-5 (``lenet5``, modern): README anchor 2 conv + pooling 91.6%; goal ≥ 90%;
* a batch-norm CNN (``VGG(config="A", batch_norm=True)`` at ¼ width): anchor 2 conv + pooling +
  batch norm 93.4%; goal ≥ 92.5%;
* ResNet-20 (``CIFARResNet(depth=20)``, 16/32/64 filters): anchor ResNet18 94.9%; goal ≥ 93%.

Run::

    python -m apps.recipe_study --full                    # the study (see --estimate)
    python -m apps.recipe_study --full --models lenet5     # one net of the full study
    python -m apps.recipe_study --full --fill zeros        # pad-and-crop translations
    python -m apps.recipe_study --full --estimate          # time a few steps, print the estimate
    python -m apps.recipe_study --merge out/a out/b --out out/ab  # one report from earlier runs
    python -m apps.recipe_study                            # quick: 12,000 images, 3 epochs
    python -m apps.recipe_study --smoke --out /tmp/recipe  # seconds (the tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from apps import _fashion_study as fs  # noqa: E402

MODELS = ("lenet5", "bn_cnn", "resnet20")
LABELS = {
    "lenet5": "LeNet-5",
    "bn_cnn": "batch-norm CNN (VGG-A-BN, ¼ width)",
    "resnet20": "ResNet-20",
}
ANCHORS = {
    "lenet5": ("2 conv + pooling", 91.6),
    "bn_cnn": ("2 conv + pooling + BN", 93.4),
    "resnet20": ("ResNet18", 94.9),
}
GOALS = {"lenet5": 90.0, "bn_cnn": 92.5, "resnet20": 93.0}
# Learning rate per net (batch 128): LeNet-5 and the BN CNN as the web demo's LeNet-5 recipe,
# ResNet-20 as He et al. 2016 (0.1). Chosen before any run; not tuned.
LEARNING_RATES = {"lenet5": 0.05, "bn_cnn": 0.05, "resnet20": 0.1}

SETTINGS = {
    "full": dict(train=None, test=None, epochs=30, batch=128, widths=dict(bn_cnn=0.25, resnet=16)),
    "quick": dict(
        train=12_000, test=10_000, epochs=3, batch=128, widths=dict(bn_cnn=0.25, resnet=16)
    ),
    "smoke": dict(train=256, test=256, epochs=1, batch=64, widths=dict(bn_cnn=0.0625, resnet=4)),
}


def build(name, widths, seed):
    import kerasconv

    kerasconv.training.reproducible(seed)
    if name == "lenet5":
        return kerasconv.models.LeNet5(input_shape=(32, 32, 1), classes=10)
    if name == "bn_cnn":
        return kerasconv.models.VGG(
            config="A",
            batch_norm=True,
            input_shape=(32, 32, 1),
            classes=10,
            width_multiplier=widths["bn_cnn"],
            fc_units=max(32, int(512 * widths["bn_cnn"])),
            dropout=0.5,
        )
    return kerasconv.models.CIFARResNet(
        depth=20, width=widths["resnet"], input_shape=(32, 32, 1), classes=10
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="recipe_study", description=__doc__.splitlines()[0])
    fs.add_setting_arguments(parser, os.path.join("out", "recipe_study"))
    fs.add_fill_argument(parser)
    parser.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the setting's epochs")
    fs.add_merge_argument(parser)
    args = parser.parse_args(argv)
    args.models = fs.parse_models(args.models, MODELS, "recipe_study")
    if args.epochs is not None and args.epochs < 1:
        parser.exit(2, "recipe_study: error: --epochs must be >= 1\n")
    args.seed_list = fs.parse_seeds(args.seeds, "recipe_study")
    return args


def estimate(settings, models, seeds, data):
    x_train, y_train = data[0], data[1]
    total, parts = 0.0, []
    train_size = len(x_train) if settings["train"] is not None else fs.TRAIN_SIZE
    for name in models:
        seconds = fs.seconds_per_step(
            build(name, settings["widths"], 0), x_train, y_train, settings["batch"]
        )
        # + one test-set evaluation per epoch, about a third of an epoch's forward-backward cost.
        per_epoch = (
            seconds * (train_size / settings["batch"]) * (1 + 0.33 * fs.TEST_SIZE / train_size)
        )
        run = per_epoch * settings["epochs"] * len(seeds)
        total += run
        parts.append(
            f"{name} {per_epoch:.0f} s/epoch × {settings['epochs']} × {len(seeds)} seed(s)"
        )
    return total, parts


def run(settings, models, seeds, data):
    """Train each net once per seed; returns ``{name: [ {accuracy, curve, seconds, seed} ]}``."""
    import kerasconv

    x_train, y_train, x_test, y_test = data
    results = {}
    for name in models:
        for seed in seeds:
            model = build(name, settings["widths"], seed)
            started = time.time()
            history = kerasconv.training.train(
                model,
                (x_train, y_train),
                (x_test, y_test),
                epochs=settings["epochs"],
                batch_size=settings["batch"],
                learning_rate=LEARNING_RATES[name],
                weight_decay=5e-4,
                schedule="cosine",
                augment=fs.recipe_augmentation(seed, settings),
                seed=seed,
                verbose=0,
            )
            seconds = time.time() - started
            # The last epoch's evaluation on the whole test set (after the last weight update).
            accuracy = float(history.history["val_accuracy"][-1])
            results.setdefault(name, []).append(
                {
                    "seed": seed,
                    "accuracy": accuracy,
                    "curve": [float(v) for v in history.history["val_accuracy"]],
                    "train_curve": [float(v) for v in history.history["accuracy"]],
                    "seconds": seconds,
                    "params": kerasconv.models.count_trainable(model),
                }
            )
            print(
                f"{LABELS[name]}, seed {seed}: test accuracy {100 * accuracy:.2f}% "
                f"after {settings['epochs']} epochs, {seconds:.0f} s",
                flush=True,
            )
    return results


def write_report(results, settings, setting, command, out, machine_line, wall):
    from kerasconv.visualize import plot

    os.makedirs(out, exist_ok=True)
    figure = "recipe_curves.png"
    curves = {
        f"{LABELS[name]} (seed {r['seed']})": r["curve"] for name, rs in results.items() for r in rs
    }
    plot.accuracy_curves(
        curves,
        path=os.path.join(out, figure),
        title=f"Fashion-MNIST test accuracy per epoch ({setting} setting"
        + (", zero-filled translations)" if settings.get("fill") == "zeros" else ")"),
    )
    train_text = f"{settings['train']:,}" if settings["train"] else "all 60,000"
    test_text = f"{settings['test']:,}" if settings["test"] else "all 10,000"
    lines = [
        "# Recipe quality on Fashion-MNIST",
        "",
        f"Setting **{setting}**: {train_text} training and {test_text} test images at 32×32, "
        f"{settings['epochs']} epoch(s), batch {settings['batch']}; SGD momentum 0.9, cosine "
        f"schedule, weight decay 5e-4, {fs.translations_text(settings)} and horizontal flips.",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line}; wall time {wall:.0f} s.",
        "",
        "| net | # params | learning rate | epochs | seeds | test accuracy | README anchor | goal "
        "| goal met | wall time |",
        "|---|---:|---:|---:|---|---:|---|---:|---|---:|",
    ]
    for name, rs in results.items():
        accs = [r["accuracy"] for r in rs]
        mean, _ = fs.mean_std(accs)
        anchor, value = ANCHORS[name]
        met = "yes" if 100 * mean >= GOALS[name] else "no"
        lines.append(
            f"| {LABELS[name]} | {rs[0]['params']:,} | {LEARNING_RATES[name]} "
            f"| {settings['epochs']} | {', '.join(str(r['seed']) for r in rs)} "
            f"| {fs.pm(accs, 100, 2, '%')} | {anchor} {value}% "
            f"| ≥ {GOALS[name]}% | {met} | {fs.pm([r['seconds'] for r in rs], 1, 0, ' s')} |"
        )
    lines += [
        "",
        fs.spread_sentence("Test accuracies", fs.seeds_of(results)),
        "",
        f"![test accuracy per epoch]({figure})",
        "",
    ]
    return fs.write_report(out, lines, setting, settings, results)


def main(argv=None):
    args = parse_args(argv)
    return fs.main(
        "recipe_study",
        argv,
        args,
        SETTINGS,
        estimate=lambda settings, sample: estimate(settings, args.models, args.seed_list, sample),
        run=lambda settings, data: run(settings, args.models, args.seed_list, data),
        report=write_report,
        estimate_sample=2048,
        order=MODELS,
        overrides=("epochs", "fill"),
    )


if __name__ == "__main__":
    sys.exit(main())
