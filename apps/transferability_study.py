"""Transferability of adversarial examples between four architectures on Fashion-MNIST.

Issue 17, point 8 (seed 003; Liu, Chen, Liu & Song 2017, "Delving into transferable adversarial
examples and black-box attacks"). Four networks of different families are trained on Fashion-MNIST
with the package's recipe: LeNet-5, a VGG-A with batch norm at 1/8 width, a CIFAR ResNet-8 at width 8 and the
maxout MLP. Non-targeted PGD examples (L∞, pixels in [0, 1]) are crafted on each network and on
each ensemble of three (the averaged logits of all but one, ``kerasconv.attacks.ensemble_attack``)
and tried on all four (``kerasconv.attacks.transferability_matrix``). Liu et al.'s claims: examples
from one model transfer to the others only partly, and examples crafted against an ensemble
transfer better to the held-out model than examples from any single one of its members.

Run::

    python apps/transferability_study.py --full --out out/transferability   # 30-40 min
    python apps/transferability_study.py --quick --out /tmp/transferability  # seconds
    python apps/transferability_study.py --smoke                             # same as --quick
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

FULL = dict(epochs=6, train_limit=None, eval_samples=1000, nb_iter=20, skip=())
# The quick run leaves out the VGG (the slowest to train and to attack): three networks, three
# ensembles of two.
QUICK = dict(
    epochs=1, train_limit=4000, eval_samples=100, nb_iter=10, skip=("VGG-A-BN (1/8 width)",)
)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/transferability", help="report folder")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="60,000 training images (~30 min)")
    mode.add_argument("--quick", action="store_true", help="a tiny run for the tests (default)")
    mode.add_argument("--smoke", action="store_true", help="the same as --quick")
    parser.add_argument("--eps", type=float, default=0.1, help="L∞ budget (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and attacks")
    args = parser.parse_args(argv)
    if not 0 < args.eps <= 1:
        parser.error(f"--eps must be in (0, 1] (pixels are in [0, 1]); got {args.eps}")
    return args


def architectures():
    """``{name: builder}``: four families, each taking 32×32×1 Fashion-MNIST images."""
    import kerasconv

    shape = (32, 32, 1)
    return {
        "LeNet-5": lambda: kerasconv.models.LeNet5(input_shape=shape, name="lenet5"),
        "VGG-A-BN (1/8 width)": lambda: kerasconv.models.VGG(
            input_shape=shape,
            config="A",
            width_multiplier=0.125,
            fc_units=128,
            batch_norm=True,
            classes=10,
            name="vgg_a_small",
        ),
        "ResNet-8 (width 8)": lambda: kerasconv.models.CIFARResNet(
            input_shape=shape, depth=8, width=8, classes=10, name="resnet8"
        ),
        "maxout MLP": lambda: kerasconv.models.MaxoutMLP(input_shape=shape, name="maxout_mlp"),
    }


def held_out_comparison(table, names):
    """For each held-out model: its accuracy on examples from the ensemble of the others,
    and on examples from each of them alone (lower accuracy = better transfer)."""
    import numpy as np

    matrix = np.asarray(table["matrix"])
    rows = {}
    for j, held_out in enumerate(names):
        singles = {other: float(matrix[i, j]) for i, other in enumerate(names) if other != held_out}
        ensemble = float(matrix[len(names) + j, j])
        rows[held_out] = {"ensemble": ensemble, "singles": singles}
    return rows


def main(argv=None):
    args = _parse(argv)
    start = time.time()
    import numpy as np

    import kerasconv
    from kerasconv import attacks

    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import _fashion

    config = FULL if args.full else QUICK
    os.makedirs(args.out, exist_ok=True)
    x_train, y_train, x_test, y_test = _fashion.study_arrays(quick=not args.full)
    x_train, y_train = x_train[: config["train_limit"]], y_train[: config["train_limit"]]
    models, accuracy, seconds = {}, {}, {}
    for number, (name, build) in enumerate(architectures().items()):
        if name in config["skip"]:
            continue
        tick = time.time()
        kerasconv.training.reproducible(args.seed + number)
        model = build()
        kerasconv.training.train(
            model,
            (x_train, y_train),
            epochs=config["epochs"],
            batch_size=64,
            learning_rate=0.05,
            seed=args.seed + number,
            verbose=0,
        )
        models[name] = model
        accuracy[name] = kerasconv.training.evaluate(model, (x_test, y_test))["accuracy"]
        seconds[name] = time.time() - tick
    names = list(models)
    members = [models[name] for name in names]
    sources = members + [[m for m in members if m is not held] for held in members]
    source_names = names + [f"ensemble without {name}" for name in names]
    x_eval, y_eval = x_test[: config["eval_samples"]], y_test[: config["eval_samples"]]
    tick = time.time()
    table = attacks.transferability_matrix(
        sources,
        members,
        x_eval,
        y_eval,
        eps=args.eps,
        attack="pgd",
        nb_iter=config["nb_iter"],
        clip_min=0.0,
        clip_max=1.0,
        seed=args.seed,
        source_names=source_names,
        target_names=names,
        path=os.path.join(args.out, "transferability.png"),
    )
    attack_seconds = time.time() - tick
    comparison = held_out_comparison(table, names)

    lines = [
        "# Transferability of adversarial examples on Fashion-MNIST (Liu et al. 2017)",
        "",
        f"Mode: {'full' if args.full else 'quick (tiny settings: numbers are not meaningful)'}. "
        f"{len(x_train):,} training images at 32×32, {config['epochs']} epochs of the recipe "
        "(`kerasconv.training.train`: SGD with momentum, cosine decay, rate 0.05, batch 64) per "
        f"network; seed {args.seed}.",
        "",
        "| network | parameters | clean test accuracy | training time |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        lines.append(
            f"| {name} | {models[name].count_params():,} | {100 * accuracy[name]:.1f}% "
            f"({len(x_test):,} images) | {seconds[name]:.0f} s |"
        )
    lines += [
        "",
        f"## Transfer matrix (non-targeted PGD-{config['nb_iter']}, eps={args.eps:g} L∞)",
        "",
        f"Accuracy of each target network (columns) on the adversarial examples crafted on each "
        f"source (rows), on the {table['samples']} of the first {len(x_eval)} test images that "
        "all the networks classify correctly (so 100% = nothing transfers, 0% = everything "
        "does). PGD from a random start, step 2.5·eps/steps; an ensemble is attacked through "
        "its averaged logits. The diagonal and an ensemble's own members are white-box.",
        "",
        attacks.transferability_markdown(table),
        "",
        "![transfer matrix](transferability.png)",
        "",
        "## Ensemble vs single-model examples on the held-out network",
        "",
        "| held-out network | ensemble of the others | each other network alone (mean; best) |",
        "|---|---:|---:|",
    ]
    for held_out, row in comparison.items():
        singles = list(row["singles"].values())
        lines.append(
            f"| {held_out} | {100 * row['ensemble']:.1f}% | {100 * np.mean(singles):.1f}%; "
            f"{100 * min(singles):.1f}% |"
        )
    lines += [
        "",
        f"Attack time: {attack_seconds:.0f} s. Total time: {time.time() - start:.0f} s; "
        f"{_fashion.machine_line()}.",
        "",
    ]
    with open(os.path.join(args.out, "report.md"), "w") as handle:
        handle.write("\n".join(lines))
    results = {
        "mode": "full" if args.full else "quick",
        "eps": args.eps,
        "clean_accuracy": accuracy,
        "training_seconds": seconds,
        "matrix": table["matrix"].tolist(),
        "rmsd": table["rmsd"].tolist(),
        "source_names": source_names,
        "target_names": names,
        "samples": table["samples"],
        "held_out": comparison,
        "seconds": time.time() - start,
    }
    with open(os.path.join(args.out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    print(f"wrote {os.path.join(args.out, 'report.md')} in {time.time() - start:.0f} s")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
