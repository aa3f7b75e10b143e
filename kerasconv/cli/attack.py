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
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def _load_image(spec, shape):
    import numpy as np

    from kerasconv.cli import UsageError

    height, width, channels = shape
    if spec.startswith("digits:"):
        import kerasconv

        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--image digits:N needs an integer N; got {spec!r}.") from None
        x, y = kerasconv.data.load_arrays("digits", "test", image_size=height)
        if not 0 <= index < len(x):
            raise UsageError(f"digits:{index} is out of range: there are {len(x)} test digits.")
        image = x[index]
        if channels == 3:
            image = np.repeat(image, 3, axis=-1)
        return image, int(y[index])
    import os

    import tensorflow as tf

    if not os.path.isfile(spec):
        raise FileNotFoundError(f"image file not found: {spec}")
    data = tf.io.read_file(spec)
    try:
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    except tf.errors.InvalidArgumentError:
        raise UsageError(f"cannot decode {spec} as an image (png/jpg expected).") from None
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (height, width)).numpy()
    return image.astype("float32"), None


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
