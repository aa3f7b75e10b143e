"""``kerasconv evaluate``: accuracy of a saved model on a dataset split."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy of a .keras model on a dataset",
        description="Evaluate a saved .keras classifier on a dataset split.",
    )
    parser.add_argument("--model", required=True, help=".keras file")
    parser.add_argument("--data", default="digits", help="dataset name (digits, lfw_faces, ...)")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir / imagefolder root")
    parser.add_argument("--split", default="test", help="split of --data to evaluate on")
    parser.add_argument("--batch-size", type=int, default=256, help="images per batch")
    parser.add_argument(
        "--resize",
        default="bilinear",
        choices=["bilinear", "pad"],
        help="how images reach the model's input size: bilinear resampling, or pad (zero-pad / "
        "centre-crop; use it for a model trained that way, e.g. kerasconv demo's)",
    )
    parser.set_defaults(func=run)


def run(args):
    import kerasconv
    from kerasconv.cli._common import load_model_arg, model_image_size

    model = load_model_arg(args.model)
    size, channels = model_image_size(model)
    names = kerasconv.data.class_names(args.data, args.data_dir)
    outputs = model.outputs[0].shape[-1]
    if outputs != len(names):
        raise ValueError(
            f"the model predicts {outputs} classes but {args.data!r} has {len(names)} "
            f"({', '.join(map(str, names[:5]))}{', ...' if len(names) > 5 else ''}); "
            "evaluate it on the dataset it was trained for"
        )
    data = kerasconv.data.load(
        args.data,
        args.split,
        args.batch_size,
        image_size=size if None not in size else None,
        data_dir=args.data_dir,
        channels=channels,
        resize=args.resize,
    )
    result = kerasconv.training.evaluate(model, data)
    print(f"accuracy {result['accuracy']:.4f} on {result['samples']} images ({args.split})")
