"""Autoencoder builders: dense, convolutional, denoising, sparse and variational.

"Make the inputs the targets": an autoencoder ``f = d ∘ e`` is trained to reproduce its input
through a *bottleneck*, an encoder ``e: R^d -> R^k`` and a decoder ``d: R^k -> R^d`` with ``k < d``
(lecture 10 of CS-GY 6923, after Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data
with neural networks", Science 313).

Every builder returns a functional ``keras.Model`` subclass with explicit ``encoder`` and
``decoder`` sub-models, ``model(x) == model.decoder(model.encoder(x))``, and a bottleneck checked to
be strictly smaller than the input (``ValueError`` otherwise). Capacity is counted in bits: code
values at 32 bits (float32) against input values at 32 bits; the max-unpooling variant also passes
its pooling *switches* to the decoder, each worth ``log2(pool area)`` bits, and they count too.

* ``DenseAutoencoder`` — an MLP encoder and decoder.
* ``ConvAutoencoder`` — convolutions down by max pooling (``down="pooling"``) or strided
  convolutions (``down="strided"``), up by transposed convolutions (``up="transpose"``) or by
  ``MaxUnpooling2D`` with the encoder's switches (``up="unpool"``, as in Zeiler & Fergus 2014's
  deconvnet and SegNet, Badrinarayanan et al. 2017).
* ``DenoisingAutoencoder`` — a corruption layer (Gaussian or dropout "masking" noise) at the encoder
  input that is active only while training (Vincent et al. 2008, "Extracting and composing robust
  features with denoising autoencoders", ICML).
* ``SparseAutoencoder`` — an L1 activity regulariser on a ReLU code (Ranzato et al. 2007; Ng's
  sparse autoencoder notes).
* ``VariationalAutoencoder`` / ``VAE`` — Kingma & Welling 2014, "Auto-encoding variational Bayes"
  (ICLR): the encoder gives ``q(z|x) = N(mean, exp(log_var))``, training uses the
  reparameterisation ``z = mean + exp(log_var / 2) · ε`` and minimises the negative ELBO
  (Bernoulli reconstruction term + KL to ``N(0, I)``); ``sample`` decodes ``z ~ N(0, I)``.

>>> import kerasconv.autoencoders as ae
>>> model = ae.ConvAutoencoder(input_shape=(28, 28, 1), filters=(8, 16), latent_dim=16)
>>> model.encoder.output.shape, model.decoder.output.shape
((None, 16), (None, 28, 28, 1))
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.layers.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D
from kerasconv.models.common import load_weights
from kerasconv.models.registry import register

FLOAT_BITS = 32
DEFAULT_SHAPE = (28, 28, 1)

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "DenoisingAutoencoder",
    "DenseAutoencoder",
    "Sampling",
    "SparseAutoencoder",
    "VAE",
    "VariationalAutoencoder",
    "code_bits",
]


# --------------------------------------------------------------------------------------------
# argument checks


def _check_input_shape(input_shape):
    if input_shape is None:
        return DEFAULT_SHAPE
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}.")
    return tuple(
        check_int("input_shape entries", int(d) if isinstance(d, np.integer) else d, minimum=1)
        for d in input_shape
    )


def _check_int_tuple(name, values, minimum=1, allow_empty=False):
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = (int(values),)
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of integers; got {type(values).__name__}.")
    if not values and not allow_empty:
        raise ValueError(f"{name} must hold at least one integer; got {values!r}.")
    return tuple(check_int(f"{name} entries", v, minimum=minimum) for v in values)


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}.")
    return name


# --------------------------------------------------------------------------------------------
# the bottleneck


def _switch_layers(encoder):
    return [layer for layer in encoder.layers if isinstance(layer, MaxPoolingWithArgmax2D)]


def _switch_bits(encoder):
    total = 0
    for layer in _switch_layers(encoder):
        pooled = layer.output[1].shape
        area = layer.pool_size[0] * layer.pool_size[1]
        total += math.prod(int(d) for d in pooled[1:]) * math.ceil(math.log2(area))
    return total


def code_bits(model, bits_per_value=FLOAT_BITS):
    """Bits one image occupies at the bottleneck of an autoencoder.

    ``bits_per_value`` bits for each latent value (32 for float32 codes, 8 after 8-bit
    quantisation) plus, for max-unpooling decoders, ``log2(pool area)`` bits per switch: the
    decoder receives the switches too, so they are part of what passes the bottleneck.
    """
    encoder = model.encoder if hasattr(model, "encoder") else model
    return _latent_size(encoder) * bits_per_value + _switch_bits(encoder)


def _latent_size(encoder):
    # The code is the encoder's first output (a VAE's mean; the rest are log_var or switches).
    first = encoder.outputs[0].shape
    if any(d is None for d in first[1:]):
        raise ValueError(f"The encoder's code has an unknown size {tuple(first)}.")
    return math.prod(int(d) for d in first[1:])


def _check_bottleneck(encoder, input_shape):
    input_values = math.prod(input_shape)
    latent = _latent_size(encoder)
    switch_bits = _switch_bits(encoder)
    bits = latent * FLOAT_BITS + switch_bits
    if bits >= input_values * FLOAT_BITS:
        detail = f"{latent} code values ({latent * FLOAT_BITS} bits)"
        if switch_bits:
            detail += f" plus {switch_bits} bits of max-pooling switches"
        raise ValueError(
            f"The bottleneck must be strictly smaller than the input: {detail} is not less than "
            f"the input's {input_values} values ({input_values * FLOAT_BITS} bits) for input "
            f"shape {tuple(input_shape)}. Use a smaller latent_dim (or, for up='unpool', "
            "fewer filters)."
        )


# --------------------------------------------------------------------------------------------
# the model classes


@keras.saving.register_keras_serializable(package="kerasconv")
class Autoencoder(keras.Model):
    """An autoencoder ``decoder(encoder(x))`` as a functional model with explicit sub-models.

    Args:
        encoder: ``keras.Model`` from images to the code (a tensor, or for max-unpooling decoders
            a list ``[code, switches...]``).
        decoder: ``keras.Model`` from the encoder's outputs back to images of the input's shape.
        name: model name.

    The bottleneck is checked (``code_bits(self) < input values × 32``); the layer names inside
    ``encoder`` and ``decoder`` are stable, and the model is a ``Functional`` model, so
    ``kerasconv.models.feature_extractor(model, "encoder/latent")`` works.

    Example:
        >>> import keras, kerasconv.autoencoders as ae
        >>> model = ae.DenseAutoencoder(latent_dim=8)
        >>> isinstance(model.encoder, keras.Model), model.encoder.output.shape
        (True, (None, 8))
    """

    def __init__(self, encoder, decoder, **kwargs):
        for label, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, keras.Model):
                raise TypeError(f"{label} must be a keras.Model; got {type(part).__name__}.")
        if len(encoder.inputs) != 1:
            raise ValueError("The encoder must take exactly one input (the image batch).")
        input_shape = tuple(encoder.inputs[0].shape[1:])
        if any(d is None for d in input_shape):
            raise ValueError(f"The encoder needs a fixed input shape; got {input_shape}.")
        _check_bottleneck(encoder, input_shape)
        inputs = keras.Input(input_shape, name="image")
        outputs = decoder(self._decoder_input(encoder(inputs)))
        if tuple(outputs.shape[1:]) != input_shape:
            raise ValueError(
                f"The decoder must give back the input's shape {input_shape}; "
                f"it gives {tuple(outputs.shape[1:])}."
            )
        super().__init__(inputs, outputs, **kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def _decoder_input(self, code):
        return code

    @property
    def code_bits(self):
        """Bits per image at the bottleneck with float32 code values (see ``code_bits``)."""
        return code_bits(self)

    @property
    def latent_dim(self):
        """Number of values in the code (switches of max-unpooling models not included)."""
        return _latent_size(self.encoder)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)


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
        epsilon = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


def kl_divergence(mean, log_var):
    """``KL(N(mean, exp(log_var)) || N(0, I))`` per sample.

    ``-½ Σ (1 + log_var - mean² - exp(log_var))`` (Kingma & Welling 2014, Appendix B).
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def bernoulli_reconstruction_loss(x, probabilities):
    """``-log p(x|z)`` per sample for Bernoulli pixels: binary cross-entropy summed over pixels."""
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
            regularization = ops.sum(self.losses) if self.losses else 0.0
            objective = total + regularization
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


# --------------------------------------------------------------------------------------------
# building blocks


def _corruption(noise, noise_amount):
    check_choice("noise", noise, (None, "gaussian", "dropout"))
    if noise is None:
        return None
    if noise == "gaussian":
        amount = check_float("noise_amount", noise_amount, minimum=0.0, strict_minimum=True)
        return keras.layers.GaussianNoise(amount, name="corruption")
    amount = check_float("noise_amount", noise_amount, minimum=0.0, strict_minimum=True)
    if amount >= 1.0:
        raise ValueError(f"noise_amount is a dropout rate for noise='dropout'; got {amount}.")
    return keras.layers.Dropout(amount, name="corruption")


def _latent_regularizer(sparsity):
    sparsity = check_float("sparsity", sparsity, minimum=0.0)
    return keras.regularizers.L1(sparsity) if sparsity > 0 else None


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
        math.prod(input_shape), activation=output_activation, name="reconstruction_dense"
    )(y)
    y = keras.layers.Reshape(input_shape, name="reconstruction")(y)
    decoder = keras.Model(latent, y, name="decoder")
    return encoder, decoder


def _code_layers(x, latent_dim, latent_activation, sparsity, variational):
    if variational:
        mean = keras.layers.Dense(latent_dim, name="latent_mean")(x)
        log_var = keras.layers.Dense(latent_dim, name="latent_log_var")(x)
        return [mean, log_var]
    return keras.layers.Dense(
        latent_dim,
        activation=latent_activation,
        activity_regularizer=_latent_regularizer(sparsity),
        name="latent",
    )(x)


def _conv_parts(
    input_shape,
    latent_dim,
    filters,
    kernel_size,
    down,
    up,
    activation,
    latent_activation,
    output_activation,
    noise,
    noise_amount,
    sparsity,
    variational,
):
    height, width, channels = input_shape
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(
            f"With {len(filters)} down-sampling stages the input height and width must be "
            f"multiples of {factor}; got input_shape {tuple(input_shape)}."
        )
    if up == "unpool" and down != "pooling":
        raise ValueError("up='unpool' needs the switches of max pooling: use down='pooling'.")
    conv = dict(kernel_size=kernel_size, padding="same", activation=activation)

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    corruption = _corruption(noise, noise_amount)
    if corruption is not None:
        x = corruption(x)
    switches = []
    for stage, width_ in enumerate(filters, start=1):
        if down == "strided":
            x = keras.layers.Conv2D(width_, strides=2, name=f"encoder_conv{stage}", **conv)(x)
        else:
            x = keras.layers.Conv2D(width_, name=f"encoder_conv{stage}", **conv)(x)
            if up == "unpool":
                x, argmax = MaxPoolingWithArgmax2D(2, name=f"encoder_pool{stage}")(x)
                switches.append(argmax)
            else:
                x = keras.layers.MaxPooling2D(2, name=f"encoder_pool{stage}")(x)
    feature_shape = tuple(int(d) for d in x.shape[1:])
    x = keras.layers.Flatten(name="flatten")(x)
    code = _code_layers(x, latent_dim, latent_activation, sparsity, variational)
    # The decoder unpools the deepest stage first.
    switches = switches[::-1]
    encoder_outputs = [code, *switches] if switches else code
    encoder = keras.Model(inputs, encoder_outputs, name="encoder")

    latent = keras.Input((latent_dim,), name="code")
    switch_inputs = [
        keras.Input(tuple(s.shape[1:]), dtype="int64", name=f"switches{len(filters) - i}")
        for i, s in enumerate(switches)
    ]
    y = keras.layers.Dense(math.prod(feature_shape), activation=activation, name="decoder_dense")(
        latent
    )
    y = keras.layers.Reshape(feature_shape, name="decoder_reshape")(y)
    widths = list(filters[::-1])  # deepest first
    targets = widths[1:] + [max(widths[-1] // 2, channels)]
    for index, target in enumerate(targets):
        stage = len(filters) - index
        if up == "unpool":
            y = MaxUnpooling2D(2, name=f"decoder_unpool{stage}")([y, switch_inputs[index]])
            y = keras.layers.Conv2D(target, name=f"decoder_conv{stage}", **conv)(y)
        else:
            y = keras.layers.Conv2DTranspose(
                target, strides=2, name=f"decoder_deconv{stage}", **conv
            )(y)
    y = keras.layers.Conv2D(
        channels, kernel_size, padding="same", activation=output_activation, name="reconstruction"
    )(y)
    decoder_inputs = [latent, *switch_inputs] if switch_inputs else latent
    decoder = keras.Model(decoder_inputs, y, name="decoder")
    return encoder, decoder


def _finish(cls, encoder, decoder, name, weights, **kwargs):
    model = cls(encoder, decoder, name=_check_name(name), **kwargs)
    return load_weights(model, weights)


# --------------------------------------------------------------------------------------------
# the builders

_PAPER_AE = "Hinton & Salakhutdinov 2006, Science 313 (autoencoders; lecture 10 of CS-GY 6923)"


@register(
    "dense_autoencoder",
    family="autoencoder",
    paper=_PAPER_AE,
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


@register(
    "conv_autoencoder",
    family="autoencoder",
    paper=_PAPER_AE + "; Masci et al. 2011 (convolutional autoencoders)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Convolutions + max pooling down, transposed convolutions up.",
)
@register(
    "conv_autoencoder_strided",
    family="autoencoder",
    paper=_PAPER_AE + "; Springenberg et al. 2015 (strided convolutions instead of pooling)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Strided convolutions down, transposed convolutions up.",
    down="strided",
)
@register(
    "conv_autoencoder_unpool",
    family="autoencoder",
    paper=_PAPER_AE + "; Zeiler & Fergus 2014 / SegNet 2017 (max unpooling with switches)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Max pooling with switches down, MaxUnpooling2D up; the switches are part of the code.",
    up="unpool",
    filters=(8, 8),
)
def ConvAutoencoder(
    input_shape=None,
    latent_dim=32,
    filters=(16, 32),
    kernel_size=3,
    down="pooling",
    up="transpose",
    activation="relu",
    latent_activation=None,
    output_activation="sigmoid",
    noise=None,
    noise_amount=0.0,
    sparsity=0.0,
    weights=None,
    name="conv_autoencoder",
):
    """A convolutional autoencoder with a dense code.

    Encoder: per entry of ``filters`` a 3×3 convolution then a ÷2 down-sampling (``down="pooling"``:
    max pooling; ``"strided"``: the convolution has stride 2), then ``Flatten → Dense(latent_dim)``.
    Decoder: ``Dense → Reshape``, then per stage a ×2 up-sampling (``up="transpose"``: a stride-2
    ``Conv2DTranspose``; ``"unpool"``: ``MaxUnpooling2D`` with the encoder's switches followed by a
    convolution), and a final convolution to the input's channels.

    With ``up="unpool"`` the encoder outputs ``[code, switches_deepest, …, switches_first]`` and the
    decoder takes the same list: the switches cross the bottleneck (2 bits each for 2×2 pooling)
    and count towards ``code_bits``.

    Args:
        input_shape: ``(H, W, C)`` with H and W multiples of ``2 ** len(filters)``.
        latent_dim: size of the dense code.
        filters: widths of the encoder's stages (the decoder mirrors them).
        kernel_size: convolution size.
        down: ``"pooling"`` or ``"strided"``.
        up: ``"transpose"`` or ``"unpool"`` (needs ``down="pooling"``).
        activation, latent_activation, output_activation, noise, noise_amount, sparsity, weights,
        name: as for ``DenseAutoencoder``.

    Example:
        >>> import kerasconv.autoencoders as ae
        >>> model = ae.ConvAutoencoder(filters=(8, 8), up="unpool", latent_dim=16)
        >>> [tuple(t.shape) for t in model.encoder.outputs]
        [(None, 16), (None, 7, 7, 8), (None, 14, 14, 8)]
    """
    input_shape = _check_input_shape(input_shape)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    filters = _check_int_tuple("filters", filters)
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    check_choice("down", down, ("pooling", "strided"))
    check_choice("up", up, ("transpose", "unpool"))
    encoder, decoder = _conv_parts(
        input_shape,
        latent_dim,
        filters,
        kernel_size,
        down,
        up,
        activation,
        latent_activation,
        output_activation,
        noise,
        noise_amount,
        sparsity,
        variational=False,
    )
    return _finish(Autoencoder, encoder, decoder, name, weights)


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
