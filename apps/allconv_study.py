"""Springenberg et al.'s all-convolutional table on Fashion-MNIST: one command, one report.

Issue 17, point 5. Trains Model C, Strided-CNN-C, ConvPool-CNN-C and All-CNN-C
(``kerasconv.models.allconv``) on Fashion-MNIST at 32×32×1 with one recipe
(``kerasconv.training.train``: SGD with momentum 0.9, learning rate 0.01 — the smallest of the
paper's grid {0.25, 0.1, 0.05, 0.01}, used for all four, not tuned —, cosine schedule, weight decay
5e-4; ``kerasconv.data.augmentation``: translations of 10% and horizontal flips) and the paper's
dropout (20% on the input, 50% after each size reduction), at a quarter of the paper's width (24/48
filters instead of 96/192) so that it fits a CPU, and writes the table in the paper's form
(Model | Error (%) | # parameters) beside the paper's CIFAR-10 errors, plus the test-accuracy curves.

Run::

    python -m apps.allconv_study --full                  # the study (see --estimate)
    python -m apps.allconv_study --full --estimate       # time a few steps, print the estimate
    python -m apps.allconv_study --full --models all_cnn_c   # one net of the full study
    python -m apps.allconv_study --merge out/a out/b --out out/ab   # one report from earlier runs
    python -m apps.allconv_study                         # quick: 12,000 images, 3 epochs
    python -m apps.allconv_study --smoke --out /tmp/ac   # seconds (the tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from apps import _fashion_study as fs  # noqa: E402

VARIANTS = ("model_c", "strided_cnn_c", "convpool_cnn_c", "all_cnn_c")
LABELS = {
    "model_c": "Model C",
    "strided_cnn_c": "Strided-CNN-C",
    "convpool_cnn_c": "ConvPool-CNN-C",
    "all_cnn_c": "All-CNN-C",
}
# Springenberg et al. 2015, Table 3 (CIFAR-10 without augmentation), as quoted in the notes.
PAPER_ERROR = {"model_c": 9.74, "strided_cnn_c": 10.19, "convpool_cnn_c": 9.31, "all_cnn_c": 9.08}
LEARNING_RATE = 0.01

SETTINGS = {
    "full": dict(
        train=None, test=None, width=0.25, epochs=20, batch=128, dropout=0.5, input_dropout=0.2
    ),
    "quick": dict(
        train=12_000, test=10_000, width=0.25, epochs=3, batch=128, dropout=0.5, input_dropout=0.2
    ),
    "smoke": dict(
        train=512, test=256, width=0.0625, epochs=1, batch=64, dropout=0.0, input_dropout=0.0
    ),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="allconv_study", description=__doc__.splitlines()[0])
    fs.add_setting_arguments(parser, os.path.join("out", "allconv_study"))
    fs.add_fill_argument(parser)
    parser.add_argument(
        "--models",
        default=",".join(VARIANTS),
        help=f"comma-separated subset of {', '.join(VARIANTS)}",
    )
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per model")
    fs.add_merge_argument(parser)
    args = parser.parse_args(argv)
    args.models = fs.parse_models(args.models, VARIANTS, "allconv_study")
    if args.epochs is not None and args.epochs < 1:
        parser.exit(2, "allconv_study: error: --epochs must be >= 1\n")
    args.seed_list = fs.parse_seeds(args.seeds, "allconv_study")
    return args


def build(variant, settings, seed):
    import kerasconv

    kerasconv.training.reproducible(seed)
    return kerasconv.models.create(
        variant,
        input_shape=(32, 32, 1),
        classes=10,
        width_multiplier=settings["width"],
        dropout=settings["dropout"],
        input_dropout=settings["input_dropout"],
    )


def run(settings, seeds, data, variants=VARIANTS):
    """Train each net once per seed; ``{variant: [ {seed, error, curve, seconds} ]}``."""
    import kerasconv

    x_train, y_train, x_test, y_test = data
    results = {}
    for seed in seeds:
        for variant in variants:
            model = build(variant, settings, seed)
            started = time.time()
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
                verbose=0,
            )
            curve = [float(v) for v in history.history["val_accuracy"]]
            results.setdefault(variant, []).append(
                {
                    "seed": seed,
                    "error": 100.0 * (1.0 - curve[-1]),
                    "curve": curve,
                    "params": kerasconv.models.count_trainable(model),
                    "paper_params": kerasconv.models.get_info(variant).params,
                    "seconds": time.time() - started,
                }
            )
            print(
                f"{LABELS[variant]:>15}, seed {seed}: test error {results[variant][-1]['error']:.2f}% "
                f"({results[variant][-1]['seconds']:.0f} s)",
                flush=True,
            )
    return results


def estimate(settings, seeds, sample, variants=VARIANTS):
    x, y = sample[0], sample[1]
    train_size = settings["train"] or fs.TRAIN_SIZE
    total, parts = 0.0, []
    for variant in variants:
        seconds = fs.seconds_per_step(build(variant, settings, 0), x, y, settings["batch"])
        per_epoch = (
            seconds * train_size / settings["batch"] * (1 + 0.33 * fs.TEST_SIZE / train_size)
        )
        total += per_epoch * settings["epochs"] * len(seeds)
        parts.append(f"{LABELS[variant]} {per_epoch:.0f} s/epoch")
    parts.append(f"{settings['epochs']} epochs × {len(seeds)} seed(s)")
    return total, parts


def write_report(results, settings, setting, command, out, machine_line, wall):
    from kerasconv.visualize import plot

    os.makedirs(out, exist_ok=True)
    figure = "allconv_curves.png"
    plot.accuracy_curves(
        {f"{LABELS[v]} (seed {r['seed']})": r["curve"] for v, rs in results.items() for r in rs},
        path=os.path.join(out, figure),
        title=f"All-convolutional family on Fashion-MNIST ({setting}): test accuracy",
    )
    train_text = f"{settings['train']:,}" if settings["train"] else "all 60,000"
    test_text = f"{settings['test']:,}" if settings["test"] else "all 10,000"
    lines = [
        "# Striving for simplicity: the all-convolutional family on Fashion-MNIST",
        "",
        "Springenberg et al. 2015 replace max pooling by strided convolutions and find All-CNN-C "
        "as good as or better than the nets with pooling (CIFAR-10, Table 3).",
        "",
        f"Setting **{setting}**: {train_text} training / {test_text} test images at 32×32×1, "
        f"filters × {settings['width']} ({round(96 * settings['width'])}/"
        f"{round(192 * settings['width'])} instead of 96/192), {settings['epochs']} epoch(s), "
        f"batch {settings['batch']}, SGD momentum 0.9, learning rate {LEARNING_RATE} with a cosine "
        f"schedule, weight decay 5e-4, {fs.translations_text(settings)} and flips, dropout "
        f"{settings['input_dropout']} on the input and {settings['dropout']} after each size "
        "reduction.",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line}; wall time {wall:.0f} s.",
        "",
        "| Model | seeds | Error (%) (Fashion-MNIST, this run) | # parameters (this width) "
        "| Error (%) (CIFAR-10, paper) | # parameters (paper width) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for variant, rs in results.items():
        lines.append(
            f"| {LABELS[variant]} | {', '.join(str(r['seed']) for r in rs)} "
            f"| {fs.pm([r['error'] for r in rs], 1, 2)} | {rs[0]['params']:,} "
            f"| {PAPER_ERROR[variant]:.2f} | ≈ {rs[0]['paper_params'] / 1e6:.2f} M |"
        )
    lines += [
        "",
        fs.spread_sentence("Errors", fs.seeds_of(results))
        + " The notes' table gives ≈1.3 M / 1.3 M / 1.4 M / 1.4 M parameters; "
        "counting Model C's layers gives 0.95 M (Strided-CNN-C the same; the two others 1.37 M).",
        "",
        f"![test accuracy per epoch]({figure})",
        "",
    ]
    return fs.write_report(out, lines, setting, settings, results)


def main(argv=None):
    args = parse_args(argv)
    return fs.main(
        "allconv_study",
        argv,
        args,
        SETTINGS,
        estimate=lambda settings, sample: estimate(settings, args.seed_list, sample, args.models),
        run=lambda settings, data: run(settings, args.seed_list, data, args.models),
        report=write_report,
        order=VARIANTS,
        overrides=("epochs", "fill"),
    )


if __name__ == "__main__":
    sys.exit(main())
