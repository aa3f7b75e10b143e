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
    return parser.parse_args(argv)


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


if __name__ == "__main__":
    sys.exit(main())
