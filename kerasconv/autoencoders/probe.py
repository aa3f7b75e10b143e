"""Autoencoder codes as features for a downstream task, measured with a linear probe.

The lecture's caveat: "the best autoencoders do not work as well for feature extraction as
supervised methods". ``feature_comparison`` measures it: the package's linear probe
(``kerasconv.transfer.linear_probe``, a softmax head on standardised features, Alain & Bengio
2016's "linear classifier probes") is fitted on the training images' features and scored on the
test images, for

* the raw pixels (the reference a feature has to beat),
* the autoencoder's code ``e(x)`` (learned without labels),
* a supervised model's features on the same images: by default the *supervised twin*, an encoder
  of exactly the autoencoder's architecture and code width trained on the labels through a
  softmax layer (so only the objective differs); or any classifier and layer you pass.

>>> import kerasconv, kerasconv.autoencoders as ae
>>> x, y = kerasconv.data.load_arrays("digits", "train", image_size=28)
>>> xt, yt = kerasconv.data.load_arrays("digits", "test", image_size=28)
>>> model = ae.DenseAutoencoder(latent_dim=16)
>>> ae.fit(model, x, epochs=10)  # doctest: +SKIP
>>> ae.feature_comparison(model, x, y, xt, yt)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from kerasconv._validation import check_image_batch, check_int, check_labels, resolve_jit_compile
from kerasconv.autoencoders.training import _check_autoencoder

__all__ = ["feature_comparison", "latent_features", "supervised_twin"]


def latent_features(model, x, batch_size=256):
    """The autoencoder's code for each image (a VAE's mean), NumPy ``(N, latent_dim)``."""
    from kerasconv.autoencoders.uses import encode

    return encode(model, x, batch_size=batch_size)


def supervised_twin(
    model, x, y, classes=None, epochs=10, batch_size=32, learning_rate=1e-3, seed=0, verbose=0
):
    """An encoder with ``model``'s architecture, fresh weights, trained on labels.

    The twin is ``clone(encoder) → Dense(classes, softmax)``, trained with Adam on the
    cross-entropy; its code layer has the same width as the autoencoder's, so a probe on it
    compares the objectives (reconstruction vs. labels), not the architectures.

    Returns:
        ``(classifier, feature_model)``: the trained classifier and the model from images to its
        code.
    """
    import keras

    _check_autoencoder(model)
    x = np.asarray(check_image_batch("x", x))
    y = check_labels("y", y, len(x)).numpy()
    classes = int(y.max()) + 1 if classes is None else check_int("classes", classes, minimum=2)
    epochs = check_int("epochs", epochs, minimum=1)
    if seed is not None:
        keras.utils.set_random_seed(check_int("seed", seed, minimum=0))
    encoder = keras.models.clone_model(model.encoder)
    code = encoder.outputs[0]
    predictions = keras.layers.Dense(classes, activation="softmax", name="predictions")(code)
    classifier = keras.Model(encoder.inputs, predictions, name=f"{model.name}_supervised_twin")
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=resolve_jit_compile("auto"),
    )
    classifier.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return classifier, keras.Model(encoder.inputs, code, name=f"{model.name}_twin_features")


def _model_features(feature_model, x, batch_size):
    import tensorflow as tf

    size = feature_model.inputs[0].shape[1:3]
    if tuple(x.shape[1:3]) != tuple(size):
        # The same images at the other model's input size (LeNet-5 takes 32×32 digits).
        x = tf.image.resize(x, size).numpy()
    outputs = feature_model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(outputs, dict):
        outputs = next(iter(outputs.values()))
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return np.asarray(outputs).reshape(len(x), -1)


def feature_comparison(
    model,
    x_train,
    y_train,
    x_test,
    y_test,
    supervised=None,
    supervised_layer=None,
    twin_epochs=10,
    batch_size=256,
    seed=0,
    method="softmax",
):
    """Linear-probe accuracy of raw pixels, the autoencoder's code and supervised features.

    Args:
        model: a trained autoencoder.
        x_train, y_train, x_test, y_test: labelled images (the autoencoder never saw the labels).
        supervised: ``None`` (train the supervised twin, ``twin_epochs`` epochs) or a trained
            classifier; its features are the output of ``supervised_layer`` (default: the input of
            its last layer, i.e. the penultimate features). Images are resized to its input size.
        batch_size: images per forward pass.
        seed: seed for the twin's training.
        method: the probe, ``"softmax"`` or ``"svm"`` (see ``kerasconv.transfer.linear_probe``);
            it is trained on the training features and scored on the test features.

    Returns:
        A list of rows ``{"features", "dimension", "accuracy"}``, raw pixels first.
    """
    import keras

    # Imported here: kerasconv.transfer imports kerasconv.models, which imports this package.
    from kerasconv.transfer.probes import linear_probe

    _check_autoencoder(model)
    x_train = np.asarray(check_image_batch("x_train", x_train))
    x_test = np.asarray(check_image_batch("x_test", x_test))
    rows = []

    def add(label, train_features, test_features):
        accuracy = linear_probe(
            train_features,
            y_train,
            method=method,
            test_features=test_features,
            test_labels=y_test,
        ).mean
        rows.append(
            {"features": label, "dimension": int(train_features.shape[1]), "accuracy": accuracy}
        )

    add("raw pixels", x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1))
    add(
        f"autoencoder code ({model.name})",
        latent_features(model, x_train, batch_size),
        latent_features(model, x_test, batch_size),
    )
    if supervised is None:
        _, feature_model = supervised_twin(model, x_train, y_train, epochs=twin_epochs, seed=seed)
        label = "supervised twin code (same encoder, trained on labels)"
    else:
        if not isinstance(supervised, keras.Model):
            raise TypeError(f"supervised must be a keras.Model; got {type(supervised).__name__}.")
        from kerasconv.models.features import feature_extractor

        if supervised_layer is None:
            layer = supervised.layers[-1]
            feature_model = keras.Model(supervised.inputs, layer.input)
            label = f"supervised {supervised.name} (input of {layer.name})"
        else:
            feature_model = feature_extractor(supervised, [supervised_layer])
            label = f"supervised {supervised.name} ({supervised_layer})"
    add(
        label,
        _model_features(feature_model, x_train, batch_size),
        _model_features(feature_model, x_test, batch_size),
    )
    return rows
