"""Regenerate the figures of docs/synthesis.md (python docs/figures/synthesis_figures.py).

Everything is trained here on the bundled real data: a LeNet-5 on the digits, and a small
VGG-style colour net (configuration A at 1/8 width) trained to tell which of the seven bundled
photographs a 64×64 crop comes from, which gives it colour and texture features for DeepDream and
style transfer. A few minutes on a CPU.
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def photo_crops(size=64, count=1400, seed=0):
    import kerasconv

    photos = kerasconv.data.sample_images(size=192)
    names = sorted(photos)
    rng = np.random.default_rng(seed)
    x = np.empty((count, size, size, 3), "float32")
    y = rng.integers(0, len(names), count)
    for i, label in enumerate(y):
        top, left = rng.integers(0, 192 - size, 2)
        crop = photos[names[label]][top : top + size, left : left + size]
        x[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return x, y.astype("int32")


DIGIT_FIGURES = ("evolution", "maximization", "inversion", "interpolation")


def main(parts=("digits", "photos")):
    """``parts``: "digits", "photos", or single digit figures by name (e.g. "maximization")."""
    chosen = [part for part in parts if part in DIGIT_FIGURES]
    if "digits" in parts or chosen:
        digit_figures(chosen or DIGIT_FIGURES)
    if "photos" in parts:
        photo_figures()


def digit_figures(which=DIGIT_FIGURES):
    import kerasconv

    x_train, y_train = kerasconv.data.load_arrays("digits", "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    initial = kerasconv.models.LeNet5(name="lenet_a")
    start = kerasconv.visualize.model_state(initial)
    lenet = initial
    evolution = kerasconv.visualize.FeatureEvolution("c1", epochs=(0, 1, 2, 5, 15), mode="filters")
    kerasconv.training.train(
        lenet,
        (x_train, y_train),
        epochs=15,
        batch_size=32,
        learning_rate=0.05,
        seed=0,
        verbose=0,
        callbacks=[evolution],
    )
    if "evolution" in which:
        evolution.plot(os.path.join(HERE, "synthesis_evolution.png"))
    if "maximization" in which:
        maximization_figure(lenet)
    if "inversion" in which:
        inversion_figure(lenet, x_test)
    if "interpolation" in which:
        other = kerasconv.models.LeNet5(name="lenet_b")
        kerasconv.training.train(
            other,
            (x_train, y_train),
            epochs=15,
            batch_size=32,
            learning_rate=0.05,
            seed=1,
            verbose=0,
        )
        interpolation_figure(lenet, other, start, x_test, y_test)


def maximization_figure(lenet):
    import kerasconv
    from kerasconv.visualize import plot

    # Activation maximisation: plain gradient ascent vs Yosinski's regularisers.
    plain = kerasconv.visualize.activation_maximization(
        lenet, range(10), steps=200, value_range=(0, 1)
    )
    regularised = kerasconv.visualize.activation_maximization(
        lenet,
        range(10),
        steps=200,
        value_range=(0, 1),
        l2_decay=0.01,
        blur_every=4,
        blur_sigma=0.6,
        norm_clip_percentile=30,
        jitter=1,
    )
    plot.image_grid(
        np.concatenate([plain.images, regularised.images]),
        # Titles on the top row only: a title above the second row would overlap the first.
        titles=[f"class {c}" for c in range(10)] + [""] * 10,
        columns=10,
        normalize=None,
        cell_size=1.5,
        title="Class visualisations of LeNet-5. Top row: plain ascent; bottom row: with L2 decay, "
        "blur, norm clipping and jitter",
        path=os.path.join(HERE, "synthesis_maximization.png"),
    )


def inversion_figure(lenet, x_test):
    import kerasconv
    from kerasconv.visualize import plot

    # Inversion from several layers.
    layers = ["c1", "s2", "c3", "c5", "f6", "predictions"]
    images = x_test[:4]
    results = kerasconv.visualize.invert_from_layers(lenet, images, layers, steps=300)
    grid = [images] + [results[name].images for name in layers]
    titles = ["original"] * 4
    for name in layers:
        # Each panel's own error: the mean squared pixel error of that reconstruction.
        errors = kerasconv.visualize.reconstruction_error(results[name].images, images)
        titles += [f"{name}: mse {error:.3f}" for error in errors]
    plot.image_grid(
        np.concatenate(grid),
        titles=titles,
        columns=4,
        normalize=None,
        title="Reconstructions from LeNet-5 layers (Mahendran & Vedaldi)",
        path=os.path.join(HERE, "synthesis_inversion.png"),
    )


def interpolation_figure(lenet, other, start, x_test, y_test):
    import kerasconv
    from kerasconv.visualize import plot

    # Loss along straight lines (Goodfellow et al.).
    line = np.linspace(-0.25, 1.25, 31)
    curves = {
        "initial -> trained": kerasconv.visualize.interpolate_loss(
            lenet, start, lenet, (x_test, y_test), alphas=line
        ),
        "solution A -> solution B": kerasconv.visualize.interpolate_loss(
            lenet, lenet, other, (x_test, y_test), alphas=line
        ),
    }
    plot.interpolation_curves(curves, path=os.path.join(HERE, "synthesis_interpolation.png"))


def photo_figures():
    import keras

    import kerasconv
    from kerasconv.models.vgg import VGG
    from kerasconv.visualize import plot

    # A small colour VGG-style net trained on crops of the bundled photographs.
    keras.utils.set_random_seed(0)
    crops, labels = photo_crops()
    vgg = VGG(
        config="A",
        width_multiplier=0.125,
        input_shape=(None, None, 3),
        include_top=False,
        pooling="avg",
        name="photo_vgg",
    )
    head = keras.layers.Dense(7, activation="softmax", name="predictions")(vgg.output)
    classifier = keras.Model(vgg.input, head)
    classifier.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = classifier.fit(crops, labels, epochs=6, batch_size=32, verbose=0)
    print("photo-crop accuracy", history.history["accuracy"][-1])

    photos = kerasconv.data.sample_images(size=128)
    dream = kerasconv.visualize.deep_dream(
        vgg,
        photos["chelsea"],
        ["block3_conv2", "block4_conv2"],
        steps_per_octave=25,
        step_size=0.01,
        octaves=3,
        tile_size=64,
    )
    plot.image_grid(
        np.stack([photos["chelsea"], dream.images[0]]),
        titles=["original", "DeepDream"],
        columns=2,
        normalize=None,
        cell_size=3.2,
        title="DeepDream on block3_conv2 + block4_conv2 (3 octaves, tiles of 64)",
        path=os.path.join(HERE, "synthesis_deepdream.png"),
    )

    style_layers = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1"]
    content, style = photos["chelsea"], photos["coffee"]
    adam = kerasconv.visualize.style_transfer(
        vgg,
        content,
        style,
        "block4_conv2",
        style_layers,
        content_weight=10.0,
        style_weight=1e3,
        tv_weight=1e-4,
        steps=300,
        learning_rate=0.02,
    )
    lbfgs = kerasconv.visualize.style_transfer(
        vgg,
        content,
        style,
        "block4_conv2",
        style_layers,
        content_weight=10.0,
        style_weight=1e3,
        tv_weight=1e-4,
        steps=100,
        optimizer="lbfgs",
    )
    plot.image_grid(
        np.stack([content, style, adam.images[0], lbfgs.images[0]]),
        titles=["content", "style", "Adam, 300 steps", "L-BFGS, 100 iterations"],
        columns=4,
        normalize=None,
        cell_size=2.8,
        title="Neural style transfer (Gatys et al.) with a small VGG trained on photo crops",
        path=os.path.join(HERE, "synthesis_style.png"),
    )
    plot.optimization_curves(
        {k: adam.history[k] for k in ("loss", "content_loss", "style_loss")},
        path=os.path.join(HERE, "synthesis_style_curves.png"),
        title="Style transfer (Adam)",
        log=True,
    )

    net = kerasconv.visualize.TransformNet(filters=8, residual_blocks=2)
    kerasconv.visualize.train_fast_style(
        net,
        vgg,
        style,
        crops[:600],
        "block4_conv2",
        style_layers,
        content_weight=10.0,
        style_weight=1e3,
        tv_weight=1e-4,
        steps=300,
        batch_size=4,
        learning_rate=2e-3,
    )
    styled = net(np.stack([photos[name] for name in ("chelsea", "astronaut", "rocket")])).numpy()
    plot.image_grid(
        np.concatenate([np.stack([photos[n] for n in ("chelsea", "astronaut", "rocket")]), styled]),
        titles=["input"] * 3 + ["one forward pass"] * 3,
        columns=3,
        normalize=None,
        cell_size=2.4,
        title="Fast style transfer (Johnson et al.), 300 training steps: the network has learnt "
        "the style's colours, not yet to keep the content",
        path=os.path.join(HERE, "synthesis_fast_style.png"),
    )


if __name__ == "__main__":
    import sys

    main(tuple(sys.argv[1:]) or ("digits", "photos"))
