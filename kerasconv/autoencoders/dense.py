"""``DenseAutoencoder``: an MLP encoder and decoder around a dense code (Hinton & Salakhutdinov
2006).

>>> import kerasconv.autoencoders as ae
>>> ae.DenseAutoencoder(latent_dim=16).encoder.output.shape
(None, 16)
"""

from __future__ import annotations

import math

import keras

from kerasconv._validation import check_int
from kerasconv.autoencoders.base import (
    DEFAULT_SHAPE,
    PAPER_AE,
    Autoencoder,
    _check_input_shape,
    _check_int_tuple,
    _code_layers,
    _corruption,
    _finish,
)
from kerasconv.models.registry import register

__all__ = ["DenseAutoencoder"]


def _dense_parts(
    input_shape,
    latent_dim,
    hidden_units,
    activation,
    latent_activation,
    output_activation,
    noise,
    noise_amount,
    sparsity,
    variational,
):
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    corruption = _corruption(noise, noise_amount)
    if corruption is not None:
        x = corruption(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"encoder_dense{index}")(x)
    code = _code_layers(x, latent_dim, latent_activation, sparsity, variational)
    encoder = keras.Model(inputs, code, name="encoder")

    latent = keras.Input((latent_dim,), name="code")
    y = latent
    for index, units in enumerate(reversed(hidden_units), start=1):
        y = keras.layers.Dense(units, activation=activation, name=f"decoder_dense{index}")(y)
    y = keras.layers.Dense(
        math.prod(input_shape),
        activation=output_activation,
        name="reconstruction_dense",
        # float32 even under mixed precision: the loss needs the range near 0 and 1.
        dtype="float32",
    )(y)
    y = keras.layers.Reshape(input_shape, name="reconstruction", dtype="float32")(y)
    decoder = keras.Model(latent, y, name="decoder")
    return encoder, decoder


@register(
    "dense_autoencoder",
    family="autoencoder",
    paper=PAPER_AE,
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="MLP encoder/decoder; bottleneck latent_dim (default 32) < 784.",
)
def DenseAutoencoder(
    input_shape=None,
    latent_dim=32,
    hidden_units=(128,),
    activation="relu",
    latent_activation=None,
    output_activation="sigmoid",
    noise=None,
    noise_amount=0.0,
    sparsity=0.0,
    weights=None,
    name="dense_autoencoder",
):
    """A fully connected autoencoder: ``Flatten → Dense… → latent → Dense… → Reshape``.

    Args:
        input_shape: ``(H, W, C)``; default ``(28, 28, 1)``.
        latent_dim: size of the code; ``latent_dim < H·W·C`` is required.
        hidden_units: widths of the encoder's hidden layers (the decoder mirrors them).
        activation: hidden activation.
        latent_activation: activation of the code (``None``: linear).
        output_activation: ``"sigmoid"`` for images in [0, 1].
        noise, noise_amount: a training-only corruption at the input (see ``DenoisingAutoencoder``).
        sparsity: L1 activity-regularisation weight on the code (see ``SparseAutoencoder``).
        weights: ``None`` or a ``.keras`` / ``.weights.h5`` path.
        name: model name.

    Example:
        >>> import kerasconv.autoencoders as ae
        >>> ae.DenseAutoencoder(latent_dim=16).count_params()
        205856
    """
    input_shape = _check_input_shape(input_shape)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    hidden_units = _check_int_tuple("hidden_units", hidden_units, allow_empty=True)
    encoder, decoder = _dense_parts(
        input_shape,
        latent_dim,
        hidden_units,
        activation,
        latent_activation,
        output_activation,
        noise,
        noise_amount,
        sparsity,
        variational=False,
    )
    return _finish(Autoencoder, encoder, decoder, name, weights)
