"""``kerasconv demo``: the main job (LeNet-5 on Fashion-MNIST, saved, exported, drawn)."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="train LeNet-5 on Fashion-MNIST, save, export and draw it",
        description="The main job: trains LeNet-5 on Fashion-MNIST (Debian's "
        "dataset-fashion-mnist, read offline) with the seeds' SGD recipe, prints its test "
        "accuracy, saves a .keras file, exports a SavedModel in TF Serving's layout and writes "
        "figures to --out. --data digits runs it on scikit-learn's real digits instead.",
    )
    parser.add_argument(
        "--data",
        choices=("fashion_mnist", "digits"),
        default="fashion_mnist",
        help="dataset (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs (default: the dataset's recipe: 15 for fashion_mnist, 20 for digits)",
    )
    parser.add_argument(
        "--out", default="out/demo", help="folder for the model and figures (default: %(default)s)"
    )
    parser.add_argument(
        "--saved-models",
        default="saved_models",
        help="base folder of the SavedModel export (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args):
    from kerasconv.demo import TITLES, run_demo

    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1; got {args.epochs}")
    result = run_demo(
        out_dir=args.out,
        saved_models_dir=args.saved_models,
        data=args.data,
        epochs=args.epochs,
        seed=args.seed,
        verbose=2,
    )
    name = result["export_name"]
    print()
    print(
        f"LeNet-5 test accuracy on {TITLES[args.data]}: {100 * result['accuracy']:.2f}% "
        f"({result['test_samples']} test images, {result['epochs']} epochs, training took "
        f"{result['train_seconds']:.0f} s)"
    )
    print(f"Keras model:      {result['model_path']}")
    print(
        f"SavedModel:       {result['export_dir']}  (serve it: kerasconv serve "
        f"--model_name {name} --model_base_path {args.saved_models}/{name})"
    )
    for key, path in result["figures"].items():
        print(f"{key + ':':<18}{path}")
    print(f"took {result['seconds']:.0f} s in all")
