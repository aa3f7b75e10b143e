"""What every autoencoder shares: the ``Autoencoder`` model, the bottleneck check, ``code_bits``.

"Make the inputs the targets": an autoencoder ``f = d ∘ e`` is trained to reproduce its input
through a *bottleneck*, an encoder ``e: R^d -> R^k`` and a decoder ``d: R^k -> R^d`` with ``k < d``
(lecture 10 of CS-GY 6923, after Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data
with neural networks", Science 313).

Every builder (``dense.py``, ``conv.py``, ``denoising.py``, ``sparse.py``, ``variational.py``)
returns a functional ``keras.Model`` subclass with explicit ``encoder`` and ``decoder`` sub-models,
``model(x) == model.decoder(model.encoder(x))``, and a bottleneck checked to be strictly smaller than
the input (``ValueError`` otherwise). Capacity is counted in bits: code values at 32 bits (float32)
against input values at 32 bits; the max-unpooling variant also passes its pooling *switches* to
the decoder, each worth ``log2(pool area)`` bits, and they count too.

This module also holds the pieces the builders share: argument checks, the training-only
corruption layer, the code layer(s) and ``_finish``.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.layers.pooling import MaxPoolingWithArgmax2D
from kerasconv.models.common import load_weights

FLOAT_BITS = 32
DEFAULT_SHAPE = (28, 28, 1)
PAPER_AE = "Hinton & Salakhutdinov 2006, Science 313 (autoencoders; lecture 10 of CS-GY 6923)"

__all__ = ["Autoencoder", "code_bits"]


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


# --------------------------------------------------------------------------------------------
# building blocks shared by the builders


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


@keras.saving.register_keras_serializable(package="kerasconv")
class CodeL1(keras.regularizers.L1):
    """The sparse code's L1 activity penalty ``l1 · Σ|z|``, computed in float32.

    Under mixed precision the code is float16 / bfloat16, and Keras sums the layers' losses with
    the float32 data loss: a half-precision penalty makes that sum fail (and float16 would
    overflow at 65,504). Same value and config as ``keras.regularizers.L1``.
    """

    def __call__(self, x):
        return super().__call__(keras.ops.cast(x, "float32"))


def _latent_regularizer(sparsity):
    sparsity = check_float("sparsity", sparsity, minimum=0.0)
    return CodeL1(sparsity) if sparsity > 0 else None


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


def _finish(cls, encoder, decoder, name, weights, **kwargs):
    model = cls(encoder, decoder, name=_check_name(name), **kwargs)
    return load_weights(model, weights)
