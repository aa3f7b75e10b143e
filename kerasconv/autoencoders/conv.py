"""``ConvAutoencoder``: convolutions down (max pooling or strided), transposed convolutions or
max unpooling with the encoder's switches up, around a dense code.

Masci et al. 2011 (convolutional autoencoders); Springenberg et al. 2015 (strided convolutions
instead of pooling); Zeiler & Fergus 2014 and SegNet (Badrinarayanan et al. 2017) for unpooling
with switches.

>>> import kerasconv.autoencoders as ae
>>> model = ae.ConvAutoencoder(input_shape=(28, 28, 1), filters=(8, 16), latent_dim=16)
>>> model.encoder.output.shape, model.decoder.output.shape
((None, 16), (None, 28, 28, 1))
"""

from __future__ import annotations

import math

import keras

from kerasconv._validation import check_choice, check_int
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
from kerasconv.layers.pooling import MaxPoolingWithArgmax2D, MaxUnpooling2D
from kerasconv.models.registry import register

__all__ = ["ConvAutoencoder"]


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
        channels,
        kernel_size,
        padding="same",
        activation=output_activation,
        name="reconstruction",
        # float32 even under mixed precision: the loss needs the range near 0 and 1.
        dtype="float32",
    )(y)
    decoder_inputs = [latent, *switch_inputs] if switch_inputs else latent
    decoder = keras.Model(decoder_inputs, y, name="decoder")
    return encoder, decoder


@register(
    "conv_autoencoder",
    family="autoencoder",
    paper=PAPER_AE + "; Masci et al. 2011 (convolutional autoencoders)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Convolutions + max pooling down, transposed convolutions up.",
)
@register(
    "conv_autoencoder_strided",
    family="autoencoder",
    paper=PAPER_AE + "; Springenberg et al. 2015 (strided convolutions instead of pooling)",
    input_shape=DEFAULT_SHAPE,
    classes=0,
    endpoints=("encoder", "decoder", "encoder/latent"),
    notes="Strided convolutions down, transposed convolutions up.",
    down="strided",
)
@register(
    "conv_autoencoder_unpool",
    family="autoencoder",
    paper=PAPER_AE + "; Zeiler & Fergus 2014 / SegNet 2017 (max unpooling with switches)",
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
