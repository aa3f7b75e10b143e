"""Transfer learning and what depth buys, on real offline data: one command, one markdown report.

The task (decided in docs/transfer.md): a LeNet-5 is trained on the real handwritten digits 0–4 (the
source task) and its features are reused for the digits 5–9 (the target task: classes it never
saw) and, as a far transfer, for scikit-image's LFW faces vs. non-faces. The report holds

1. the seed's "tapping off features at each layer" table: linear SVM and softmax probes on every
   layer, for held-out digits of the seen classes, for the new classes and for faces, next to an
   untrained network of the same architecture;
2. few-shot nearest-neighbour accuracy (1 and 5 shots per class) on the new classes;
3. fine-tuning on 10 examples per new class against training from scratch;
4. the depth ablation table (seed 000, "How important is depth") on the ten digits;
5. invariance curves (translation, scale, rotation) at the first and the top hidden layer.

Run::

    python apps/transfer_study.py --out out/transfer_study          # the full study (minutes)
    python apps/transfer_study.py --smoke --out /tmp/transfer_smoke  # under 90 s, for the tests

On Fashion-MNIST (issue 17, points 3 and 4; ``fashion_study`` below): ``--full`` runs the few-shot
transfer curve (a LeNet-5 trained on the classes T-shirt … Coat, a linear probe on its frozen
features for Sandal … Ankle boot at 1 … 1,000 images per class, against the same net trained from
scratch), linear probes at every layer of trained and untrained nets, and the depth ablation on the
ten classes; ``--quick`` does the same at a tiny size for the test suite; ``--part`` picks one::

    python apps/transfer_study.py --full --out out/transfer_fashion   # 30-40 min, 2 quiet cores
    python apps/transfer_study.py --full --part fewshot               # 4-5 min (estimate)
    python apps/transfer_study.py --quick --out /tmp/transfer_quick   # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

FULL = dict(
    source_epochs=15,
    probe_layers=["input", "c1", "s2", "c3", "s4", "c5", "f6"],
    probe_repeats=5,
    probe_steps=300,
    train_size=10,
    fewshot_layers=["input", "s2", "s4", "c5", "f6"],
    episodes=50,
    finetune_per_class=10,
    finetune_epochs=30,
    finetune_seeds=(0, 1, 2),
    ablation_epochs=15,
    ablation_per_class=None,
    ablation_seeds=(0, 1),
    invariance_images=5,
)
SMOKE = dict(
    source_epochs=4,
    probe_layers=["input", "s4", "f6"],
    probe_repeats=2,
    probe_steps=100,
    train_size=10,
    fewshot_layers=["input", "f6"],
    episodes=5,
    finetune_per_class=10,
    finetune_epochs=6,
    finetune_seeds=(0,),
    ablation_epochs=1,
    ablation_per_class=15,
    ablation_seeds=(0,),
    invariance_images=3,
)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/transfer_study", help="report folder")
    parser.add_argument("--smoke", action="store_true", help="a small, fast run (< 90 s)")
    parser.add_argument("--seed", type=int, default=0)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--full", action="store_true", help="the Fashion-MNIST study (issue 17, points 3 and 4)"
    )
    mode.add_argument(
        "--quick", action="store_true", help="the Fashion-MNIST study at a tiny size (seconds)"
    )
    parser.add_argument(
        "--part",
        choices=("all", "fewshot", "probes", "ablation"),
        default="all",
        help="with --full/--quick: run one part only (default all)",
    )
    args = parser.parse_args(argv)
    if args.smoke and (args.full or args.quick):
        parser.error("--smoke is the digits study; use --quick for Fashion-MNIST")
    if args.part != "all" and not (args.full or args.quick):
        parser.error("--part needs --full or --quick")
    return args


def _train_source(task, config, seed):
    import kerasconv

    x_train, y_train, x_test, y_test = task["source"]
    model = kerasconv.models.LeNet5(classes=5, name="lenet5_digits0to4")
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=config["source_epochs"],
        batch_size=32,
        learning_rate=0.05,
        seed=seed,
        verbose=0,
    )
    accuracy = kerasconv.training.evaluate(model, (x_test, y_test))["accuracy"]
    return model, accuracy


def _probe_section(source, untrained, task, faces, config, seed, figures):
    from kerasconv import transfer
    from kerasconv.visualize import plot

    datasets = {
        "digits 0–4 (seen classes, test split)": task["source"][2:],
        "digits 5–9 (new classes)": task["target"][:2],
        "LFW faces vs. non-faces": faces,
    }
    options = dict(
        repeats=config["probe_repeats"],
        train_size=config["train_size"],
        seed=seed,
        steps=config["probe_steps"],
    )
    trained = transfer.probe_layers(source, config["probe_layers"], datasets, **options)
    random = transfer.probe_layers(untrained, config["probe_layers"], datasets, **options)
    new = "digits 5–9 (new classes)"
    seen = "digits 0–4 (seen classes, test split)"
    plot.probe_accuracy_by_layer(
        [("trained on 0–4", trained), ("untrained", random)],
        dataset=seen,
        path=os.path.join(figures, "probes_seen.png"),
        title="Probes on digits 0–4 (held-out images of the training classes)",
    )
    plot.probe_accuracy_by_layer(
        [("trained on 0–4", trained), ("untrained", random)],
        dataset=new,
        path=os.path.join(figures, "probes_new.png"),
        title="Probes on digits 5–9 (classes the network never saw)",
    )
    return trained, random


def _fewshot_section(source, untrained, task, config, seed):
    from kerasconv import transfer

    x, y = task["target"][:2]
    options = dict(shots=(1, 5), episodes=config["episodes"], seed=seed)
    trained = transfer.few_shot_layers(source, config["fewshot_layers"], (x, y), **options)
    random = transfer.few_shot_layers(untrained, ["f6"], (x, y), **options)
    lines = ["| features | 1-shot (%) | 5-shot (%) |", "|---|---|---|"]
    for layer, by_k in trained.items():
        label = "raw pixels" if layer == "input" else f"{layer} (trained on 0–4)"
        lines.append(f"| {label} | {by_k[1]} | {by_k[5]} |")
    lines.append(f"| f6 (untrained network) | {random['f6'][1]} | {random['f6'][5]} |")
    lines.append("")
    lines.append(
        f"Chance: {100 / 5:.0f}%. Queries: every image of digits 5–9 not in the support set."
    )
    data = {
        name: {
            layer: {str(k): [r.mean, r.std] for k, r in by_k.items()} for layer, by_k in res.items()
        }
        for name, res in (("trained", trained), ("untrained", random))
    }
    return "\n".join(lines), data


def draw_finetune_curves(curves, gradual_label, unfreeze_epoch, path, title):
    """The fine-tuning curves, each visible: drawn here rather than with ``plot.accuracy_curves``.

    With one colour per curve and the same solid line, three of them hid each other: the gradual
    run *is* the frozen-backbone run until it unfreezes (same seed, same weights, same batches),
    and the all-layers run sits on the same values. So each curve gets its own line style and
    marker, the frozen run is drawn wide and pale underneath, and the gradual run starts at the
    epoch where it leaves the frozen one (a dotted vertical line marks the unfreezing).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    styles = [
        dict(color="C0", linestyle="-", linewidth=5.0, alpha=0.35, marker=None, zorder=1),
        dict(color="C1", linestyle="-", linewidth=1.2, marker="s", markersize=3, zorder=2),
        dict(color="C2", linestyle="--", linewidth=1.4, marker="^", markersize=3.5, zorder=3),
        dict(color="C3", linestyle=":", linewidth=2.0, marker="o", markersize=3, zorder=4),
        dict(color="C4", linestyle="-", linewidth=1.0, marker="x", markersize=3.5, zorder=2),
    ]
    figure, axis = plt.subplots(figsize=(6.4, 3.8))
    for index, (label, values) in enumerate(curves.items()):
        values = 100 * np.asarray(values, dtype="float64")
        epochs = np.arange(1, len(values) + 1)
        if label == gradual_label:
            # Until epoch `unfreeze_epoch` this is the frozen run, point for point.
            epochs, values = epochs[unfreeze_epoch - 1 :], values[unfreeze_epoch - 1 :]
            label = f"{label}; same as frozen before"
        axis.plot(epochs, values, label=label, **styles[index % len(styles)])
    axis.axvline(unfreeze_epoch + 0.5, color="0.5", linestyle=":", linewidth=1.0)
    axis.set_xlabel("epoch")
    axis.set_ylabel("test accuracy (%)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=6.5, loc="lower right")
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _finetune_section(source, task, config, seed, figures):
    import numpy as np

    import kerasconv
    from kerasconv import transfer
    from kerasconv.transfer.tasks import per_class_subset

    x_train, y_train, x_test, y_test = task["target"]
    x_small, y_small = per_class_subset(x_train, y_train, config["finetune_per_class"], seed=seed)
    epochs = config["finetune_epochs"]
    half = max(1, epochs // 2)
    gradual_label = f"new head on s4, gradual (all layers from epoch {half + 1})"
    rates = dict(head_learning_rate=0.05, backbone_learning_rate=0.005)
    variants = {
        "new head on s4, backbone frozen": dict(at="s4", freeze_up_to="all", **rates),
        "new head on f6 (the layer before last), all layers": dict(**rates),
        "new head on s4, all layers": dict(at="s4", **rates),
        gradual_label: dict(at="s4", freeze_up_to="all", unfreeze={half: "all"}, **rates),
    }
    seeds = [seed + offset for offset in config["finetune_seeds"]]
    results, curves = {}, {}
    for label, options in variants.items():
        accuracies = []
        for run_seed in seeds:
            model, history = transfer.fine_tune(
                source,
                (x_small, y_small),
                (x_test, y_test),
                classes=5,
                epochs=epochs,
                batch_size=16,
                seed=run_seed,
                **options,
            )
            accuracies.append(kerasconv.training.evaluate(model, (x_test, y_test))["accuracy"])
            if run_seed == seeds[0]:
                curves[label] = history.history["val_accuracy"]
        results[label] = accuracies
    accuracies = []
    for run_seed in seeds:
        scratch = kerasconv.models.LeNet5(classes=5, name="lenet5_scratch")
        history = kerasconv.training.train(
            scratch,
            (x_small, y_small),
            (x_test, y_test),
            epochs=epochs,
            batch_size=16,
            learning_rate=0.05,
            seed=run_seed,
            verbose=0,
        )
        accuracies.append(kerasconv.training.evaluate(scratch, (x_test, y_test))["accuracy"])
        if run_seed == seeds[0]:
            curves["from scratch"] = history.history["val_accuracy"]
    results["from scratch (same architecture, same data, same recipe)"] = accuracies
    draw_finetune_curves(
        curves,
        gradual_label,
        unfreeze_epoch=half,
        path=os.path.join(figures, "finetune.png"),
        title=f"Digits 5–9 from {len(x_small)} labelled images: test accuracy per epoch",
    )
    lines = ["| model | test accuracy on digits 5–9 (%) |", "|---|---|"]
    for label, values in results.items():
        spread = f" ± {100 * np.std(values):.1f}" if len(values) > 1 else ""
        lines.append(f"| {label} | {100 * np.mean(values):.1f}{spread} |")
    lines.append("")
    lines.append(
        f"Training set: {len(x_small)} images ({config['finetune_per_class']} per class); "
        f"test set: {len(x_test)} images; {epochs} epochs; SGD with momentum, cosine decay, "
        f"head rate 0.05, backbone rate 0.005; mean ± std over seeds {seeds}."
    )
    return "\n".join(lines), results


def _ablation_section(config, seed):
    import kerasconv
    from kerasconv import transfer
    from kerasconv.transfer.tasks import per_class_subset

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    if config["ablation_per_class"]:
        x_train, y_train = per_class_subset(x_train, y_train, config["ablation_per_class"], seed)
    table = transfer.ablate(
        kerasconv.models.LeNet5(classes=10),
        (x_train, y_train),
        (x_test, y_test),
        epochs=config["ablation_epochs"],
        seeds=config["ablation_seeds"],
    )
    return table


def _invariance_section(source, task, config, figures):
    import numpy as np

    from kerasconv import transfer
    from kerasconv.visualize import plot

    x_test, y_test = task["source"][2:]
    # One image of each of the first classes, as the seed's five example images.
    picks = [int(np.flatnonzero(y_test == c)[0]) for c in range(config["invariance_images"])]
    studies = [
        transfer.invariance_study(source, x_test[picks], y_test[picks], kind=kind)
        for kind in ("translation", "scale", "rotation")
    ]
    plot.invariance_curves(studies, path=os.path.join(figures, "invariance.png"))
    lines = []
    for study in studies:
        first, top = study.layers
        lines.append(f"**{study.kind}** — {study.unit}:\n")
        lines.append(f"| amount | {first} distance | {top} distance | P(true class) | correct |")
        lines.append("|---|---|---|---|---|")
        for i, amount in enumerate(study.amounts):
            lines.append(
                f"| {amount:g} | {study.mean_distance(first)[i]:.2f} | "
                f"{study.mean_distance(top)[i]:.2f} | {study.mean_probability()[i]:.2f} | "
                f"{100 * study.accuracy()[i]:.0f}% |"
            )
        lines.append("")
    return "\n".join(lines), studies


def main(argv=None):
    args = _parse(argv)
    if args.full or args.quick:
        return fashion_study(args)
    config = SMOKE if args.smoke else FULL
    start = time.time()
    import keras
    import numpy as np

    import kerasconv
    from kerasconv.transfer.tasks import digits_transfer_task

    out = args.out
    figures = os.path.join(out, "figures")
    os.makedirs(figures, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    task = digits_transfer_task(image_size=32)
    faces = kerasconv.data.load_arrays("lfw_faces", "train", image_size=32)
    source, source_accuracy = _train_source(task, config, args.seed)
    source.save(os.path.join(out, "lenet5_digits0to4.keras"))
    keras.utils.set_random_seed(args.seed + 1)
    untrained = kerasconv.models.LeNet5(classes=5, name="lenet5_untrained")

    trained_probes, random_probes = _probe_section(
        source, untrained, task, faces, config, args.seed, figures
    )
    fewshot_text, fewshot_data = _fewshot_section(source, untrained, task, config, args.seed)
    finetune_text, finetune_data = _finetune_section(source, task, config, args.seed, figures)
    ablation = _ablation_section(config, args.seed)
    invariance_text, studies = _invariance_section(source, task, config, figures)
    elapsed = time.time() - start

    smoke_note = "**Smoke run** (tiny settings, numbers are not meaningful). " if args.smoke else ""
    report = f"""# Transfer learning and what depth buys

{smoke_note}Source network: LeNet-5 trained on the real digits 0–4
({len(task["source"][0])} training images, {config["source_epochs"]} epochs):
{100 * source_accuracy:.1f}% on their {len(task["source"][2])} test images. Target: digits 5–9
(never seen) and LFW faces vs. non-faces. Seed {args.seed}; {elapsed:.0f} s.

## 1. Tapping off features at each layer (linear probes)

{config["train_size"]} training images per class, the rest of each set for testing,
{config["probe_repeats"]} random splits (mean ± std); "input" is the raw pixels.

Network trained on digits 0–4:

{trained_probes.to_markdown()}

Untrained network (same architecture, random weights):

{random_probes.to_markdown()}

![probes, seen classes](figures/probes_seen.png)
![probes, new classes](figures/probes_new.png)

## 2. Few-shot: nearest neighbour in feature space (digits 5–9)

{fewshot_text}

## 3. Fine-tuning against training from scratch (digits 5–9)

{finetune_text}

![fine-tuning](figures/finetune.png)

## 4. How important is depth (ablation, ten digits)

Each variant is rebuilt without the named layers and trained from scratch with the same recipe
({config["ablation_epochs"]} epochs, seeds {list(config["ablation_seeds"])}).

{ablation.to_markdown()}

## 5. Translation, scale and rotation

Distances are ‖f(Tx) − f(x)‖ / ‖f(x)‖; mean over {config["invariance_images"]} test digits.

![invariance](figures/invariance.png)

{invariance_text}
"""
    with open(os.path.join(out, "report.md"), "w") as handle:
        handle.write(report)
    results = {
        "source_accuracy": source_accuracy,
        "probes": {"trained": trained_probes.to_dict(), "untrained": random_probes.to_dict()},
        "fewshot": fewshot_data,
        "finetune": finetune_data,
        "ablation": ablation.to_dict(),
        "invariance": [study.to_dict() for study in studies],
        "seconds": elapsed,
        "smoke": bool(args.smoke),
    }
    with open(os.path.join(out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2, default=lambda v: np.asarray(v).tolist())
    print(f"wrote {os.path.join(out, 'report.md')} in {elapsed:.0f} s")
    return 0


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST (issue 17, points 3 and 4)

SOURCE = (0, 1, 2, 3, 4)  # T-shirt/top, Trouser, Pullover, Dress, Coat
TARGET = (5, 6, 7, 8, 9)  # Sandal, Shirt, Sneaker, Bag, Ankle boot
PROBE_LAYERS = ["input", "c1", "s2", "c3", "s4", "c5", "f6"]

FASHION_FULL = dict(
    source_epochs=10,
    shots=(1, 5, 10, 50, 100, 1000),
    draws=3,
    probe_steps=500,
    scratch_steps=1500,
    scratch_epochs=(15, 300),
    depth_seeds=(0, 1),
    depth_train_size=100,
    depth_repeats=5,
    depth_test_limit=None,
    ablation_epochs=6,
    ablation_seeds=(0, 1),
    ablation_train_limit=None,
)
FASHION_QUICK = dict(
    source_epochs=2,
    shots=(1, 50),
    draws=2,
    probe_steps=100,
    scratch_steps=40,
    scratch_epochs=(2, 20),
    depth_seeds=(0,),
    depth_train_size=20,
    depth_repeats=2,
    depth_test_limit=400,
    ablation_epochs=1,
    ablation_seeds=(0,),
    ablation_train_limit=500,
)


def _recipe_train(model, data, epochs, seed, batch_size=64):
    import kerasconv

    return kerasconv.training.train(
        model, data, epochs=epochs, batch_size=batch_size, learning_rate=0.05, seed=seed, verbose=0
    )


def _source_net(data, config, seed):
    """LeNet-5 trained on the five source classes with the package's recipe; its test accuracy."""
    import kerasconv

    x_source, y_source, x_source_test, y_source_test = data["source"]
    kerasconv.training.reproducible(seed)
    model = kerasconv.models.LeNet5(classes=len(SOURCE), name=f"lenet5_source_seed{seed}")
    _recipe_train(model, (x_source, y_source), config["source_epochs"], seed)
    accuracy = kerasconv.training.evaluate(model, (x_source_test, y_source_test))["accuracy"]
    return model, accuracy


def _untrained_net(seed):
    import kerasconv

    kerasconv.training.reproducible(seed + 1000)
    return kerasconv.models.LeNet5(classes=len(SOURCE), name=f"lenet5_untrained_seed{seed}")


def draw_indices(labels, per_class, seed, draw):
    """``per_class`` indices of each class, drawn without replacement; one stream per (seed, draw,
    per_class), so each size gets its own independent draw."""
    import numpy as np

    rng = np.random.default_rng([seed, draw, per_class])
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
        for c in np.unique(labels)
    ]
    return np.sort(np.concatenate(chosen))


def scratch_epochs(count, config):
    """Epochs for training from scratch on ``count`` images: about ``scratch_steps`` SGD steps of
    batch ``min(32, count)``, within ``scratch_epochs = (least, most)``."""
    import math

    batch = min(32, count)
    steps_per_epoch = math.ceil(count / batch)
    least, most = config["scratch_epochs"]
    return batch, int(min(most, max(least, math.ceil(config["scratch_steps"] / steps_per_epoch))))


def fashion_helpers():
    """``apps/_fashion.py`` (the studies' shared loader), however this app was started."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import _fashion

    return _fashion


def _fashion_data(quick):
    from kerasconv.transfer import split_classes

    x_train, y_train, x_test, y_test = fashion_helpers().study_arrays(quick)
    return {
        "source": split_classes(x_train, y_train, SOURCE) + split_classes(x_test, y_test, SOURCE),
        "target": split_classes(x_train, y_train, TARGET) + split_classes(x_test, y_test, TARGET),
        "all": (x_train, y_train, x_test, y_test),
    }


def fewshot_curve(source, untrained, data, config, seed):
    """Point 3: accuracy on the target classes' test images against images per class.

    Returns ``{method: {per_class: [accuracy per draw]}}`` for a softmax probe on the frozen F6
    features of the source net and of an untrained net, and for LeNet-5 trained from scratch on
    the same images.
    """
    import kerasconv
    from kerasconv import transfer

    x_target, y_target, x_test, y_test = data["target"]
    features = {}
    for label, net in (("source", source), ("untrained", untrained)):
        train = transfer.extract_features(net, ["f6"], x_target)["f6"]
        test = transfer.extract_features(net, ["f6"], x_test)["f6"]
        features[label] = (train, test)
    methods = {
        "probe": "linear probe on F6 of the net trained on the 5 source classes",
        "untrained": "linear probe on F6 of an untrained net",
        "scratch": "LeNet-5 trained from scratch on the same images",
    }
    results = {name: {k: [] for k in config["shots"]} for name in methods}
    for draw in range(config["draws"]):
        for k in config["shots"]:
            index = draw_indices(y_target, k, seed, draw)
            for name, label in (("probe", "source"), ("untrained", "untrained")):
                train, test = features[label]
                probe = transfer.linear_probe(
                    train[index],
                    y_target[index],
                    steps=config["probe_steps"],
                    test_features=test,
                    test_labels=y_test,
                )
                results[name][k].append(probe.mean)
            batch, epochs = scratch_epochs(len(index), config)
            kerasconv.training.reproducible(1000 * seed + draw)
            scratch = kerasconv.models.LeNet5(classes=len(TARGET), name="lenet5_scratch")
            _recipe_train(
                scratch, (x_target[index], y_target[index]), epochs, seed + draw, batch_size=batch
            )
            accuracy = kerasconv.training.evaluate(scratch, (x_test, y_test))["accuracy"]
            results["scratch"][k].append(accuracy)
    return methods, results


def depth_probes(data, config, seed, first_source=None):
    """Point 4: softmax probes at every layer of trained and untrained nets, on held-out images
    of the source classes and on the target classes. ``{(net, dataset): {layer: [accuracies]}}``
    pooled over the net seeds and the random splits."""
    from kerasconv import transfer

    datasets = {
        "new classes (Sandal … Ankle boot)": data["target"][2:],
        "seen classes (T-shirt … Coat, test split)": data["source"][2:],
    }
    if config["depth_test_limit"]:
        datasets = {
            k: (x[: config["depth_test_limit"]], y[: config["depth_test_limit"]])
            for k, (x, y) in datasets.items()
        }
    pooled = {}
    for offset in config["depth_seeds"]:
        net_seed = seed + offset
        if offset == 0 and first_source is not None:
            trained = first_source
        else:
            trained, _ = _source_net(data, config, net_seed)
        for net_name, net in (("trained", trained), ("untrained", _untrained_net(net_seed))):
            table = transfer.probe_layers(
                net,
                PROBE_LAYERS,
                datasets,
                methods="softmax",
                repeats=config["depth_repeats"],
                train_size=config["depth_train_size"],
                seed=net_seed,
                steps=config["probe_steps"],
            )
            for dataset in datasets:
                cell = pooled.setdefault((net_name, dataset), {layer: [] for layer in PROBE_LAYERS})
                for layer in PROBE_LAYERS:
                    cell[layer] += table.results[dataset][("softmax", layer)].accuracies.tolist()
    return pooled


def draw_fewshot_figure(results, methods, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(6.0, 3.8))
    styles = {
        "probe": ("C0", "o", "-"),
        "untrained": ("C2", "^", ":"),
        "scratch": ("C3", "s", "--"),
    }
    for name, by_k in results.items():
        shots = sorted(by_k)
        means = [100 * np.mean(by_k[k]) for k in shots]
        spreads = [100 * np.std(by_k[k]) for k in shots]
        colour, marker, line = styles[name]
        axis.errorbar(
            shots,
            means,
            yerr=spreads,
            color=colour,
            marker=marker,
            linestyle=line,
            capsize=3,
            label=methods[name],
        )
    axis.set_xscale("log")
    shots = sorted(next(iter(results.values())))
    axis.set_xticks(shots, [f"{k:,}" for k in shots])
    axis.minorticks_off()
    axis.set_xlabel("training images per class (log scale)")
    axis.set_ylabel("test accuracy on the 5 new classes (%)")
    axis.axhline(20, color="0.6", linewidth=0.8, linestyle=":")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="lower right")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_depth_figure(pooled, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = list(dict.fromkeys(dataset for _, dataset in pooled))
    figure, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    positions = np.arange(len(PROBE_LAYERS))
    for axis, dataset in zip(axes, datasets):
        for net, colour, line in (("trained", "C0", "-"), ("untrained", "C1", "--")):
            by_layer = pooled[(net, dataset)]
            means = [100 * np.mean(by_layer[layer]) for layer in PROBE_LAYERS]
            spreads = [100 * np.std(by_layer[layer]) for layer in PROBE_LAYERS]
            axis.errorbar(
                positions,
                means,
                yerr=spreads,
                color=colour,
                linestyle=line,
                marker="o",
                capsize=3,
                label=f"{net} net",
            )
        axis.set_xticks(positions, PROBE_LAYERS)
        axis.set_xlabel("tapped layer (input = raw pixels)")
        axis.set_title(dataset, fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("softmax-probe test accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower left")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _mean_std(values):
    import numpy as np

    return f"{100 * np.mean(values):.1f} ± {100 * np.std(values):.1f}"


def fashion_study(args):
    """Issue 17, points 3 and 4 on Fashion-MNIST; writes ``report.md``, ``results.json`` and the
    figures; returns 0."""
    import numpy as np

    import kerasconv
    from kerasconv import transfer

    helpers = fashion_helpers()
    class_names, machine_line = helpers.class_names, helpers.machine_line
    config = FASHION_QUICK if args.quick else FASHION_FULL
    parts = ("fewshot", "probes", "ablation") if args.part == "all" else (args.part,)
    start = time.time()
    out = args.out if args.out != "out/transfer_study" else "out/transfer_fashion"
    figures = os.path.join(out, "figures")
    os.makedirs(figures, exist_ok=True)
    names = class_names()
    data = _fashion_data(args.quick)
    mode = "quick (tiny settings: numbers are not meaningful)" if args.quick else "full"
    sections = [
        "# Transfer and depth on Fashion-MNIST",
        "",
        f"Mode: {mode}. Images at 32×32 (LeNet-5's input), pixels in [0, 1]. Source classes: "
        f"{', '.join(names[c] for c in SOURCE)}; target classes: "
        f"{', '.join(names[c] for c in TARGET)}. Seed {args.seed}. Recipe: "
        "`kerasconv.training.train` (SGD with momentum 0.9, weight decay 5e-4, cosine decay, "
        "rate 0.05, batch 64 unless said).",
        "",
    ]
    results = {"mode": "quick" if args.quick else "full", "seed": args.seed, "parts": list(parts)}
    timings = {}
    source = None
    if "fewshot" in parts or "probes" in parts:
        tick = time.time()
        source, source_accuracy = _source_net(data, config, args.seed)
        timings["source net"] = time.time() - tick
        results["source_accuracy"] = source_accuracy
        sections += [
            f"Source net: LeNet-5 trained on {len(data['source'][0]):,} images of the source "
            f"classes for {config['source_epochs']} epochs: {100 * source_accuracy:.1f}% on their "
            f"{len(data['source'][2]):,} test images ({timings['source net']:.0f} s).",
            "",
        ]
    if "fewshot" in parts:
        tick = time.time()
        methods, curve = fewshot_curve(source, _untrained_net(args.seed), data, config, args.seed)
        timings["few-shot curve"] = time.time() - tick
        results["fewshot"] = {
            name: {str(k): v for k, v in by_k.items()} for name, by_k in curve.items()
        }
        draw_fewshot_figure(
            curve,
            methods,
            os.path.join(figures, "fashion_fewshot.png"),
            "Fashion-MNIST: new classes from few examples "
            f"(mean ± std over {config['draws']} draws)",
        )
        head = "| images per class | " + " | ".join(methods.values()) + " |"
        lines = [head, "|---:|" + "---:|" * len(methods)]
        for k in config["shots"]:
            cells = " | ".join(_mean_std(curve[name][k]) for name in methods)
            lines.append(f"| {k:,} | {cells} |")
        sections += [
            "## Transfer with few examples (point 3)",
            "",
            f"Test accuracy (%) on the {len(data['target'][2]):,} test images of the five new "
            f"classes, mean ± std over {config['draws']} random draws of the training images "
            "(each size drawn independently). Probe: softmax regression on the standardised "
            f"84 F6 activations (full-batch Adam, {config['probe_steps']} steps). From scratch: "
            "the same LeNet-5 (fresh weights), the recipe, batch min(32, images), about "
            f"{config['scratch_steps']} steps (epochs within {config['scratch_epochs']}), no "
            "augmentation. Chance: 20%.",
            "",
            *lines,
            "",
            "![few-shot transfer](figures/fashion_fewshot.png)",
            "",
            f"Time: {timings['few-shot curve']:.0f} s.",
            "",
        ]
    if "probes" in parts:
        tick = time.time()
        pooled = depth_probes(data, config, args.seed, first_source=source)
        timings["probes per layer"] = time.time() - tick
        results["probes"] = {
            f"{net} | {dataset}": by_layer for (net, dataset), by_layer in pooled.items()
        }
        draw_depth_figure(
            pooled,
            os.path.join(figures, "fashion_probes.png"),
            "Softmax probes per layer: LeNet-5 trained on 5 Fashion-MNIST classes vs untrained",
        )
        datasets = list(dict.fromkeys(dataset for _, dataset in pooled))
        head = (
            "| layer | dimension | "
            + " | ".join(
                f"{net}, {dataset}" for dataset in datasets for net in ("trained", "untrained")
            )
            + " |"
        )
        dims = {
            k: v.shape[1]
            for k, v in transfer.extract_features(
                source, PROBE_LAYERS, data["target"][2][:2]
            ).items()
        }
        lines = [head, "|---|---:|" + "---:|" * (2 * len(datasets))]
        for layer in PROBE_LAYERS:
            cells = " | ".join(
                _mean_std(pooled[(net, dataset)][layer])
                for dataset in datasets
                for net in ("trained", "untrained")
            )
            lines.append(f"| {layer} | {dims[layer]:,} | {cells} |")
        runs = len(config["depth_seeds"]) * config["depth_repeats"]
        sections += [
            "## Probe accuracy per layer (point 4)",
            "",
            f"Softmax probe trained on {config['depth_train_size']} images per class, tested on the "
            "rest of the test split of the named classes; mean ± std over "
            f"{len(config['depth_seeds'])} nets × {config['depth_repeats']} random splits "
            f"({runs} probes per cell). The untrained net has the same architecture with its "
            "initial weights.",
            "",
            *lines,
            "",
            "![probes per layer](figures/fashion_probes.png)",
            "",
            f"Time: {timings['probes per layer']:.0f} s.",
            "",
        ]
    if "ablation" in parts:
        tick = time.time()
        x_train, y_train, x_test, y_test = data["all"]
        x_train = x_train[: config["ablation_train_limit"]]
        y_train = y_train[: config["ablation_train_limit"]]
        table = transfer.ablate(
            kerasconv.models.LeNet5(classes=10),
            (x_train, y_train),
            (x_test, y_test),
            epochs=config["ablation_epochs"],
            seeds=config["ablation_seeds"],
            batch_size=64,
            learning_rate=0.05,
        )
        timings["ablation"] = time.time() - tick
        results["ablation"] = table.to_dict()
        sections += [
            "## Depth ablation (point 4, Zeiler & Fergus's form)",
            "",
            f"Each variant is rebuilt without the named layers and trained from scratch on the "
            f"{len(x_train):,} training images of all ten classes ({config['ablation_epochs']} "
            f"epochs, seeds {list(config['ablation_seeds'])}, the recipe); test accuracy on "
            f"{len(x_test):,} images, mean ± std over seeds. The classifier (the head) is always "
            "retrained with the rest.",
            "",
            table.to_markdown(),
            "",
            f"Time: {timings['ablation']:.0f} s.",
            "",
        ]
    elapsed = time.time() - start
    results["seconds"] = elapsed
    results["timings"] = timings
    sections += [f"Total time: {elapsed:.0f} s; {machine_line()}.", ""]
    with open(os.path.join(out, "report.md"), "w") as handle:
        handle.write("\n".join(sections))
    with open(os.path.join(out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2, default=lambda v: np.asarray(v).tolist())
    print(f"wrote {os.path.join(out, 'report.md')} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
