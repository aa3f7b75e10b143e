"""``kerasconv demo``: the main job (LeNet-5 on the real digits, saved, exported, drawn)."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="train LeNet-5 on the real digits, save, export and draw it",
        description="The main job: trains LeNet-5 on scikit-learn's handwritten digits, prints "
        "its test accuracy, saves a .keras file, exports a SavedModel in TF Serving's layout "
        "and writes figures to --out.",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="out/demo")
    parser.add_argument("--saved-models", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def run(args):
    from kerasconv.demo import run_demo

    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1; got {args.epochs}")
    result = run_demo(
        out_dir=args.out,
        saved_models_dir=args.saved_models,
        epochs=args.epochs,
        seed=args.seed,
        verbose=2,
    )
    print()
    print(
        f"LeNet-5 test accuracy on the digits: {100 * result['accuracy']:.2f}% "
        f"({result['test_samples']} test images, {result['epochs']} epochs)"
    )
    print(f"Keras model:      {result['model_path']}")
    print(
        f"SavedModel:       {result['export_dir']}  (serve it: kerasconv serve "
        f"--model_name lenet5_digits --model_base_path {args.saved_models}/lenet5_digits)"
    )
    for name, path in result["figures"].items():
        print(f"{name + ':':<18}{path}")
    print(f"took {result['seconds']:.0f} s")
