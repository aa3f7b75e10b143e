"""Shared pieces of the Fashion-MNIST studies (issue 17): data, the recipe, timing, the machine.

Used by ``recipe_study``, ``batchnorm_study``, ``allconv_study`` and ``loss_landscape``. Every study
has three settings: ``--full`` (the whole of Fashion-MNIST, 60,000 training and 10,000 test images),
the default quick setting (a subset, minutes) and ``--smoke`` (seconds, for the test suite).
"""

from __future__ import annotations

import os
import platform
import sys
import time

TRAIN_SIZE, TEST_SIZE = 60_000, 10_000


def load_fashion(train_count=None, test_count=None, image_size=32):
    """``(x_train, y_train, x_test, y_test)``: the first ``train_count`` / ``test_count`` images of
    Fashion-MNIST's splits (all of them for ``None``), resized to ``image_size`` (32: LeNet-5's and
    the CIFAR nets' input), pixels in [0, 1]."""
    import kerasconv

    def split(name, count, total):
        return name if count is None or count >= total else f"{name}[:{int(count)}]"

    x_train, y_train = kerasconv.data.load_arrays(
        "fashion_mnist", split("train", train_count, TRAIN_SIZE), image_size=image_size
    )
    x_test, y_test = kerasconv.data.load_arrays(
        "fashion_mnist", split("test", test_count, TEST_SIZE), image_size=image_size
    )
    return x_train, y_train, x_test, y_test


FILLS = {
    # Keras's default: a translated image's empty border holds a mirror image of its edge, and
    # shifts by fractions of a pixel blur it. The recipe of every documented run before --fill.
    "reflect": (
        dict(fill_mode="reflect", interpolation="bilinear"),
        "random translations (10%, borders reflected)",
    ),
    # Black where the image moved away, whole-pixel shifts: He et al.'s "pad with zeros and crop
    # at random" for objects on a black background (no mirrored copy of a garment's edge).
    "zeros": (
        dict(fill_mode="constant", interpolation="nearest"),
        "random translations (10%, whole pixels, zero fill)",
    ),
}


def recipe_augmentation(seed, settings):
    """The package's augmentation for Fashion-MNIST: small random translations (10%) and
    horizontal flips (a mirrored garment is the same garment), with the border of
    ``settings["fill"]`` (one of ``FILLS``; absent: reflect)."""
    import kerasconv

    moves = FILLS[settings.get("fill", "reflect")][0]
    return kerasconv.data.augmentation(flip=True, translate=0.1, seed=seed, **moves)


def translations_text(settings):
    """How a report names the recipe's translations for ``settings`` (``fill`` absent: reflect)."""
    return FILLS[settings.get("fill", "reflect")][1]


def add_fill_argument(parser):
    """``--fill reflect|zeros``: what the recipe's translations put where the image moved away."""
    parser.add_argument(
        "--fill",
        choices=sorted(FILLS),
        default=None,
        help="the translations' empty border: reflect (Keras's default, mirrored edges, the "
        "documented runs) or zeros (black, whole-pixel shifts: pad and crop)",
    )


def machine():
    """One line about where and when a run happened: CPU count, load averages, date."""
    try:
        load = "load average {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    return (
        f"{os.cpu_count()} CPU cores ({platform.machine()}), {load}, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def seconds_per_step(model, x, y, batch_size, steps=5, learning_rate=0.01):
    """Measured seconds per training step of ``model`` with the recipe's optimizer (SGD momentum,
    weight decay) at ``batch_size``: one warm-up step (tracing), then the median of ``steps``
    (the median: on a shared machine single steps are slowed by other jobs)."""
    import numpy as np

    import kerasconv

    model.compile(
        optimizer=kerasconv.training.make_optimizer(learning_rate=learning_rate),
        loss=kerasconv.training.default_loss(model),
    )
    take = np.arange(batch_size) % len(x)
    xb, yb = x[take], y[take]
    model.train_on_batch(xb, yb)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        model.train_on_batch(xb, yb)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def format_minutes(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def estimate_line(name, total_seconds, parts):
    """A one-line runtime estimate: ``name: ~N min (part a, part b ...) on this machine now``."""
    return (
        f"{name}: estimated {format_minutes(total_seconds)} "
        f"({'; '.join(parts)}), measured from a few training steps on {machine()}"
    )


def write_report(out, lines, setting, settings, results):
    """Write ``out/report.md`` (``lines`` joined) and ``out/results.json``; returns the report path."""
    import json

    path = os.path.join(out, "report.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"setting": setting, "settings": settings, "results": results}, handle, indent=1)
    return path


def command_line(app, argv):
    """The exact command a report records: ``python -m apps.<app> <arguments>``."""
    import sys

    return f"python -m apps.{app} " + " ".join(argv if argv is not None else sys.argv[1:])


def main(
    app,
    argv,
    args,
    settings_table,
    estimate,
    run,
    report,
    overrides=("epochs",),
    estimate_sample=1024,
    order=None,
):
    """The shared ``main`` of the training studies: pick the setting, apply the command line's
    ``overrides``, then either print ``--estimate`` (``estimate(settings, sample)`` on
    ``estimate_sample`` training images) or ``run(settings, data)`` on Fashion-MNIST and
    ``report(results, settings, setting, command, out, machine_line, seconds)``. With
    ``--merge`` (``add_merge_argument``) the report is written from earlier runs instead, their
    nets in ``order``."""
    setting = setting_name(args)
    settings = dict(settings_table[setting])
    for name in overrides:
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if settings.get("fill") == "reflect":
        del settings["fill"]  # the default, recorded as the runs before --fill recorded it
    command = command_line(app, argv)
    started = time.time()
    if args.estimate and getattr(args, "merge", None):
        print(f"{app}: error: --estimate and --merge exclude each other", file=sys.stderr)
        raise SystemExit(2)
    if args.estimate:
        total, parts = estimate(settings, load_fashion(estimate_sample, 256))
        print(estimate_line(f"{app} ({setting})", total, parts))
        return 0
    if getattr(args, "merge", None):
        setting, settings, results, seconds = merge_results(args.merge, app, order)
        machine_line = (
            f"merged from {len(args.merge)} earlier runs' results.json; the time below is the "
            "sum of their training times"
        )
        path = report(results, settings, setting, command.strip(), args.out, machine_line, seconds)
        print(f"report: {path}")
        return 0
    machine_line = machine()
    results = run(settings, load_fashion(settings["train"], settings["test"]))
    path = report(
        results, settings, setting, command.strip(), args.out, machine_line, time.time() - started
    )
    print(f"report: {path}")
    return 0


def add_merge_argument(parser):
    """``--merge DIR [DIR ...]``: the report of earlier runs (other nets or seeds), no training."""
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        default=None,
        help="write one report from earlier runs' DIR/results.json (the same setting; other nets "
        "or seeds), without training; the runs' own settings are used",
    )


def merge_results(folders, prog, order):
    """Join the runs saved in ``folder/results.json`` for each folder.

    Returns ``(setting, settings, results, seconds)``: the runs of each net sorted by seed (nets
    in the study's ``order``) and the sum of their training seconds. Exits with status 2 and one
    line when a file is missing or unreadable, the settings differ, a net is not one of
    ``order`` or a (net, seed) pair appears twice.
    """
    import json

    def fail(message):
        print(f"{prog}: error: --merge: {message}", file=sys.stderr)
        raise SystemExit(2)

    setting = settings = None
    results = {}
    for folder in folders:
        path = os.path.join(folder, "results.json")
        try:
            with open(path, encoding="utf-8") as handle:
                saved = json.load(handle)
            this_setting, this_settings, runs = (
                saved["setting"],
                saved["settings"],
                saved["results"],
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"cannot read {path} ({type(error).__name__}: {error})")
        if settings is None:
            setting, settings = this_setting, this_settings
        elif (this_setting, this_settings) != (setting, settings):
            fail(
                f"{path} was run with other settings than {folders[0]} ({this_setting} vs {setting})"
            )
        for name, entries in runs.items():
            if name not in order:
                fail(f"{path} holds {name!r}, not one of this study's nets ({', '.join(order)})")
            known = {entry["seed"] for entry in results.get(name, [])}
            for entry in entries:
                if entry["seed"] in known:
                    fail(f"{name} with seed {entry['seed']} appears twice (again in {path})")
                known.add(entry["seed"])
                results.setdefault(name, []).append(entry)
    merged = {
        name: sorted(results[name], key=lambda entry: entry["seed"])
        for name in order
        if name in results
    }
    seconds = sum(float(entry.get("seconds", 0.0)) for group in merged.values() for entry in group)
    return setting, settings, merged, seconds


def setting_name(args):
    return "full" if args.full else ("smoke" if args.smoke else "quick")


def add_setting_arguments(parser, out_default):
    """``--full`` / ``--smoke`` (default: quick), ``--seeds``, ``--estimate``, ``--out``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--full", action="store_true", help="the whole of Fashion-MNIST (the study as documented)"
    )
    group.add_argument("--smoke", action="store_true", help="tiny settings, seconds (the tests)")
    parser.add_argument("--out", default=out_default, help="output folder")
    parser.add_argument(
        "--seeds", default="0", help="comma-separated seeds, e.g. 0,1 (one run per seed)"
    )
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="only time a few training steps and print the run's estimated duration",
    )


def parse_seeds(text, prog):
    """``"0,1"`` → ``[0, 1]``; raises ``SystemExit(2)`` with one line for anything else."""
    import sys

    try:
        seeds = [int(part) for part in str(text).split(",") if part.strip() != ""]
    except ValueError:
        seeds = []
    if not seeds or any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        print(
            f"{prog}: error: --seeds must be distinct non-negative integers such as 0 or 0,1; "
            f"got {text!r}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return seeds


def parse_models(text, choices, prog):
    """``"a,b"`` → ``["a", "b"]`` (a subset of ``choices``); ``SystemExit(2)`` with one line otherwise."""
    import sys

    models = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [m for m in models if m not in choices]
    if unknown or not models or len(set(models)) != len(models):
        print(
            f"{prog}: error: --models takes distinct names from {', '.join(choices)}; got {text!r}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return models


def seeds_of(results):
    """``{net: [seeds]}`` of a study's results."""
    return {name: [entry["seed"] for entry in entries] for name, entries in results.items()}


def spread_sentence(quantity, seeds):
    """``"Errors are mean ± standard deviation over seeds 0, 1."`` or, for one seed, says so.

    ``seeds`` is one list for every row, or ``{row: [seeds]}`` (runs merged with ``--merge``):
    when the rows' seeds differ, the sentence points to the table's seeds column."""
    if isinstance(seeds, dict):
        distinct = {tuple(row) for row in seeds.values()}
        if len(distinct) > 1:
            return (
                f"{quantity} are mean ± standard deviation over each row's seeds (column "
                '"seeds"); a row from one seed has no spread measured.'
            )
        seeds = list(distinct.pop())
    if len(seeds) == 1:
        return f"{quantity} are from one run (seed {seeds[0]}): no spread measured."
    return f"{quantity} are mean ± standard deviation over seeds {', '.join(map(str, seeds))}."


def mean_std(values):
    """``(mean, sample std)`` of a list (std 0 for one value); ``None`` entries are skipped."""
    import numpy as np

    values = np.asarray([v for v in values if v is not None], dtype="float64")
    if values.size == 0:
        return None, None
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def pm(values, scale=1.0, digits=1, suffix=""):
    """``"91.2 ± 0.3%"`` from a list of runs (``"91.2%"`` for one run)."""
    mean, std = mean_std(values)
    if mean is None:
        return "not reached"
    if len(values) == 1:
        return f"{scale * mean:.{digits}f}{suffix}"
    return f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}{suffix}"


def line_figure(curves, path, title, xlabel, ylabel, hline=None, log_y=False):
    """Curves ``{label: (x, y)}`` on one axis, saved as a PNG (an optional dashed ``hline``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 3.8))
    for label, (xs, ys) in curves.items():
        axis.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, label=label)
    if hline is not None:
        axis.axhline(hline, color="grey", linestyle="--", linewidth=0.8)
    if log_y:
        from matplotlib.ticker import FuncFormatter

        axis.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(plain)
        axis.tick_params(axis="y", which="minor", labelsize=6)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
