"""``kerasconv autoencoder``: train an autoencoder on the digits, then reconstruct, denoise,
in-paint and sample with it.

    kerasconv autoencoder train --kind conv --latent-dim 16 --epochs 15 --output out/ae/conv.keras
    kerasconv autoencoder reconstruct --model out/ae/conv.keras --out out/ae
    kerasconv autoencoder denoise --model out/ae/conv.keras --amount 0.3 --out out/ae
    kerasconv autoencoder inpaint --model out/ae/conv.keras --hole square --size 10 --out out/ae
    kerasconv autoencoder train --kind vae --latent-dim 2 --output out/ae/vae.keras
    kerasconv autoencoder sample --model out/ae/vae.keras --count 16 --out out/ae

``train`` saves a ``.keras`` file; the other actions load it and write PNG figures to ``--out``.
Images are the first ``--count`` test digits, or the ``--image`` arguments (PNG/JPEG paths,
``digits:N`` or sample photo names), resized to the model's input.
"""

from __future__ import annotations

import os

KINDS = {
    "dense": "dense_autoencoder",
    "conv": "conv_autoencoder",
    "conv_strided": "conv_autoencoder_strided",
    "conv_unpool": "conv_autoencoder_unpool",
    "denoising": "denoising_autoencoder",
    "sparse": "sparse_autoencoder",
    "vae": "variational_autoencoder",
}


def register(subparsers):
    parser = subparsers.add_parser(
        "autoencoder",
        help="train autoencoders; reconstruct, denoise, in-paint and sample with them",
        description="Autoencoders on the real digits (28×28): 'train' saves a .keras model; "
        "'reconstruct', 'denoise', 'inpaint' and 'sample' load it and write PNG figures.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    train = actions.add_parser("train", help="train an autoencoder and save it as .keras")
    train.add_argument("--kind", default="conv", choices=sorted(KINDS), help="autoencoder kind")
    train.add_argument("--latent-dim", type=int, default=16, help="size of the code")
    train.add_argument("--epochs", type=int, default=15, help="training epochs")
    train.add_argument("--batch-size", type=int, default=32, help="images per step")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate")
    train.add_argument(
        "--output", default="out/autoencoder/model.keras", help="where to save the .keras file"
    )
    train.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling")
    train.set_defaults(func=run_train)

    def add_common(sub):
        sub.add_argument("--model", required=True, help=".keras file written by 'train'")
        sub.add_argument(
            "--image",
            action="append",
            default=None,
            help="image path, digits:N or sample name (repeatable)",
        )
        sub.add_argument("--count", type=int, default=8, help="test digits to use without --image")
        sub.add_argument("--out", default="out/autoencoder", help="folder for the PNGs")

    reconstruct = actions.add_parser("reconstruct", help="draw inputs and reconstructions")
    add_common(reconstruct)
    reconstruct.set_defaults(func=run_reconstruct)

    denoise = actions.add_parser("denoise", help="corrupt images and denoise them")
    add_common(denoise)
    denoise.add_argument(
        "--noise",
        default="gaussian",
        choices=["gaussian", "salt_and_pepper", "masking"],
        help="kind of corruption",
    )
    denoise.add_argument(
        "--amount", type=float, default=0.3, help="noise level (std or fraction of pixels)"
    )
    denoise.add_argument("--seed", type=int, default=0, help="seed of the noise")
    denoise.set_defaults(func=run_denoise)

    inpaint = actions.add_parser("inpaint", help="cut a hole and in-paint it")
    add_common(inpaint)
    inpaint.add_argument(
        "--hole",
        default="square",
        choices=["square", "random_square", "bottom", "right", "pixels"],
        help="shape of the missing region",
    )
    inpaint.add_argument("--size", type=int, default=10, help="hole size in pixels")
    inpaint.add_argument("--fraction", type=float, default=0.5, help="for --hole pixels")
    inpaint.add_argument("--iterations", type=int, default=20, help="fill-in passes")
    inpaint.add_argument("--seed", type=int, default=0, help="seed of random holes")
    inpaint.set_defaults(func=run_inpaint)

    sample = actions.add_parser("sample", help="draw new images from a VAE")
    sample.add_argument("--model", required=True, help=".keras file of a VAE")
    sample.add_argument("--count", type=int, default=16, help="images to draw")
    sample.add_argument("--seed", type=int, default=0, help="seed of the prior samples")
    sample.add_argument("--grid", type=int, default=15, help="manifold grid size (2-D codes)")
    sample.add_argument("--out", default="out/autoencoder", help="folder for the PNGs")
    sample.set_defaults(func=run_sample)


def _load(path):
    import kerasconv.autoencoders as autoencoders
    from kerasconv.cli import UsageError
    from kerasconv.cli._common import load_model_arg

    if not path.endswith(".keras"):
        raise UsageError(
            f"--model must be a .keras file written by 'autoencoder train'; got {path!r}"
        )
    model = load_model_arg(path)
    if not isinstance(model, autoencoders.Autoencoder):
        raise UsageError(f"{path!r} is not a kerasconv autoencoder")
    return model


def _images(args, model):
    import numpy as np

    import kerasconv
    from kerasconv.cli._common import load_image_arg, model_image_size

    size, channels = model_image_size(model)
    if args.image:
        return np.stack([load_image_arg(v, size=size, channels=channels) for v in args.image])
    if args.count < 1:
        raise ValueError(f"--count must be >= 1; got {args.count}")
    x, _ = kerasconv.data.load_arrays("digits", "test", image_size=size[0])
    if args.count > len(x):
        raise ValueError(f"--count must be <= {len(x)}; got {args.count}")
    if x.shape[1:] != tuple(model.inputs[0].shape[1:]):
        raise ValueError(f"the model takes {tuple(model.inputs[0].shape[1:])} images, not digits")
    return x[: args.count]


def _written(path):
    print(f"wrote {path}")
    return path


def run_train(args):
    import kerasconv
    import kerasconv.autoencoders as autoencoders

    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1; got {args.epochs}")
    x, _ = kerasconv.data.load_arrays("digits", "train", image_size=28)
    x_test, _ = kerasconv.data.load_arrays("digits", "test", image_size=28)
    model = kerasconv.models.create(KINDS[args.kind], latent_dim=args.latent_dim)
    autoencoders.fit(
        model,
        x,
        validation_data=x_test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        verbose=2,
    )
    error = float(
        autoencoders.reconstruction_error(autoencoders.reconstruct(model, x_test), x_test).mean()
    )
    baseline = autoencoders.mean_image_error(x, x_test)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    model.save(args.output)
    bits = autoencoders.code_bits(model, bits_per_value=8)
    print(f"test reconstruction MSE {error:.5f} (mean-image baseline {baseline:.5f})")
    print(
        f"bottleneck: {bits} bits per image at 8 bits per code value "
        f"(raw 8-bit image: {28 * 28 * 8} bits, ratio {28 * 28 * 8 / bits:.1f})"
    )
    if isinstance(model, autoencoders.VariationalAutoencoder):
        print(f"test ELBO {autoencoders.elbo(model, x_test):.2f} nats per image")
    print(f"model saved to {args.output}")


def run_reconstruct(args):
    import kerasconv.autoencoders as autoencoders
    from kerasconv.visualize import plot

    model = _load(args.model)
    x = _images(args, model)
    reconstruction = autoencoders.reconstruct(model, x)
    errors = autoencoders.reconstruction_error(reconstruction, x)
    path = os.path.join(args.out, "reconstruction.png")
    plot.labelled_image_rows(
        [x, reconstruction],
        ["input", "reconstruction"],
        path=path,
        column_titles=[f"{e:.4f}" for e in errors],
        title=f"{model.name}: inputs and reconstructions (MSE above)",
    )
    print(f"mean reconstruction MSE {errors.mean():.5f}")
    _written(path)


def run_denoise(args):
    import kerasconv.autoencoders as autoencoders
    from kerasconv.visualize import plot

    model = _load(args.model)
    x = _images(args, model)
    noisy = autoencoders.add_noise(x, kind=args.noise, amount=args.amount, seed=args.seed)
    denoised = autoencoders.denoise(model, noisy)
    before = autoencoders.reconstruction_error(noisy, x).mean()
    after = autoencoders.reconstruction_error(denoised, x).mean()
    path = os.path.join(args.out, "denoise.png")
    plot.labelled_image_rows(
        [x, noisy, denoised],
        ["clean", "noisy", "denoised"],
        path=path,
        title=f"{args.noise} noise {args.amount}: MSE to clean {before:.4f} → {after:.4f}",
    )
    print(f"MSE to the clean images: noisy {before:.5f}, denoised {after:.5f}")
    _written(path)


def run_inpaint(args):
    import numpy as np

    import kerasconv.autoencoders as autoencoders
    from kerasconv.visualize import plot

    model = _load(args.model)
    x = _images(args, model)
    masks = autoencoders.make_mask(
        x.shape[1:3],
        kind=args.hole,
        size=args.size,
        fraction=args.fraction,
        count=len(x),
        seed=args.seed,
    )
    filled = autoencoders.inpaint(model, x, masks, iterations=args.iterations)
    hole = np.broadcast_to(masks[..., None], x.shape)
    holed = np.where(hole, 0.5, x)
    error = autoencoders.reconstruction_error(filled, x, hole).mean()
    path = os.path.join(args.out, "inpaint.png")
    plot.labelled_image_rows(
        [x, holed, filled],
        ["original", "hole", "in-painted"],
        path=path,
        title=f"in-painting ({args.hole}, {args.iterations} iterations): "
        f"MSE in the hole {error:.4f}",
    )
    print(f"MSE in the hole {error:.5f}")
    _written(path)


def run_sample(args):
    import math

    import kerasconv.autoencoders as autoencoders
    from kerasconv.visualize import plot

    model = _load(args.model)
    if not isinstance(model, autoencoders.VariationalAutoencoder):
        raise ValueError(f"{args.model!r} is not a VAE; train one with --kind vae")
    if args.count < 1:
        raise ValueError(f"--count must be >= 1; got {args.count}")
    images = autoencoders.sample(model, args.count, seed=args.seed)
    path = os.path.join(args.out, "samples.png")
    plot.image_grid(
        images,
        columns=int(math.ceil(math.sqrt(args.count))),
        normalize=None,
        path=path,
        title=f"{args.count} samples from the VAE's prior",
    )
    _written(path)
    if model.latent_dim >= 2:
        if args.grid < 2:
            raise ValueError(f"--grid must be >= 2; got {args.grid}")
        grid, values = autoencoders.latent_grid(model, grid_size=args.grid)
        path = os.path.join(args.out, "manifold.png")
        plot.latent_manifold(grid, values, path=path, title="VAE latent manifold (z1, z2)")
        _written(path)
