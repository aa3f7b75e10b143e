"""``kerasconv evaluate``: accuracy of a saved model on a dataset split."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy of a .keras model on a dataset",
        description="Evaluate a saved .keras classifier on a dataset split.",
    )
    parser.add_argument("--model", required=True, help=".keras file")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.set_defaults(func=run)


def run(args):
    import kerasconv
    from kerasconv.cli._common import load_model_arg, model_image_size

    model = load_model_arg(args.model)
    size, channels = model_image_size(model)
    data = kerasconv.data.load(
        args.data,
        args.split,
        args.batch_size,
        image_size=size if None not in size else None,
        data_dir=args.data_dir,
        channels=channels,
    )
    result = kerasconv.training.evaluate(model, data)
    print(f"accuracy {result['accuracy']:.4f} on {result['samples']} images ({args.split})")
