"""Training autoencoders: the inputs are the targets.

``fit`` compiles an autoencoder with Adam and fits it on ``(x, x)`` (a ``VariationalAutoencoder``
on ``x`` alone: its ``train_step`` computes the negative ELBO). The loss for plain autoencoders is
the mean squared error, the seed's ``‖x − f(x)‖²`` up to a constant; ``loss="binary_crossentropy"``
is the Bernoulli alternative. Regularisation losses (a sparse autoencoder's L1 activity penalty)
are added by Keras.
"""

from __future__ import annotations

import numpy as np

from kerasconv._validation import (
    check_choice,
    check_float,
    check_image_batch,
    check_int,
    resolve_jit_compile,
)

__all__ = ["fit"]


def _check_autoencoder(model):
    from kerasconv.autoencoders.base import Autoencoder

    if not isinstance(model, Autoencoder):
        raise TypeError(
            "model must be a kerasconv autoencoder (built by kerasconv.autoencoders); "
            f"got {type(model).__name__}."
        )
    return model


def _check_images(name, x, model):
    x = check_image_batch(name, x)
    expected = tuple(model.inputs[0].shape[1:])
    if tuple(x.shape[1:]) != expected:
        raise ValueError(f"{name} must be images of shape {expected}; got {tuple(x.shape[1:])}.")
    return np.asarray(x)


def fit(
    model,
    x,
    validation_data=None,
    epochs=10,
    batch_size=32,
    learning_rate=1e-3,
    loss="mse",
    seed=0,
    jit_compile="auto",
    verbose=0,
    callbacks=None,
):
    """Train ``model`` to reproduce ``x`` (Adam); returns the ``keras.callbacks.History``.

    Args:
        model: an autoencoder from ``kerasconv.autoencoders``.
        x: training images ``(N, H, W, C)`` in [0, 1].
        validation_data: optional validation images (the targets are the images themselves).
        epochs, batch_size, learning_rate: the usual.
        loss: ``"mse"`` or ``"binary_crossentropy"`` (ignored by a VAE, which minimises its ELBO).
        seed: seeds Keras' and NumPy's random generators (shuffling, initial noise).
        jit_compile: ``"auto"`` (XLA on a GPU only), ``True`` or ``False``.
        verbose: Keras' verbosity.

    Example:
        >>> import kerasconv
        >>> x, _ = kerasconv.data.load_arrays("digits", "train", image_size=28)
        >>> model = kerasconv.autoencoders.DenseAutoencoder(latent_dim=16)
        >>> history = kerasconv.autoencoders.fit(model, x, epochs=2)  # doctest: +SKIP
    """
    import keras

    from kerasconv.autoencoders.variational import VariationalAutoencoder

    model = _check_autoencoder(model)
    x = _check_images("x", x, model)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0, strict_minimum=True)
    check_choice("loss", loss, ("mse", "binary_crossentropy"))
    if seed is not None:
        keras.utils.set_random_seed(check_int("seed", seed, minimum=0))
    validation = None
    if validation_data is not None:
        validation = _check_images("validation_data", validation_data, model)
    optimizer = keras.optimizers.Adam(learning_rate)
    jit = resolve_jit_compile(jit_compile)
    if isinstance(model, VariationalAutoencoder):
        model.compile(optimizer=optimizer, jit_compile=jit)
        return model.fit(
            x,
            validation_data=(validation,) if validation is not None else None,
            epochs=epochs,
            batch_size=batch_size,
            verbose=verbose,
            callbacks=callbacks,
        )
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit)
    return model.fit(
        x,
        x,
        validation_data=(validation, validation) if validation is not None else None,
        epochs=epochs,
        batch_size=batch_size,
        verbose=verbose,
        callbacks=callbacks,
    )
