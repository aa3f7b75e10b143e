"""``kerasconv attack METHOD --model M --image I --eps E --out DIR``.

Writes the seeds' figure for one image: original, adversarial and the 10× amplified difference,
with both predictions (``attack.png``), plus the original and adversarial images as PNGs and a
``result.json``.
"""

from __future__ import annotations

METHODS = ("fgsm", "bim", "pgd", "mim")


def register(subparsers):
    parser = subparsers.add_parser(
        "attack",
        help="attack one image and draw original / adversarial / 10x difference",
        description=__doc__,
    )
    parser.add_argument("method", choices=METHODS, help="the attack")
    parser.add_argument("--model", required=True, help="a .keras model file")
    parser.add_argument(
        "--image", required=True, help="a png/jpg file, or digits:N for test digit N"
    )
    parser.add_argument("--eps", type=float, default=0.1, help="L-inf budget (default 0.1)")
    parser.add_argument("--nb-iter", type=int, default=20, help="steps of iterative attacks")
    parser.add_argument("--target", type=int, default=None, help="target class (targeted)")
    parser.add_argument("--amplify", type=float, default=10.0, help="difference gain (10)")
    parser.add_argument("--out", default="out/attack", help="output folder")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of random starts and restarts (default: %(default)s)",
    )
    parser.set_defaults(func=run)


def _load_image(spec, shape):
    """The image and, for ``digits:N``, its true label."""
    from kerasconv.cli._common import digit_label, load_image_arg

    height, width, channels = shape
    return load_image_arg(spec, size=(height, width), channels=channels), digit_label(spec)


def run(args):
    import json
    import os

    import keras
    import numpy as np

    from kerasconv import attacks
    from kerasconv.cli import UsageError
    from kerasconv.visualize import plot

    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"model file not found: {args.model}")
    if not args.model.endswith(".keras"):
        raise UsageError("--model must be a .keras file.")
    model = keras.models.load_model(args.model)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    image, label = _load_image(args.image, shape)
    x = image[None]
    kwargs = dict(clip_min=0.0, clip_max=1.0)
    if args.target is not None:
        kwargs.update(y=[args.target], targeted=True)
    if args.method == "fgsm":
        result = attacks.fast_gradient_method(model, x, args.eps, **kwargs)
    else:
        function = {
            "bim": attacks.basic_iterative_method,
            "pgd": attacks.projected_gradient_descent,
            "mim": attacks.momentum_iterative_method,
        }[args.method]
        if args.method == "pgd":
            kwargs["seed"] = args.seed
        result = function(model, x, args.eps, nb_iter=args.nb_iter, **kwargs)
    os.makedirs(args.out, exist_ok=True)
    probabilities = [np.asarray(model.predict(v, verbose=0))[0] for v in (x, result.x_adv)]
    before, after = (int(np.argmax(p)) for p in probabilities)
    plot.adversarial_example(
        image,
        result.x_adv[0],
        f"{before} ({probabilities[0][before]:.0%})",
        f"{after} ({probabilities[1][after]:.0%})",
        amplify=args.amplify,
        path=os.path.join(args.out, "attack.png"),
        title=f"{args.method.upper()}, eps={args.eps:g}",
    )
    for name, array in (("original.png", image), ("adversarial.png", result.x_adv[0])):
        keras.utils.save_img(os.path.join(args.out, name), np.clip(array, 0, 1) * 255, scale=False)
    summary = {
        "method": args.method,
        "eps": args.eps,
        "true_label": label,
        "original_prediction": before,
        "adversarial_prediction": after,
        "success": bool(result.success[0]),
        "linf": float(result.linf[0]),
    }
    with open(os.path.join(args.out, "result.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
    print(
        f"{args.method}: prediction {before} -> {after} (eps={args.eps:g}); "
        f"wrote {os.path.join(args.out, 'attack.png')}"
    )
    return 0
