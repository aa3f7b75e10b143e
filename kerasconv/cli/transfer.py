"""``kerasconv transfer probe|fewshot|finetune|ablate|invariance``: reuse a model's features.

Examples::

    kerasconv transfer probe --model lenet_digits04.keras --data digits --classes 5-9 \\
        --layers input,c1,s2,c3,s4,c5,f6 --out out/probe
    kerasconv transfer fewshot --model lenet_digits04.keras --classes 5-9 --shots 1,5
    kerasconv transfer finetune --model lenet_digits04.keras --classes 5-9 --per-class 10
    kerasconv transfer ablate --model lenet5 --epochs 10 --remove "f6;c5,f6"
    kerasconv transfer invariance --model lenet_digits.keras --transform translation,rotation

``--model`` is a ``.keras`` file or a registry name (an untrained network of that architecture).
Each command prints a markdown table and, with ``--out``, writes ``results.json`` (and figures).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

from kerasconv.cli import UsageError

COMMANDS = ("probe", "fewshot", "finetune", "ablate", "invariance")


def _split_list(text):
    return [item.strip() for item in str(text).split(",") if item.strip()]


def _ints(text, name):
    try:
        return [int(item) for item in _split_list(text)]
    except ValueError:
        raise UsageError(f"{name} must be comma-separated integers; got {text!r}") from None


def register(subparsers):
    parser = subparsers.add_parser(
        "transfer",
        help="transfer learning: probes, few-shot, fine-tuning, depth ablation, invariance",
        description=__doc__.split("\n\n")[0],
    )
    commands = parser.add_subparsers(dest="transfer_command", metavar="ACTION")
    commands.required = True

    def common(sub):
        sub.add_argument("--model", required=True, help=".keras file or registry name")
        sub.add_argument("--data", default="digits", help="dataset name: digits or lfw_faces")
        sub.add_argument("--split", default="test", help="split of --data to use")
        sub.add_argument("--classes", default=None, help="classes of --data to keep, e.g. 5-9")
        sub.add_argument("--layers", default=None, help="comma-separated layer names")
        sub.add_argument("--out", default=None, help="folder for results.json and figures")
        sub.add_argument("--seed", type=int, default=0, help="seed for subsets and training")
        sub.set_defaults(func=run)
        return sub

    probe = common(commands.add_parser("probe", help="linear SVM / softmax probes per layer"))
    probe.add_argument("--methods", default="svm,softmax", help="comma-separated probe kinds")
    probe.add_argument("--repeats", type=int, default=5, help="random training draws per probe")
    probe.add_argument("--train-size", type=int, default=10, help="training examples per class")

    fewshot = common(commands.add_parser("fewshot", help="nearest-neighbour k-shot accuracy"))
    fewshot.add_argument("--shots", default="1,5", help="comma-separated examples per class")
    fewshot.add_argument("--episodes", type=int, default=20, help="random episodes per k")
    fewshot.add_argument(
        "--rule", default="nearest", choices=("nearest", "centroid"), help="classification rule"
    )

    finetune = common(commands.add_parser("finetune", help="new head, freeze, fine-tune"))
    finetune.add_argument("--train-split", default="train", help="split to train on")
    finetune.add_argument("--per-class", type=int, default=10, help="training examples per class")
    finetune.add_argument("--epochs", type=int, default=20, help="training epochs")
    finetune.add_argument("--at", default=None, help="layer feeding the new head")
    finetune.add_argument("--freeze-up-to", default="all", help="layer name, 'all' or 'none'")
    finetune.add_argument("--head-lr", type=float, default=0.05, help="learning rate of the head")
    finetune.add_argument(
        "--backbone-lr", type=float, default=0.005, help="learning rate of the backbone"
    )
    finetune.add_argument(
        "--unfreeze-epoch", type=int, default=None, help="unfreeze everything at this epoch"
    )
    finetune.add_argument("--no-scratch", action="store_true", help="skip the from-scratch run")

    ablate = common(commands.add_parser("ablate", help="remove layers, retrain, compare"))
    ablate.add_argument("--train-split", default="train", help="split to train on")
    ablate.add_argument(
        "--remove", default=None, help="groups of layers, ';' between groups: 'f6;c5,f6'"
    )
    ablate.add_argument("--epochs", type=int, default=10, help="training epochs per variant")
    ablate.add_argument("--per-class", type=int, default=None, help="subsample the training set")

    invariance = common(commands.add_parser("invariance", help="translation/scale/rotation"))
    invariance.add_argument(
        "--transform", default="translation,scale,rotation", help="comma-separated transforms"
    )
    invariance.add_argument("--images", type=int, default=5, help="number of test images")


def _model_and_size(value, classes):
    import kerasconv
    from kerasconv.cli._common import load_model_arg, model_image_size

    if value.endswith(".keras") or os.path.sep in value:
        model = load_model_arg(value)
    else:
        try:
            info = kerasconv.models.get_info(value)
        except ValueError as error:
            raise UsageError(str(error)) from None
        model = load_model_arg(value, classes=classes, input_shape=info.input_shape)
    size, channels = model_image_size(model)
    return model, size, channels


def _load(args, split, size, channels):
    import kerasconv
    from kerasconv.transfer.tasks import parse_classes, split_classes

    x, y = kerasconv.data.load_arrays(args.data, split, image_size=size, channels=channels)
    if args.classes:
        x, y = split_classes(x, y, parse_classes(args.classes))
    return x, y


def _layers(args, model):
    if args.layers:
        return _split_list(args.layers)
    names = [layer.name for layer in model.layers]
    return [n for n in names if n not in ("predictions", "flatten")]


def _write(args, results, text):
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as handle:
            json.dump(results, handle, indent=2, default=float)
        with open(os.path.join(args.out, "results.md"), "w") as handle:
            handle.write(text + "\n")


def _epoch_progress(total):
    """A callback drawing one ``keras.utils.Progbar`` on stderr across several training runs.

    ``transfer ablate`` retrains the model once per variant; the bar counts every epoch of every
    run (``total``), so a long ablation shows how far it is, while stdout keeps only the table.
    """
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.done = 0
            with contextlib.redirect_stdout(sys.stderr):
                self.bar = keras.utils.Progbar(
                    total, unit_name="epoch", stateful_metrics=["loss", "accuracy"]
                )

        def on_epoch_end(self, epoch, logs=None):
            self.done += 1
            logs = logs or {}
            values = [(k, float(logs[k])) for k in ("loss", "accuracy") if k in logs]
            with contextlib.redirect_stdout(sys.stderr):
                self.bar.update(self.done, values=values)

    return EpochProgress()


def _classes_of(args):
    from kerasconv.transfer.tasks import parse_classes

    if args.classes:
        return len(parse_classes(args.classes))
    import kerasconv

    return len(kerasconv.data.class_names(args.data))


def run(args):
    import numpy as np

    from kerasconv import transfer
    from kerasconv.transfer.tasks import per_class_subset

    model, size, channels = _model_and_size(args.model, _classes_of(args))
    command = args.transfer_command
    if command == "probe":
        x, y = _load(args, args.split, size, channels)
        table = transfer.probe_layers(
            model,
            _layers(args, model),
            (x, y),
            methods=_split_list(args.methods),
            repeats=args.repeats,
            train_size=args.train_size,
            seed=args.seed,
        )
        if args.out:
            from kerasconv.visualize import plot

            plot.probe_accuracy_by_layer(table, path=os.path.join(args.out, "probes.png"))
        _write(args, table.to_dict(), table.to_markdown())
    elif command == "fewshot":
        x, y = _load(args, args.split, size, channels)
        shots = _ints(args.shots, "--shots")
        results = transfer.few_shot_layers(
            model,
            _layers(args, model),
            (x, y),
            shots=shots,
            episodes=args.episodes,
            rule=args.rule,
            seed=args.seed,
        )
        lines = ["| layer | " + " | ".join(f"{k}-shot (%)" for k in shots) + " |"]
        lines.append("|---|" + "---|" * len(shots))
        for layer, by_k in results.items():
            lines.append(f"| {layer} | " + " | ".join(str(by_k[k]) for k in shots) + " |")
        chance = 100.0 / len(np.unique(y))
        text = "\n".join(lines) + f"\n\nchance: {chance:.1f}%"
        data = {
            layer: {str(k): {"mean": r.mean, "std": r.std} for k, r in by_k.items()}
            for layer, by_k in results.items()
        }
        _write(args, data, text)
    elif command == "finetune":
        _finetune(args, model, size, channels, per_class_subset)
    elif command == "ablate":
        x, y = _load(args, args.train_split, size, channels)
        if args.per_class:
            x, y = per_class_subset(x, y, args.per_class, seed=args.seed)
        test = _load(args, args.split, size, channels)
        remove = None
        if args.remove:
            remove = [_split_list(group) for group in args.remove.split(";") if group.strip()]
        if remove is None:
            remove = transfer.ablation_presets(model)  # labelled as ablate() labels them
            if not remove:
                raise UsageError(f"no preset ablation applies to {model.name!r}; pass --remove")
        progress = _epoch_progress(total=(1 + len(remove)) * args.epochs)
        table = transfer.ablate(
            model, (x, y), test, remove=remove, epochs=args.epochs, callbacks=[progress]
        )
        _write(args, table.to_dict(), table.to_markdown())
    else:
        x, y = _load(args, args.split, size, channels)
        if args.images < 1:
            raise UsageError("--images must be at least 1")
        x, y = x[: args.images], y[: args.images]
        layers = _split_list(args.layers) if args.layers else None
        studies = [
            transfer.invariance_study(model, x, y, kind=kind, layers=layers)
            for kind in _split_list(args.transform)
        ]
        lines = []
        for study in studies:
            lines.append(f"### {study.kind}")
            lines.append("| " + study.unit + " | " + " | ".join(study.layers) + " | P(true) |")
            lines.append("|---|" + "---|" * (len(study.layers) + 1))
            for i, amount in enumerate(study.amounts):
                cells = [f"{study.mean_distance(layer)[i]:.3f}" for layer in study.layers]
                cells.append(f"{study.mean_probability()[i]:.3f}")
                lines.append(f"| {amount:g} | " + " | ".join(cells) + " |")
        if args.out:
            from kerasconv.visualize import plot

            plot.invariance_curves(studies, path=os.path.join(args.out, "invariance.png"))
        _write(args, [s.to_dict() for s in studies], "\n".join(lines))
    return 0


def _finetune(args, model, size, channels, per_class_subset):
    import keras
    import numpy as np

    from kerasconv import transfer
    from kerasconv.training import evaluate, train

    x, y = _load(args, args.train_split, size, channels)
    x, y = per_class_subset(x, y, args.per_class, seed=args.seed)
    test = _load(args, args.split, size, channels)
    classes = int(max(y.max(), test[1].max()) + 1)
    freeze_up_to = None if args.freeze_up_to == "none" else args.freeze_up_to
    unfreeze = {args.unfreeze_epoch: "all"} if args.unfreeze_epoch is not None else None
    tuned, history = transfer.fine_tune(
        model,
        (x, y),
        test,
        classes=classes,
        at=args.at,
        freeze_up_to=freeze_up_to,
        head_learning_rate=args.head_lr,
        backbone_learning_rate=args.backbone_lr,
        unfreeze=unfreeze,
        epochs=args.epochs,
        seed=args.seed,
    )
    results = {"fine-tuned": evaluate(tuned, test)["accuracy"]}
    if not args.no_scratch:
        keras.utils.set_random_seed(args.seed)
        scratch = keras.models.clone_model(tuned)  # same architecture, fresh initial weights
        train(
            scratch,
            (x, y),
            epochs=args.epochs,
            learning_rate=args.head_lr,
            seed=args.seed,
            verbose=0,
        )
        results["from scratch"] = evaluate(scratch, test)["accuracy"]
    lines = ["| model | test accuracy (%) |", "|---|---|"]
    lines += [f"| {name} | {100 * value:.1f} |" for name, value in results.items()]
    text = "\n".join(lines) + f"\n\ntraining examples: {len(x)} ({args.per_class} per class)"
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        tuned.save(os.path.join(args.out, "finetuned.keras"))
    data = {name: float(value) for name, value in results.items()}
    data["history"] = {
        k: [float(v) for v in np.asarray(vals)] for k, vals in history.history.items()
    }
    _write(args, data, text)
