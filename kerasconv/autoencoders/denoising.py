"""``DenoisingAutoencoder``: a corruption at the encoder input, active only while training
(Vincent et al. 2008, "Extracting and composing robust features with denoising autoencoders", ICML).
"""

from __future__ import annotations

from kerasconv._validation import check_choice
from kerasconv.autoencoders.base import DEFAULT_SHAPE
from kerasconv.autoencoders.conv import ConvAutoencoder
from kerasconv.autoencoders.dense import DenseAutoencoder
from kerasconv.models.registry import register

__all__ = ["DenoisingAutoencoder"]


@register(
    "denoising_autoencoder",
    family="autoencoder",
    paper="Vincent et al. 2008, ICML (denoising autoencoders)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/corruption", "encoder/latent"),
    notes="Convolutional; Gaussian (or dropout) corruption active only while training.",
)
def DenoisingAutoencoder(
    input_shape=None,
    latent_dim=32,
    noise="gaussian",
    noise_amount=0.3,
    base="conv",
    name="denoising_autoencoder",
    **kwargs,
):
    """An autoencoder trained to undo a corruption of its input (Vincent et al. 2008).

    The first layer of the encoder, ``corruption``, adds Gaussian noise of standard deviation
    ``noise_amount`` (``noise="gaussian"``) or zeroes a fraction ``noise_amount`` of the pixels
    (``noise="dropout"``, Vincent et al.'s masking noise) **only while training**; at inference it
    is
    the identity, so the model maps a noisy image to its estimate of the clean one.

    Args:
        input_shape, latent_dim: as for the base builder.
        noise: ``"gaussian"`` or ``"dropout"``.
        noise_amount: standard deviation or dropout rate.
        base: ``"conv"`` (``ConvAutoencoder``) or ``"dense"`` (``DenseAutoencoder``).
        name: model name.
        **kwargs: passed to the base builder (``filters``, ``hidden_units``, ...).

    Example:
        >>> import numpy as np, kerasconv.autoencoders as ae
        >>> model = ae.DenoisingAutoencoder(noise_amount=0.5)
        >>> x = np.full((1, 28, 28, 1), 0.5, "float32")
        >>> bool(np.allclose(model(x, training=False), model(x, training=False)))
        True
    """
    check_choice("base", base, ("conv", "dense"))
    if noise is None:
        raise ValueError("A denoising autoencoder needs noise='gaussian' or noise='dropout'.")
    builder = ConvAutoencoder if base == "conv" else DenseAutoencoder
    return builder(
        input_shape=input_shape,
        latent_dim=latent_dim,
        noise=noise,
        noise_amount=noise_amount,
        name=name,
        **kwargs,
    )
