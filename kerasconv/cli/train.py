"""``kerasconv train``: train a registered model on a dataset with the recipe."""

from __future__ import annotations

import os


def register(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a model on a dataset",
        description="Train a registered model (or a .keras file) with kerasconv's recipe: SGD + "
        "momentum, weight decay, an annealed learning rate; resumable with --checkpoint-dir.",
    )
    parser.add_argument("--model", default="lenet5", help="registry name or .keras file")
    parser.add_argument("--data", default="digits", help="dataset name (digits, lfw_faces, ...)")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir / imagefolder root")
    parser.add_argument("--image-size", type=int, default=None, help="resize images to N×N")
    parser.add_argument(
        "--resize",
        default="bilinear",
        choices=["bilinear", "pad"],
        help="how images reach --image-size: bilinear resampling, or pad (zero-pad / centre-crop "
        "around the untouched pixels, as for Fashion-MNIST's 28×28 into LeNet-5's 32×32)",
    )
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training split")
    parser.add_argument("--batch-size", type=int, default=32, help="images per training step")
    parser.add_argument("--learning-rate", type=float, default=0.05, help="initial learning rate")
    parser.add_argument("--optimizer", default="sgd", help="sgd (with momentum), adam, ...")
    parser.add_argument(
        "--schedule",
        default="cosine",
        choices=["cosine", "step", "plateau", "constant"],
        help="learning-rate schedule",
    )
    parser.add_argument("--augment", action="store_true", help="random translations")
    parser.add_argument("--checkpoint-dir", default=None, help="resume/best-model folder")
    parser.add_argument("--output", default="out/train/model.keras", help="where to save")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for weights, shuffling, augmentation"
    )
    parser.set_defaults(func=run)


def run(args):
    import kerasconv
    from kerasconv.cli._common import load_model_arg

    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1; got {args.epochs}")
    names = kerasconv.data.class_names(args.data, args.data_dir)
    train = kerasconv.data.load(
        args.data,
        "train",
        args.batch_size,
        args.image_size,
        data_dir=args.data_dir,
        resize=args.resize,
    )
    val = kerasconv.data.load(
        args.data,
        "test",
        args.batch_size,
        args.image_size,
        data_dir=args.data_dir,
        resize=args.resize,
    )
    image_shape = tuple(train.element_spec[0].shape[1:])
    if args.model.endswith(".keras"):
        model = load_model_arg(args.model)
    else:
        model = kerasconv.models.create(args.model, input_shape=image_shape, classes=len(names))
    kerasconv.training.train(
        model,
        train,
        val,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        optimizer=args.optimizer,
        schedule=args.schedule,
        augment=True if args.augment else None,
        checkpoint_dir=args.checkpoint_dir,
        seed=args.seed,
    )
    result = kerasconv.training.evaluate(model, val)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    model.save(args.output)
    print(f"test accuracy {result['accuracy']:.4f} on {result['samples']} images")
    print(f"model saved to {args.output}")
