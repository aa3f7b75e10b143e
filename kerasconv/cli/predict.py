"""``kerasconv predict``: top-k classes of an image under a saved model."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="top-k predictions for an image",
        description="Predict the class of an image (a PNG/JPEG file, digits:N or a sample photo).",
    )
    parser.add_argument("--model", required=True, help=".keras file")
    parser.add_argument("--image", required=True, help="image file, digits:N or a sample name")
    parser.add_argument("--class-names", default=None, help="comma-separated class names")
    parser.add_argument("--top", type=int, default=5, help="how many classes to print (>= 1)")
    parser.set_defaults(func=run)


def run(args):
    import numpy as np

    from kerasconv.cli._common import load_image_arg, load_model_arg, model_image_size
    from kerasconv.gradients import ends_in_softmax

    if args.top < 1:
        raise ValueError(f"--top must be a positive number of classes; got {args.top}")
    model = load_model_arg(args.model)
    size, channels = model_image_size(model)
    image = load_image_arg(args.image, size=size if None not in size else None, channels=channels)
    outputs = np.asarray(model(image[None], training=False))[0]
    if not ends_in_softmax(model):
        outputs = np.exp(outputs - outputs.max())
        outputs = outputs / outputs.sum()
    names = args.class_names.split(",") if args.class_names else None
    if names is not None and len(names) != len(outputs):
        raise ValueError(f"--class-names has {len(names)} names but the model has {len(outputs)}")
    for index in np.argsort(-outputs)[: args.top]:
        label = names[index] if names else str(index)
        print(f"{label}\t{100 * outputs[index]:.2f}%")
