"""kerasconv.autoencoders: "make the inputs the targets".

Builders (registered in ``kerasconv.models`` under family ``"autoencoder"``) return models with
explicit ``encoder`` and ``decoder`` sub-models and a bottleneck strictly smaller than the input:
``DenseAutoencoder``, ``ConvAutoencoder`` (pooling or strided down; transposed convolutions or
``MaxUnpooling2D`` up), ``DenoisingAutoencoder``, ``SparseAutoencoder`` and the
``VariationalAutoencoder`` (built by ``VAE``). ``fit`` trains them on ``(x, x)``.

Uses: ``encode``, ``decode``, ``reconstruct``, ``denoise``, ``inpaint``, ``compress`` /
``decompress`` (bits per image at the bottleneck), ``sample``, ``interpolate``, ``latent_grid``;
features for downstream tasks: ``feature_comparison`` (``kerasconv.transfer.linear_probe``). See ``docs/autoencoders.md``.

>>> import kerasconv
>>> x, _ = kerasconv.data.load_arrays("digits", "train", image_size=28)
>>> model = kerasconv.autoencoders.ConvAutoencoder(latent_dim=16)
>>> kerasconv.autoencoders.fit(model, x, epochs=10)  # doctest: +SKIP
>>> kerasconv.autoencoders.reconstruct(model, x[:4]).shape
(4, 28, 28, 1)
"""

from kerasconv.autoencoders.base import Autoencoder, code_bits
from kerasconv.autoencoders.conv import ConvAutoencoder
from kerasconv.autoencoders.denoising import DenoisingAutoencoder
from kerasconv.autoencoders.dense import DenseAutoencoder
from kerasconv.autoencoders.probe import (
    feature_comparison,
    latent_features,
    supervised_twin,
)
from kerasconv.autoencoders.sparse import SparseAutoencoder
from kerasconv.autoencoders.training import fit
from kerasconv.autoencoders.uses import (
    CompressedImages,
    add_noise,
    compress,
    decode,
    decompress,
    denoise,
    elbo,
    encode,
    inpaint,
    interpolate,
    latent_grid,
    latent_projection,
    make_mask,
    mean_image_error,
    reconstruct,
    reconstruction_error,
    sample,
)
from kerasconv.autoencoders.variational import (
    VAE,
    Sampling,
    VariationalAutoencoder,
    bernoulli_reconstruction_loss,
    kl_divergence,
)

__all__ = [
    "Autoencoder",
    "CompressedImages",
    "ConvAutoencoder",
    "DenoisingAutoencoder",
    "DenseAutoencoder",
    "Sampling",
    "SparseAutoencoder",
    "VAE",
    "VariationalAutoencoder",
    "add_noise",
    "bernoulli_reconstruction_loss",
    "code_bits",
    "compress",
    "decode",
    "decompress",
    "denoise",
    "elbo",
    "encode",
    "feature_comparison",
    "fit",
    "inpaint",
    "interpolate",
    "kl_divergence",
    "latent_features",
    "latent_grid",
    "latent_projection",
    "make_mask",
    "mean_image_error",
    "reconstruct",
    "reconstruction_error",
    "sample",
    "supervised_twin",
]
