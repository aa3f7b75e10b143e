"""The variational autoencoder (Kingma & Welling 2014, "Auto-encoding variational Bayes", ICLR).

The encoder gives ``q(z|x) = N(mean, exp(log_var))``, training uses the reparameterisation
``z = mean + exp(log_var / 2) · ε`` (the ``Sampling`` layer) and minimises the negative ELBO
(Bernoulli reconstruction term + KL to ``N(0, I)``); ``sample`` decodes ``z ~ N(0, I)``.

>>> import kerasconv.autoencoders as ae
>>> vae = ae.VAE(latent_dim=2)
>>> [tuple(t.shape) for t in vae.encoder.outputs]
[(None, 2), (None, 2)]
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.autoencoders.base import (
    DEFAULT_SHAPE,
    Autoencoder,
    _check_input_shape,
    _check_int_tuple,
    _finish,
)
from kerasconv.autoencoders.conv import _conv_parts
from kerasconv.autoencoders.dense import _dense_parts
from kerasconv.models.registry import register

__all__ = [
    "VAE",
    "Sampling",
    "VariationalAutoencoder",
    "bernoulli_reconstruction_loss",
    "kl_divergence",
]


@keras.saving.register_keras_serializable(package="kerasconv")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: ``z = mean + exp(log_var / 2) · ε`` with ``ε ~ N(0, I)``.

    Kingma & Welling 2014, Sec. 2.4. Gradients reach ``mean`` and ``log_var`` because the
    randomness is in ``ε`` alone.

    Args:
        seed: seed of the layer's ``keras.random.SeedGenerator`` (``None``: random).

    Example:
        >>> import numpy as np, kerasconv.autoencoders as ae
        >>> z = ae.Sampling(seed=0)([np.zeros((2, 3)), np.full((2, 3), -100.0)])
        >>> float(abs(z).numpy().max()) < 1e-10
        True
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        # The noise in the layer's compute dtype: float16 / bfloat16 beside half-precision means
        # under mixed precision (Keras casts the inputs to it).
        epsilon = keras.random.normal(
            ops.shape(mean), dtype=self.compute_dtype, seed=self.seed_generator
        )
        return mean + ops.exp(0.5 * log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


def kl_divergence(mean, log_var):
    """``KL(N(mean, exp(log_var)) || N(0, I))`` per sample, in float32.

    ``-½ Σ (1 + log_var - mean² - exp(log_var))`` (Kingma & Welling 2014, Appendix B). Half-precision
    inputs (mixed precision) are cast to float32 first: ``exp(log_var)`` overflows float16 at 11.
    """
    mean = ops.cast(mean, "float32")
    log_var = ops.cast(log_var, "float32")
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def bernoulli_reconstruction_loss(x, probabilities):
    """``-log p(x|z)`` per sample for Bernoulli pixels: binary cross-entropy summed over pixels.

    Computed in float32 whatever the inputs' dtypes (in float16, ``1 − 1e-7`` rounds to 1 and the
    clipped logarithm would be ``-inf``).
    """
    x = ops.cast(x, "float32")
    probabilities = ops.cast(probabilities, "float32")
    probabilities = ops.clip(probabilities, 1e-7, 1.0 - 1e-7)
    per_pixel = -(x * ops.log(probabilities) + (1.0 - x) * ops.log(1.0 - probabilities))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="kerasconv")
class VariationalAutoencoder(Autoencoder):
    """A variational autoencoder (Kingma & Welling 2014) with a custom ``train_step``.

    The encoder maps images to ``[mean, log_var]`` of ``q(z|x)``; the decoder maps ``z`` to
    Bernoulli
    pixel probabilities. Training minimises the negative ELBO
    ``E_q[-log p(x|z)] + β · KL(q(z|x) || N(0, I))`` with one reparameterised sample per image; the
    logs report ``loss`` (the negative ELBO for ``β = 1``), ``reconstruction_loss`` and ``kl_loss``
    in nats per image. Calling the model (or ``model.predict``) decodes the *mean* code, so
    reconstructions are deterministic and ``model(x) == decoder(encoder(x)[0])``.

    Args:
        encoder: ``keras.Model`` from images to ``[mean, log_var]``, each ``(batch, latent_dim)``.
        decoder: ``keras.Model`` from ``(batch, latent_dim)`` to probabilities in the input's shape.
        beta: weight of the KL term (1: the ELBO; Higgins et al. 2017's β-VAE otherwise).
        seed: seed of the sampling noise.

    Train with ``model.compile(optimizer)`` and ``model.fit(x)`` (no targets: the inputs are the
    targets) or ``kerasconv.autoencoders.fit``.

    Example:
        >>> import kerasconv.autoencoders as ae
        >>> vae = ae.VAE(latent_dim=2)
        >>> vae.sample(4, seed=0).shape
        (4, 28, 28, 1)
    """

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        if not isinstance(encoder, keras.Model) or len(encoder.outputs) != 2:
            raise ValueError("A VAE's encoder must be a keras.Model with outputs [mean, log_var].")
        if tuple(encoder.outputs[0].shape) != tuple(encoder.outputs[1].shape):
            raise ValueError(
                "The encoder's mean and log_var must have the same shape; got "
                f"{tuple(encoder.outputs[0].shape)} and {tuple(encoder.outputs[1].shape)}."
            )
        super().__init__(encoder, decoder, **kwargs)
        self.beta = check_float("beta", beta, minimum=0.0)
        self.seed = None if seed is None else check_int("seed", seed, minimum=0)
        self.sampling = Sampling(seed=self.seed, name="sampling")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def _decoder_input(self, code):
        mean, _ = code
        return mean

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def negative_elbo_terms(self, x, training=False):
        """Per-image ``(reconstruction, kl)`` in nats, with one reparameterised sample of ``z``."""
        mean, log_var = self.encoder(x, training=training)
        z = self.sampling([mean, log_var])
        probabilities = self.decoder(z, training=training)
        return bernoulli_reconstruction_loss(x, probabilities), kl_divergence(mean, log_var)

    def _negative_elbo(self, data, training):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, "float32")
        reconstruction, kl = self.negative_elbo_terms(x, training=training)
        reconstruction = ops.mean(reconstruction)
        kl = ops.mean(kl)
        total = reconstruction + self.beta * kl
        return total, reconstruction, kl

    def _update(self, total, reconstruction, kl):
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self._negative_elbo(data, training=True)
            objective = total
            for loss in self.losses:
                objective = objective + ops.cast(loss, "float32")
            # Under mixed_float16 ``compile`` wraps the optimizer in a LossScaleOptimizer: scale
            # the loss so that half-precision gradients do not underflow; ``apply_gradients``
            # unscales them (and skips steps with non-finite gradients).
            objective = self.optimizer.scale_loss(objective)
        gradients = tape.gradient(objective, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))
        return self._update(total, reconstruction, kl)

    def test_step(self, data):
        total, reconstruction, kl = self._negative_elbo(data, training=False)
        return self._update(total, reconstruction, kl)

    def sample(self, count, seed=None, batch_size=256):
        """Decode ``count`` codes drawn from the prior ``N(0, I)``; NumPy ``(count, H, W, C)``."""
        count = check_int("count", count, minimum=1)
        z = np.random.default_rng(seed).standard_normal((count, self.latent_dim))
        return self.decoder.predict(z.astype("float32"), batch_size=batch_size, verbose=0)

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, seed=self.seed)
        return config


@register(
    "variational_autoencoder",
    family="autoencoder",
    paper="Kingma & Welling 2014, ICLR (auto-encoding variational Bayes)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    aliases=("vae",),
    endpoints=("encoder", "decoder", "encoder/latent_mean", "encoder/latent_log_var"),
    notes="Bernoulli decoder; custom train_step minimising the negative ELBO; sample().",
)
def VAE(
    input_shape=None,
    latent_dim=2,
    base="dense",
    hidden_units=(256,),
    filters=(16, 32),
    kernel_size=3,
    down="strided",
    activation="relu",
    beta=1.0,
    seed=None,
    weights=None,
    name="variational_autoencoder",
):
    """Build a ``VariationalAutoencoder`` with a dense (MLP) or convolutional encoder/decoder.

    Args:
        input_shape: ``(H, W, C)``, default ``(28, 28, 1)``; pixels in [0, 1] (Bernoulli decoder).
        latent_dim: size of ``z`` (2 gives a latent space that can be drawn as a manifold).
        base: ``"dense"`` (Kingma & Welling's MLP) or ``"conv"``.
        hidden_units: MLP widths (``base="dense"``).
        filters, kernel_size, down: convolutional stages (``base="conv"``; ``up`` is transposed).
        activation: hidden activation.
        beta: weight of the KL term.
        seed: seed of the sampling noise.
        weights: ``None`` or a ``.keras`` / ``.weights.h5`` path.
        name: model name.

    Example:
        >>> import kerasconv.autoencoders as ae
        >>> vae = ae.VAE(latent_dim=2)
        >>> [tuple(t.shape) for t in vae.encoder.outputs]
        [(None, 2), (None, 2)]
    """
    input_shape = _check_input_shape(input_shape)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    check_choice("base", base, ("dense", "conv"))
    if base == "dense":
        hidden_units = _check_int_tuple("hidden_units", hidden_units, allow_empty=True)
        encoder, decoder = _dense_parts(
            input_shape,
            latent_dim,
            hidden_units,
            activation,
            None,
            "sigmoid",
            None,
            0.0,
            0.0,
            variational=True,
        )
    else:
        filters = _check_int_tuple("filters", filters)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        check_choice("down", down, ("pooling", "strided"))
        encoder, decoder = _conv_parts(
            input_shape,
            latent_dim,
            filters,
            kernel_size,
            down,
            "transpose",
            activation,
            None,
            "sigmoid",
            None,
            0.0,
            0.0,
            variational=True,
        )
    return _finish(VariationalAutoencoder, encoder, decoder, name, weights, beta=beta, seed=seed)
