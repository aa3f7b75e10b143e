"""``SparseAutoencoder``: an L1 activity penalty on a ReLU code (Ranzato et al. 2007; Ng's
CS294A sparse autoencoder notes).
"""

from __future__ import annotations

from kerasconv._validation import check_choice, check_float
from kerasconv.autoencoders.base import DEFAULT_SHAPE
from kerasconv.autoencoders.conv import ConvAutoencoder
from kerasconv.autoencoders.dense import DenseAutoencoder
from kerasconv.models.registry import register

__all__ = ["SparseAutoencoder"]


@register(
    "sparse_autoencoder",
    family="autoencoder",
    paper="Ranzato et al. 2007, NIPS; Ng 2011, CS294A notes (sparse autoencoders)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Dense; ReLU code with an L1 activity regulariser.",
)
def SparseAutoencoder(
    input_shape=None,
    latent_dim=64,
    sparsity=1e-3,
    base="dense",
    latent_activation="relu",
    name="sparse_autoencoder",
    **kwargs,
):
    """An autoencoder whose code is pushed to be sparse by an L1 penalty on its activations.

    The penalty ``sparsity · Σ|z|`` (a Keras ``activity_regularizer`` on the ``latent`` layer) is
    added to the training loss; with a ReLU code most units are exactly zero for a given image.

    Args:
        input_shape, latent_dim: as for the base builder.
        sparsity: weight of the L1 activity penalty (> 0).
        base: ``"dense"`` or ``"conv"``.
        latent_activation: activation of the code (``"relu"`` gives exact zeros).
        name: model name.
        **kwargs: passed to the base builder.

    Example:
        >>> import kerasconv.autoencoders as ae
        >>> model = ae.SparseAutoencoder(latent_dim=32, sparsity=1e-3)
        >>> round(float(model.encoder.get_layer("latent").activity_regularizer.l1), 6)
        0.001
    """
    check_choice("base", base, ("conv", "dense"))
    sparsity = check_float("sparsity", sparsity, minimum=0.0, strict_minimum=True)
    builder = ConvAutoencoder if base == "conv" else DenseAutoencoder
    return builder(
        input_shape=input_shape,
        latent_dim=latent_dim,
        sparsity=sparsity,
        latent_activation=latent_activation,
        name=name,
        **kwargs,
    )
