"""``kerasconv synthesize``: optimise images and weights and write PNGs.

Sub-commands (each takes a saved ``.keras`` model)::

    kerasconv synthesize maximize  --model lenet.keras --targets 0 1 2 --out out/maximize
    kerasconv synthesize invert    --model lenet.keras --images digits:0-3 --layers c1 c3 f6
    kerasconv synthesize dream     --model vgg.keras --image chelsea --layers block3_conv1
    kerasconv synthesize style     --model vgg.keras --content chelsea --style coffee \\
                                   --content-layer block3_conv2 \\
                                   --style-layers block1_conv1 block2_conv1
    kerasconv synthesize landscape --model lenet.keras --data digits --resolution 11

Images are a file (PNG/JPEG), a bundled photograph name (``chelsea``, ``astronaut``, ...) or
``digits:N`` (test digit N) or ``digits:A-B`` (test digits A to B); they are resized and converted to the model's input.
"""

from __future__ import annotations

import os

from kerasconv.cli._common import load_images_arg, load_model_arg

SUBCOMMANDS = ("maximize", "invert", "dream", "style", "landscape")


def register(subparsers):
    parser = subparsers.add_parser(
        "synthesize",
        help="activation maximisation, inversion, DeepDream, style transfer, loss landscapes",
        description=__doc__.split("\n\n")[0],
    )
    inner = parser.add_subparsers(dest="method", metavar="METHOD", parser_class=type(parser))
    inner.required = True

    def common(sub, out):
        sub.add_argument("--model", required=True, help="a saved .keras model")
        sub.add_argument("--out", default=out, help="output folder")
        sub.add_argument(
            "--steps", type=int, default=None, help="optimisation steps (default: per method)"
        )
        sub.add_argument("--seed", type=int, default=0, help="seed of the starting noise")
        sub.set_defaults(func=_run)

    sub = inner.add_parser("maximize", help="class / unit visualisation (Simonyan; Yosinski)")
    common(sub, "out/synthesize/maximize")
    sub.add_argument(
        "--targets",
        type=int,
        nargs="+",
        default=None,
        help="classes or units to maximise (default: every class)",
    )
    sub.add_argument("--layer", default=None, help="a layer (default: the class scores)")
    sub.add_argument("--learning-rate", type=float, default=0.05, help="gradient-ascent step")
    sub.add_argument(
        "--l2-decay", type=float, default=0.01, help="shrink the image by this fraction per step"
    )
    sub.add_argument("--blur-every", type=int, default=4, help="blur every N steps (0: never)")
    sub.add_argument("--blur-sigma", type=float, default=0.5, help="Gaussian blur width, pixels")
    sub.add_argument(
        "--norm-clip", type=float, default=0.0, help="zero pixels below this norm percentile"
    )
    sub.add_argument(
        "--contribution-clip",
        type=float,
        default=0.0,
        help="zero pixels below this contribution percentile",
    )
    sub.add_argument("--jitter", type=int, default=1, help="random shift per step, pixels")

    sub = inner.add_parser("invert", help="feature inversion (Mahendran & Vedaldi)")
    common(sub, "out/synthesize/invert")
    sub.add_argument(
        "--images", default="digits:0-3", help="image file, sample name, digits:N or digits:A-B"
    )
    sub.add_argument("--layers", nargs="+", required=True, help="layers whose features to invert")
    sub.add_argument(
        "--tv-weight", type=float, default=0.01, help="weight of the total-variation prior"
    )

    sub = inner.add_parser("dream", help="DeepDream (Mordvintsev et al.)")
    common(sub, "out/synthesize/dream")
    sub.add_argument("--image", default="chelsea", help="image file, sample name or digits:N")
    sub.add_argument("--layers", nargs="+", required=True, help="layers whose activations to grow")
    sub.add_argument("--octaves", type=int, default=3, help="number of image scales")
    sub.add_argument("--step-size", type=float, default=0.01, help="gradient-ascent step")
    sub.add_argument("--size", type=int, default=None, help="resize the image (square)")

    sub = inner.add_parser("style", help="neural style transfer (Gatys et al.)")
    common(sub, "out/synthesize/style")
    sub.add_argument("--content", default="chelsea", help="content image (file or sample name)")
    sub.add_argument("--style", default="coffee", help="style image (file or sample name)")
    sub.add_argument("--content-layer", required=True, help="layer matched for the content")
    sub.add_argument(
        "--style-layers", nargs="+", required=True, help="layers whose Gram matrices give the style"
    )
    sub.add_argument("--style-weight", type=float, default=1e4, help="weight of the style loss")
    sub.add_argument(
        "--optimizer", choices=("adam", "lbfgs"), default="adam", help="image optimiser"
    )
    sub.add_argument("--vgg-preprocess", action="store_true", help="caffe-style ImageNet VGG input")

    sub = inner.add_parser("landscape", help="2-D filter-normalised loss surface (Li et al.)")
    common(sub, "out/synthesize/landscape")
    sub.add_argument("--data", default="digits", help="a kerasconv.data name with a test split")
    sub.add_argument("--resolution", type=int, default=11, help="grid points per axis")
    sub.add_argument("--range", type=float, default=1.0, help="coefficients in [-range, range]")
    sub.add_argument("--samples", type=int, default=256, help="test samples to evaluate")


def _load_model(path):
    return load_model_arg(path)


def _input_shape(model):
    return tuple(model.inputs[0].shape[1:])


def load_images(spec, model, size=None):
    """Images for ``model``: a file, a sample photograph, ``digits:N`` or ``digits:A-B``."""
    height, width, channels = _input_shape(model)
    if size is not None:
        height = width = size
    shape = (height, width) if height is not None and width is not None else None
    return load_images_arg(spec, size=shape, channels=channels)


def _run(args):
    import numpy as np

    import kerasconv
    from kerasconv.visualize import plot

    model = _load_model(args.model)
    os.makedirs(args.out, exist_ok=True)
    written = []

    def progress(step, total, metrics):
        shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        print(f"  step {step}/{total} {shown}", flush=True)

    if args.method == "maximize":
        targets = args.targets
        if targets is None:
            targets = list(range(int(model.outputs[0].shape[-1])))
        result = kerasconv.visualize.activation_maximization(
            model,
            targets,
            layer=args.layer,
            steps=args.steps or 200,
            learning_rate=args.learning_rate,
            l2_decay=args.l2_decay,
            blur_every=args.blur_every,
            blur_sigma=args.blur_sigma,
            norm_clip_percentile=args.norm_clip,
            contribution_clip_percentile=args.contribution_clip,
            jitter=args.jitter,
            value_range=(0.0, 1.0),
            seed=args.seed,
            progress=progress,
        )
        titles = [f"{t}: {s:.1f}" for t, s in zip(targets, result.scores, strict=True)]
        path = os.path.join(args.out, "maximize.png")
        plot.image_grid(result.images, titles=titles, path=path)
        written.append(path)
    elif args.method == "invert":
        images = load_images(args.images, model)
        results = kerasconv.visualize.invert_from_layers(
            model,
            images,
            args.layers,
            steps=args.steps or 300,
            tv_weight=args.tv_weight,
            seed=args.seed,
        )
        rows = [images] + [r.images for r in results.values()]
        titles = []
        for label in ["original"] + list(results):
            titles += [label] * len(images)
        plot.image_grid(
            np.concatenate(rows),
            titles=titles,
            columns=len(images),
            normalize=None,
            path=os.path.join(args.out, "invert.png"),
        )
        written.append(os.path.join(args.out, "invert.png"))
    elif args.method == "dream":
        images = load_images(args.image, model, size=args.size)
        result = kerasconv.visualize.deep_dream(
            model,
            images,
            args.layers,
            steps_per_octave=args.steps or 20,
            octaves=args.octaves,
            step_size=args.step_size,
            seed=args.seed,
            progress=progress,
        )
        plot.image_grid(
            np.concatenate([images, result.images]),
            titles=["original", "dream"] * len(images),
            columns=2,
            normalize=None,
            cell_size=3.0,
            path=os.path.join(args.out, "dream.png"),
        )
        written.append(os.path.join(args.out, "dream.png"))
    elif args.method == "style":
        content = load_images(args.content, model)
        style = load_images(args.style, model)
        result = kerasconv.visualize.style_transfer(
            model,
            content,
            style,
            args.content_layer,
            args.style_layers,
            style_weight=args.style_weight,
            steps=args.steps or 300,
            optimizer=args.optimizer,
            preprocess=kerasconv.visualize.vgg_preprocess if args.vgg_preprocess else None,
            seed=args.seed,
            progress=progress,
        )
        plot.image_grid(
            np.concatenate([content, style, result.images]),
            titles=["content", "style", "result"],
            columns=3,
            normalize=None,
            cell_size=3.0,
            path=os.path.join(args.out, "style.png"),
        )
        written.append(os.path.join(args.out, "style.png"))
    elif args.method == "landscape":
        height, width, channels = _input_shape(model)
        x, y = kerasconv.data.load_arrays(
            args.data, "test", image_size=(height, width), channels=channels
        )
        x, y = x[: args.samples], y[: args.samples]
        surface = kerasconv.visualize.loss_surface(
            model,
            (x, y),
            x_range=(-args.range, args.range),
            y_range=(-args.range, args.range),
            resolution=args.resolution,
            seed=args.seed,
            progress=progress,
        )
        path = os.path.join(args.out, "landscape.png")
        plot.loss_surfaces({model.name: surface}, path=path)
        np.savez(
            os.path.join(args.out, "landscape.npz"),
            **{k: v for k, v in surface.items() if k != "directions"},
        )
        written.append(path)
    for path in written:
        print(f"wrote {path}")
    return 0
