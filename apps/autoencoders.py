"""Autoencoders on the real digits: every builder, every use, one report.

    python apps/autoencoders.py                 # full run (a few minutes on a CPU)
    python apps/autoencoders.py --smoke         # under a minute: tiny widths, 2 epochs
    python apps/autoencoders.py --out out/ae    # where report.md and the figures go

Trains the dense, convolutional (pooling, strided, max-unpooling), denoising, sparse and variational
autoencoders of ``kerasconv.autoencoders`` on scikit-learn's handwritten digits at 28×28, then
measures: reconstruction error against the mean-image baseline, bits per image at the bottleneck,
denoising and in-painting errors, the VAE's ELBO, and linear probes of the codes beside supervised
features. Writes ``report.md`` and ``autoencoders_*.png`` figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _configuration(smoke):
    if smoke:
        return {
            "train_images": 200,
            "test_images": 100,
            "dense_epochs": 2,
            "conv_epochs": 1,
            "vae_epochs": 2,
            "twin_epochs": 1,
            "hidden": (64,),
            "filters": (4, 4),
            "unpool_filters": (4, 4),
            "vae_hidden": (32,),
            "lenet": False,
        }
    return {
        "train_images": None,
        "test_images": None,
        "dense_epochs": 30,
        "conv_epochs": 12,
        "vae_epochs": 40,
        "twin_epochs": 15,
        "hidden": (128,),
        "filters": (16, 32),
        "unpool_filters": (8, 8),
        "vae_hidden": (256,),
        "lenet": True,
    }


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


INTERPOLATION_PAIRS = ((8, 3), (0, 6), (1, 7))


def interpolation_endpoints(model, x, y, pairs=INTERPOLATION_PAIRS):
    """For each class pair ``(a, b)``, the indices of the test images to interpolate between.

    The rule: for each class, its most typical test image in code space, the one whose code is
    nearest the median of the class's codes. (Indices 0 and 1 gave an "8 → 3" row from whatever
    digits came first.) Pairs whose classes are absent from ``y`` are skipped.
    """
    import kerasconv.autoencoders as ae

    y = np.asarray(y)
    codes = ae.encode(model, x)
    chosen = []
    for a, b in pairs:
        ends = []
        for c in (a, b):
            members = np.flatnonzero(y == c)
            if len(members) == 0:
                break
            median = np.median(codes[members], axis=0)
            distances = np.sum(np.square(codes[members] - median), axis=1)
            ends.append(int(members[np.argmin(distances)]))
        if len(ends) == 2:
            chosen.append(tuple(ends))
    return chosen


def vae_figures(vae, history, x_test, y_test, figure, seed):
    """Samples, the latent manifold, the code means by class, interpolations, the ELBO curve."""
    import kerasconv.autoencoders as ae
    from kerasconv.visualize import plot

    plot.image_grid(
        ae.sample(vae, 32, seed=seed),
        columns=8,
        normalize=None,
        path=figure("vae_samples"),
        title="VAE: decoded samples z ~ N(0, I)",
    )
    grid, values = ae.latent_grid(vae, grid_size=15)
    plot.latent_manifold(
        grid,
        values,
        path=figure("vae_manifold"),
        title="VAE latent manifold (Gaussian quantiles of z1, z2)",
    )
    plot.latent_scatter(
        ae.encode(vae, x_test),
        y_test,
        path=figure("vae_latent"),
        title="VAE code means of the test digits, by class",
    )
    pairs = interpolation_endpoints(vae, x_test, y_test)
    # Each row: the input a, the decoded line from e(a) to e(b) (its ends are the
    # reconstructions), the input b.
    plot.labelled_image_rows(
        [
            np.concatenate(
                [
                    x_test[a : a + 1],
                    ae.interpolate(vae, x_test[a], x_test[b], steps=8),
                    x_test[b : b + 1],
                ]
            )
            for a, b in pairs
        ],
        [f"{y_test[a]} → {y_test[b]}" for a, b in pairs],
        column_titles=["input", "d(e(a))"] + [""] * 6 + ["d(e(b))", "input"],
        path=figure("vae_interpolation"),
        title="VAE: inputs at both ends, the straight line in code space between them",
    )
    plot.training_curves(history, path=figure("vae_training"), title="VAE: negative ELBO (nats)")


def run(out_dir="out/autoencoders", smoke=False, seed=0, verbose=0):
    """Train, measure and draw; returns a dict of the numbers (also written to ``report.md``)."""
    import kerasconv
    import kerasconv.autoencoders as ae
    from kerasconv.visualize import plot

    start = time.time()
    config = _configuration(smoke)
    os.makedirs(out_dir, exist_ok=True)
    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=28)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=28)
    if config["train_images"]:
        x_train, y_train = x_train[: config["train_images"]], y_train[: config["train_images"]]
    if config["test_images"]:
        x_test, y_test = x_test[: config["test_images"]], y_test[: config["test_images"]]
    baseline = ae.mean_image_error(x_train, x_test)
    latent = 16
    builders = {
        "dense": lambda: ae.DenseAutoencoder(latent_dim=latent, hidden_units=config["hidden"]),
        "conv (pooling / transposed)": lambda: ae.ConvAutoencoder(
            latent_dim=latent, filters=config["filters"]
        ),
        "conv (strided / transposed)": lambda: ae.ConvAutoencoder(
            latent_dim=latent,
            filters=config["filters"],
            down="strided",
            name="conv_autoencoder_strided",
        ),
        "conv (pooling / max-unpooling)": lambda: ae.ConvAutoencoder(
            latent_dim=latent,
            filters=config["unpool_filters"],
            up="unpool",
            name="conv_autoencoder_unpool",
        ),
        "denoising (conv, Gaussian σ=0.3)": lambda: ae.DenoisingAutoencoder(
            latent_dim=latent, filters=config["filters"], noise_amount=0.3
        ),
        "sparse (dense, L1 1e-3)": lambda: ae.SparseAutoencoder(
            latent_dim=64, hidden_units=config["hidden"], sparsity=1e-3
        ),
    }
    models, rows = {}, []
    for label, build in builders.items():
        began = time.time()
        model = build()
        epochs = config["dense_epochs"] if "dense" in label else config["conv_epochs"]
        ae.fit(model, x_train, epochs=epochs, seed=seed, verbose=verbose)
        error = float(ae.reconstruction_error(ae.reconstruct(model, x_test), x_test).mean())
        bits = ae.code_bits(model, bits_per_value=8)
        models[label] = model
        rows.append(
            [
                label,
                f"{model.count_params():,}",
                model.latent_dim,
                bits,
                f"{784 * 8 / bits:.1f}",
                f"{error:.4f}",
                f"{error / baseline:.2f}",
                epochs,
                f"{time.time() - began:.0f}",
            ]
        )

    # The VAE, with a 2-D code so its latent space can be drawn.
    vae = ae.VAE(latent_dim=2, hidden_units=config["vae_hidden"], seed=seed)
    vae.compile("adam")
    elbo_before = ae.elbo(vae, x_test)
    began = time.time()
    history = ae.fit(
        vae,
        x_train,
        validation_data=x_test,
        epochs=config["vae_epochs"],
        seed=seed,
        verbose=verbose,
    )
    elbo_after = ae.elbo(vae, x_test)
    vae_error = float(ae.reconstruction_error(ae.reconstruct(vae, x_test), x_test).mean())
    rows.append(
        [
            "variational (dense, 2-D code)",
            f"{vae.count_params():,}",
            2,
            ae.code_bits(vae, 8),
            f"{784 * 8 / ae.code_bits(vae, 8):.1f}",
            f"{vae_error:.4f}",
            f"{vae_error / baseline:.2f}",
            config["vae_epochs"],
            f"{time.time() - began:.0f}",
        ]
    )
    figures = {}

    def figure(name):
        path = os.path.join(out_dir, f"autoencoders_{name}.png")
        figures[name] = path
        return path

    # Reconstructions of every model.
    shown = x_test[:10]
    plot.labelled_image_rows(
        [shown]
        + [ae.reconstruct(m, shown) for m in models.values()]
        + [ae.reconstruct(vae, shown)],
        ["input"]
        + [
            label.split(" (")[0]
            + (" (unpool)" if "unpool" in label else " (strided)" if "strided" in label else "")
            for label in models
        ]
        + ["VAE"],
        path=figure("reconstructions"),
        title="Test digits and their reconstructions",
    )

    # Denoising: a plain and a denoising autoencoder of the same architecture.
    plain = models["conv (pooling / transposed)"]
    denoising = models["denoising (conv, Gaussian σ=0.3)"]
    noisy = ae.add_noise(x_test, "gaussian", 0.3, seed=seed)
    denoise_rows = [
        ["noisy input (no model)", f"{ae.reconstruction_error(noisy, x_test).mean():.4f}"]
    ]
    for label, model in (("plain conv autoencoder", plain), ("denoising autoencoder", denoising)):
        denoise_rows.append(
            [label, f"{ae.reconstruction_error(ae.denoise(model, noisy), x_test).mean():.4f}"]
        )
    plot.labelled_image_rows(
        [x_test[:10], noisy[:10], ae.denoise(plain, noisy[:10]), ae.denoise(denoising, noisy[:10])],
        ["clean", "noisy σ=0.3", "plain AE", "denoising AE"],
        path=figure("denoising"),
        title="Denoising: Gaussian noise σ = 0.3",
    )

    # In-painting a 10×10 hole in the centre.
    masks = ae.make_mask((28, 28), "square", size=10, count=len(x_test))
    hole = np.broadcast_to(masks[..., None], x_test.shape)
    mean_fill = np.where(hole, x_train.mean(axis=0), x_test)
    inpaint_rows = [
        [
            "mean training image in the hole",
            f"{ae.reconstruction_error(mean_fill, x_test, hole).mean():.4f}",
        ]
    ]
    filled = {}
    for label, model in (("dense", models["dense"]), ("conv", plain), ("denoising", denoising)):
        filled[label] = ae.inpaint(model, x_test, masks, iterations=20)
        inpaint_rows.append(
            [
                f"{label} autoencoder, 20 iterations",
                f"{ae.reconstruction_error(filled[label], x_test, hole).mean():.4f}",
            ]
        )
    plot.labelled_image_rows(
        [
            x_test[:10],
            np.where(hole[:10], 0.5, x_test[:10]),
            mean_fill[:10],
            filled["dense"][:10],
            filled["denoising"][:10],
        ],
        ["original", "hole", "mean fill", "dense AE", "denoising AE"],
        path=figure("inpainting"),
        title="In-painting a 10×10 hole (known pixels kept)",
    )

    # Compression at the bottleneck.
    compression_rows = []
    for label in ("dense", "conv (pooling / transposed)", "conv (pooling / max-unpooling)"):
        model = models[label]
        exact = ae.reconstruction_error(ae.reconstruct(model, x_test), x_test).mean()
        for bits in (8, 4):
            packed = ae.compress(model, x_test, bits=bits)
            error = ae.reconstruction_error(ae.decompress(model, packed), x_test).mean()
            compression_rows.append(
                [
                    label,
                    bits,
                    packed.bits_per_image,
                    packed.raw_bits_per_image,
                    f"{packed.ratio:.1f}",
                    f"{exact:.4f}",
                    f"{error:.4f}",
                ]
            )

    # The VAE: samples, manifold, latent scatter, interpolation.
    vae_figures(vae, history, x_test, y_test, figure, seed)
    plot.latent_scatter(
        ae.latent_projection(ae.encode(models["dense"], x_test)),
        y_test,
        path=figure("dense_latent_pca"),
        axis_labels=("PC1", "PC2"),
        title="Dense autoencoder codes (16-D), first two principal components",
    )

    # Features for a downstream task.
    probe_rows = ae.feature_comparison(
        models["dense"],
        x_train,
        y_train,
        x_test,
        y_test,
        twin_epochs=config["twin_epochs"],
        seed=seed,
    )
    if config["lenet"]:
        x32, y32 = kerasconv.data.load_arrays("digits", "train", image_size=32)
        lenet = kerasconv.models.LeNet5(classes=10)
        kerasconv.training.train(
            lenet, (x32, y32), epochs=15, batch_size=32, learning_rate=0.05, seed=seed, verbose=0
        )
        extra = ae.feature_comparison(
            models["dense"],
            x_train,
            y_train,
            x_test,
            y_test,
            supervised=lenet,
            supervised_layer="f6",
        )
        probe_rows.append(extra[-1])
    vae_probe = kerasconv.transfer.linear_probe(
        ae.encode(vae, x_train),
        y_train,
        test_features=ae.encode(vae, x_test),
        test_labels=y_test,
    ).mean
    probe_rows.insert(2, {"features": "VAE code mean (2-D)", "dimension": 2, "accuracy": vae_probe})

    sparse = models["sparse (dense, L1 1e-3)"]
    active = float(np.mean(ae.encode(sparse, x_test) > 0))

    seconds = time.time() - start
    report = [
        "# Autoencoders on the real digits",
        "",
        f"scikit-learn's handwritten digits at 28×28: {len(x_train)} training and {len(x_test)} "
        f"test images{' (smoke run: a subset, tiny widths, few epochs)' if smoke else ''}. "
        f"Mean-image baseline MSE on the test set: **{baseline:.4f}**.",
        "",
        "## Reconstruction and the bottleneck",
        "",
        _table(
            [
                "model",
                "params",
                "code values",
                "bits / image (8-bit code)",
                "ratio vs 6,272",
                "test MSE",
                "MSE / baseline",
                "epochs",
                "seconds",
            ],
            rows,
        ),
        "",
        "The max-unpooling model passes its pooling switches (2 bits each) to the decoder, so they "
        "count at the bottleneck.",
        "",
        f"Sparse autoencoder: {100 * active:.1f}% of its 64 ReLU code units are non-zero per "
        "test image on average.",
        "",
        "![reconstructions](autoencoders_reconstructions.png)",
        "",
        "## Denoising (Gaussian σ = 0.3, MSE to the clean test images)",
        "",
        _table(["images", "MSE"], denoise_rows),
        "",
        "![denoising](autoencoders_denoising.png)",
        "",
        "## In-painting a 10×10 centre hole (MSE inside the hole)",
        "",
        _table(["method", "MSE in the hole"], inpaint_rows),
        "",
        "![in-painting](autoencoders_inpainting.png)",
        "",
        "## Compression: codes quantised uniformly",
        "",
        _table(
            [
                "model",
                "bits per value",
                "bits / image",
                "raw bits",
                "ratio",
                "MSE (float code)",
                "MSE (quantised)",
            ],
            compression_rows,
        ),
        "",
        "## Variational autoencoder",
        "",
        f"Test ELBO before training **{elbo_before:.1f}** nats per image, after "
        f"**{elbo_after:.1f}**.",
        "",
        "![samples](autoencoders_vae_samples.png)",
        "![manifold](autoencoders_vae_manifold.png)",
        "![latent](autoencoders_vae_latent.png)",
        "![interpolation](autoencoders_vae_interpolation.png)",
        "![training](autoencoders_vae_training.png)",
        "![dense codes](autoencoders_dense_latent_pca.png)",
        "",
        "## Features for a downstream task (linear probe, test accuracy)",
        "",
        _table(
            ["features", "dimension", "accuracy"],
            [[r["features"], r["dimension"], f"{r['accuracy']:.4f}"] for r in probe_rows],
        ),
        "",
        f"Took {seconds:.0f} s.",
        "",
    ]
    report_path = os.path.join(out_dir, "report.md")
    with open(report_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(report))
    return {
        "report": report_path,
        "figures": figures,
        "baseline": baseline,
        "reconstruction": {row[0]: float(row[5]) for row in rows},
        "denoising": {row[0]: float(row[1]) for row in denoise_rows},
        "inpainting": {row[0]: float(row[1]) for row in inpaint_rows},
        "elbo_before": elbo_before,
        "elbo_after": elbo_after,
        "probe": probe_rows,
        "sparse_active_fraction": active,
        "seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/autoencoders", help="folder for report.md and PNGs")
    parser.add_argument("--smoke", action="store_true", help="tiny and quick (< 60 s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")
    args = parser.parse_args(argv)
    result = run(out_dir=args.out, smoke=args.smoke, seed=args.seed, verbose=args.verbose)
    print(f"report: {result['report']} ({result['seconds']:.0f} s)")
    for name, path in result["figures"].items():
        print(f"{name + ':':<20}{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
