"""A gallery of every ``kerasconv.visualize`` part-1 method, as one self-contained HTML page.

Two subjects, both trained here, offline, in a few epochs:

* a LeNet-5 trained on the real scikit-learn digits (32×32);
* a small convnet trained to tell the seven bundled photographs apart from random crops of them
  (no ImageNet weights are available offline, so the photo maps explain this small network, not
  an ImageNet classifier; they show which regions identify each photograph).

Usage::

    python apps/visualize_gallery.py --out out/visualize_gallery          # about 3–5 minutes on CPU
    python apps/visualize_gallery.py --smoke                              # tiny, under a minute

Writes ``index.html`` (images as relative PNG paths, no external resources), ``report.md`` and
the PNGs into ``--out``.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time

import numpy as np


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/visualize_gallery", help="output folder")
    parser.add_argument("--smoke", action="store_true", help="tiny run (under a minute)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


class _Page:
    def __init__(self, out):
        self.out = out
        self.sections = []

    def add(self, section, name, caption, figure_function, *args, **kwargs):
        path = os.path.join(self.out, name)
        figure_function(*args, path=path, **kwargs)
        self.sections.append((section, name, caption))

    def write(self, title, notes):
        parts = [
            "<!DOCTYPE html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
            "img{max-width:100%;border:1px solid #ddd}figure{margin:1em 0}</style>",
            f"</head><body><h1>{html.escape(title)}</h1>",
        ]
        parts += [f"<p>{html.escape(line)}</p>" for line in notes]
        markdown = [f"# {title}", ""] + [f"- {line}" for line in notes] + [""]
        current = None
        for section, name, caption in self.sections:
            if section != current:
                parts.append(f"<h2>{html.escape(section)}</h2>")
                markdown += [f"## {section}", ""]
                current = section
            parts.append(
                f"<figure><img src='{html.escape(name)}' alt='{html.escape(caption)}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
            markdown += [f"![{caption}]({name})", "", caption, ""]
        parts.append("</body></html>")
        with open(os.path.join(self.out, "index.html"), "w") as handle:
            handle.write("\n".join(parts))
        with open(os.path.join(self.out, "report.md"), "w") as handle:
            handle.write("\n".join(markdown))


def _digits_model(smoke, seed):
    import kerasconv

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    model = kerasconv.models.LeNet5(classes=10, name="lenet5_digits")
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=2 if smoke else 15,
        batch_size=32,
        learning_rate=0.05,
        seed=seed,
        verbose=0,
    )
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    return model, (x_train, y_train, x_test, y_test), accuracy


def _photo_model(smoke, seed, size=64):
    """A small convnet that tells the bundled photographs apart from random crops of them."""
    import keras
    import tensorflow as tf

    import kerasconv

    names = list(kerasconv.data.SAMPLE_NAMES)
    photos = np.stack([kerasconv.data.sample_image(name, size=(96, 96)) for name in names])
    rng = np.random.default_rng(seed)
    count = 40 if smoke else 300
    crops, labels = [], []
    for label in range(len(names)):
        for _ in range(count):
            side = int(rng.integers(48, 97))
            top, left = rng.integers(0, 97 - side, size=2)
            crops.append(photos[label, top : top + side, left : left + side])
            labels.append(label)
    x = np.stack(
        [tf.image.resize(crop, (size, size), antialias=True).numpy() for crop in crops]
    ).clip(0, 1)
    y = np.asarray(labels)
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            layers.Conv2D(16, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(len(names), activation="softmax", name="predictions"),
        ],
        name="photo_net",
    )
    model.compile(
        keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x, y, epochs=2 if smoke else 12, batch_size=32, shuffle=True, verbose=0)
    whole = np.stack([kerasconv.data.sample_image(name, size=(size, size)) for name in names])
    accuracy = float(
        np.mean(np.argmax(model.predict(whole, verbose=0), -1) == np.arange(len(names)))
    )
    return model, names, whole, accuracy


def main(argv=None):
    args = _parse(argv)
    started = time.time()
    os.makedirs(args.out, exist_ok=True)
    from kerasconv import visualize
    from kerasconv.visualize import plot

    page = _Page(args.out)
    smoke = args.smoke
    model, (x_train, y_train, x_test, y_test), digit_accuracy = _digits_model(smoke, args.seed)
    x, y = x_test[:4], y_test[:4]
    section = "LeNet-5 on the digits"
    page.add(
        section,
        "digits_filters_c1.png",
        "First-layer (C1) kernels, one colour scale.",
        plot.filter_grid,
        visualize.filters(model),
        title="C1 kernels",
    )
    page.add(
        section,
        "digits_filters_c3.png",
        "C3 kernels: rows are filters, columns inputs.",
        plot.filter_grid,
        visualize.filters(model, "c3"),
        title="C3 kernels",
        max_filters=8,
    )
    maps = visualize.activations(model, x[:1], ["c1", "c3"])
    page.add(
        section,
        "digits_activations_c1.png",
        "C1 feature maps of the first test digit.",
        plot.feature_map_grid,
        maps["c1"][0],
        title="C1 activations",
    )
    page.add(
        section,
        "digits_activations_c3.png",
        "C3 feature maps of the first test digit.",
        plot.feature_map_grid,
        maps["c3"][0],
        title="C3 activations",
    )
    scan = x_test[: 100 if smoke else 359]
    # Live maps only: a dead map (0 on every image) has no top patches. Take the two maps with the
    # strongest activation over the scanned digits.
    strength = visualize.activations(model, scan, ["c3"])["c3"].max(axis=(0, 1, 2))
    for channel in np.argsort(-strength, kind="stable")[:2].tolist():
        top = visualize.top_patches(model, "c3", scan, channel=channel, k=6)
        page.add(
            section,
            f"digits_top_patches_c3_{channel}.png",
            f"Top-6 test patches for C3 map {channel}: receptive field "
            f"{visualize.receptive_field(model, 'c3').size[0]} px (red boxes).",
            plot.top_patch_grid,
            top,
            title=f"C3 map {channel}",
        )
    samples = 8 if smoke else 50
    steps = 32 if smoke else 256
    attributions = {
        "saliency": visualize.saliency_map(model, x, y),
        "SmoothGrad": visualize.smoothgrad(model, x, y, samples=samples),
        "integrated gradients": visualize.integrated_gradients(model, x, y, steps=steps),
        "gradient × input": visualize.gradient_times_input(model, x, y),
        "guided backprop": visualize.guided_backprop(model, x, y)[..., 0],
        "deconvnet": visualize.deconvnet(model, x, y)[..., 0],
        "Grad-CAM (s4)": visualize.grad_cam(model, x, y),
        "Grad-CAM++ (s4)": visualize.grad_cam_plus_plus(model, x, y),
        "guided Grad-CAM": visualize.guided_grad_cam(model, x, y)[..., 0],
        "occlusion": -visualize.occlusion_sensitivity(
            model, x, y, patch_size=8, stride=2, patch_value=0.0, use_probabilities=False
        ),
    }
    page.add(
        section,
        "digits_attributions.png",
        "Every attribution method for the true class (occlusion: minus the logit, so hot = "
        "important).",
        plot.attribution_grid,
        x,
        attributions,
        row_titles=list(y),
    )
    codes_x, codes_y = x_test[: 120 if smoke else 359], y_test[: 120 if smoke else 359]
    codes = visualize.collect_embeddings(model, codes_x)
    page.add(
        section,
        "digits_embedding_pca.png",
        "F6 codes in 2-D by PCA.",
        plot.embedding_scatter,
        visualize.project(codes, "pca"),
        codes_y,
        title="PCA of F6",
    )
    tsne = visualize.project(codes, "tsne", perplexity=20 if smoke else 30)
    page.add(
        section,
        "digits_embedding_tsne.png",
        "F6 codes in 2-D by t-SNE.",
        plot.embedding_scatter,
        tsne,
        codes_y,
        title="t-SNE of F6",
    )
    page.add(
        section,
        "digits_embedding_thumbnails.png",
        "t-SNE with the digits as thumbnails.",
        plot.embedding_thumbnails,
        tsne[:120],
        codes_x[:120],
        zoom=0.5,
    )
    neighbours = visualize.neighbor_comparison(model, x_test[:5], x_train, k=5)
    page.add(
        section,
        "digits_neighbours.png",
        "Nearest training digits in pixel space (left) and F6 space (right).",
        plot.neighbor_rows,
        x_test[:5],
        x_train,
        neighbours["pixel"],
        neighbours["feature"],
    )
    layers = ["predictions", "f6", "c5"] if smoke else None
    results = [
        visualize.model_randomization_test(model, x, name, y, layers=layers)
        for name in ("gradient", "guided_backprop", "grad_cam")
    ]
    page.add(
        section,
        "digits_randomization.png",
        "Cascading randomisation: Spearman correlation of signed maps with the trained model's.",
        plot.randomization_curves,
        results,
    )
    curves = {
        name: visualize.deletion_insertion(model, x, attributions[name], y, steps=16)
        for name in ("saliency", "integrated gradients", "Grad-CAM (s4)")
    }
    curves["random"] = visualize.deletion_insertion(
        model, x, np.random.default_rng(0).random(x.shape[:3]), y, steps=16
    )
    page.add(
        section,
        "digits_deletion_insertion.png",
        "Deletion (pixels set to black in the map's order) and insertion (pixels put back "
        "into a black image); a random map for comparison.",
        plot.faithfulness_curves,
        curves,
    )

    photo_model, names, photos, photo_accuracy = _photo_model(smoke, args.seed)
    section = "A small convnet on the bundled photographs"
    page.add(
        section,
        "photos_filters_conv1.png",
        "conv1 kernels (RGB) of the photo network.",
        plot.filter_grid,
        visualize.filters(photo_model),
        title="conv1 kernels",
    )
    chosen = photos[:4]
    photo_maps = {
        "saliency": visualize.saliency_map(photo_model, chosen),
        "SmoothGrad": visualize.smoothgrad(photo_model, chosen, samples=samples),
        "guided backprop": visualize.guided_backprop(photo_model, chosen),
        "Grad-CAM": visualize.grad_cam(photo_model, chosen),
        "occlusion": -visualize.occlusion_sensitivity(photo_model, chosen, patch_size=12, stride=4),
    }
    page.add(
        section,
        "photos_attributions.png",
        "Attributions for each photograph's own class (which regions identify it).",
        plot.attribution_grid,
        chosen,
        photo_maps,
        row_titles=names[:4],
    )
    notes = [
        f"LeNet-5 trained here on the digits: {digit_accuracy:.1%} test accuracy"
        f"{' (smoke run: 2 epochs)' if smoke else ''}.",
        f"Photo network: tells the {len(names)} bundled photographs apart from random crops; "
        f"{photo_accuracy:.0%} of the whole photographs recognised. No ImageNet weights are used "
        "(none are available offline); its maps explain this small network only.",
        f"Made in {time.time() - started:.0f} s.",
    ]
    page.write("kerasconv.visualize gallery", notes)
    print(os.path.join(args.out, "index.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
