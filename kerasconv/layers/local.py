"""Convolutions without (full) weight tying.

* ``LocallyConnected2D`` — like a convolution, but every output position has its own filters
  ("local, no weight tying" in the lecture notes; LeCun 1989's locally connected layers; Taigman
  et al. 2014's DeepFace). Keras 2 had it; Keras 3 removed it.
* ``TiledConv2D`` — Le, Ngiam, Chen, Chia, Koh & Ng 2010, "Tiled convolutional neural networks"
  (NIPS): weights are tied only between units ``tile_size`` steps apart, so the filters "repeat
  every n". ``tile_size=1`` is an ordinary convolution; ``tile_size`` equal to the output size is a
  locally connected layer.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasconv._validation import check_choice, check_int
from kerasconv.layers._geometry import as_pair, output_length


def _check_image_shape(layer, input_shape):
    if len(input_shape) != 4:
        raise ValueError(
            f"{type(layer).__name__} expects (batch, height, width, channels); "
            f"got shape {tuple(input_shape)}."
        )
    if input_shape[-1] is None:
        raise ValueError(f"{type(layer).__name__} needs a known number of input channels.")


class _UntiedConvBase(keras.layers.Layer):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, minimum=1)
        self.kernel_size = as_pair("kernel_size", kernel_size)
        self.strides = as_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("valid", "same"))
        self.activation = keras.activations.get(activation)
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias must be True or False; got {use_bias!r}.")
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _output_hw(self, height, width):
        return (
            output_length(height, self.kernel_size[0], self.strides[0], self.padding),
            output_length(width, self.kernel_size[1], self.strides[1], self.padding),
        )

    def _patches(self, inputs):
        # A convolution with an identity kernel extracts each receptive field as a vector ordered
        # (kernel row, kernel column, channel) — the order of a Conv2D kernel's first three axes.
        kh, kw = self.kernel_size
        channels = inputs.shape[-1]
        size = kh * kw * channels
        eye = ops.reshape(ops.eye(size, dtype=inputs.dtype), (kh, kw, channels, size))
        return ops.conv(inputs, eye, strides=self.strides, padding=self.padding)

    def compute_output_shape(self, input_shape):
        height, width = self._output_hw(input_shape[1], input_shape[2])
        return (input_shape[0], height, width, self.filters)

    def multiply_adds(self, input_shape):
        """Multiply-adds for one sample: every output unit sees one receptive field.

        ``out_h · out_w · kernel_h · kernel_w · channels · filters``, whatever the weight tying:
        untied weights change the parameter count, not the work (``kerasconv.models.count_macs``
        uses this instead of "kernel size × positions", which would count an untied kernel once
        per position too many).
        """
        height, width = self._output_hw(input_shape[1], input_shape[2])
        if height is None or width is None or input_shape[-1] is None:
            raise ValueError(
                f"Cannot count multiply-adds of {self.name!r} for input shape {tuple(input_shape)}: "
                "height, width and channels must be known."
            )
        kh, kw = self.kernel_size
        return int(height * width * kh * kw * input_shape[-1] * self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="kerasconv")
class LocallyConnected2D(_UntiedConvBase):
    """A convolution whose filters are not shared: each output position has its own.

    "Local, no weight tying" (lecture notes); LeCun 1989, "Generalization and network design
    strategies"; used in Taigman et al. 2014's DeepFace. Keras 2's layer of the same name was
    removed from Keras 3; this one uses the same weight layout: ``kernel`` of shape
    ``(out_height · out_width, kernel_h · kernel_w · channels, filters)`` (receptive fields
    flattened in ``(row, column, channel)`` order) and ``bias`` of shape
    ``(out_height, out_width, filters)``.

    The input's height and width must be known when the layer is built.

    Args:
        filters, kernel_size, strides, padding, activation, use_bias, kernel_initializer,
        bias_initializer: as for ``keras.layers.Conv2D``.

    Example:
        >>> import numpy as np, kerasconv
        >>> layer = kerasconv.layers.LocallyConnected2D(4, 3)
        >>> tuple(layer(np.zeros((2, 8, 8, 1), "float32")).shape), layer.count_params()
        ((2, 6, 6, 4), 1440)
    """

    def build(self, input_shape):
        _check_image_shape(self, input_shape)
        height, width = self._output_hw(input_shape[1], input_shape[2])
        if height is None or width is None:
            raise ValueError("LocallyConnected2D needs known input height and width.")
        if height < 1 or width < 1:
            raise ValueError(
                f"LocallyConnected2D: kernel {self.kernel_size} is larger than the input "
                f"{tuple(input_shape[1:3])}."
            )
        self._out_hw = (height, width)
        receptive = self.kernel_size[0] * self.kernel_size[1] * input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(height * width, receptive, self.filters),
            initializer=self.kernel_initializer,
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(height, width, self.filters), initializer=self.bias_initializer
            )
            if self.use_bias
            else None
        )

    def call(self, inputs):
        patches = self._patches(inputs)
        height, width = self._out_hw
        positions = ops.reshape(patches, (-1, height * width, patches.shape[-1]))
        outputs = ops.einsum("bpk,pkf->bpf", positions, ops.cast(self.kernel, inputs.dtype))
        outputs = ops.reshape(outputs, (-1, height, width, self.filters))
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        return self.activation(outputs)


@keras.saving.register_keras_serializable(package="kerasconv")
class TiledConv2D(_UntiedConvBase):
    """Tiled convolution (Le et al. 2010, "Tiled convolutional neural networks", NIPS).

    Output position ``(i, j)`` uses filter bank ``(i mod t_h, j mod t_w)``: units ``t`` steps apart
    share weights, neighbours within a tile do not ("filters repeat every n"). With
    ``tile_size=1`` this is ``Conv2D``; with ``tile_size`` equal to the output size it is
    ``LocallyConnected2D``. ``kernel`` has shape ``(t_h, t_w, kernel_h, kernel_w, channels,
    filters)`` and ``bias`` ``(t_h, t_w, filters)``.

    All ``t_h · t_w`` filter banks are applied as one convolution with ``t_h · t_w · filters``
    outputs and each position keeps its own bank's responses, so height and width may be unknown.

    Args:
        tile_size: ``t``, int or pair; the period of weight sharing.
        filters, kernel_size, strides, padding, activation, use_bias, kernel_initializer,
        bias_initializer: as for ``keras.layers.Conv2D``.

    Example:
        >>> import numpy as np, kerasconv
        >>> layer = kerasconv.layers.TiledConv2D(4, 3, tile_size=2)
        >>> tuple(layer(np.zeros((2, 8, 8, 1), "float32")).shape), layer.count_params()
        ((2, 6, 6, 4), 160)
    """

    def __init__(self, filters, kernel_size, tile_size=2, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.tile_size = as_pair("tile_size", tile_size)

    def build(self, input_shape):
        _check_image_shape(self, input_shape)
        th, tw = self.tile_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(th, tw) + self.kernel_size + (input_shape[-1], self.filters),
            initializer=self.kernel_initializer,
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(th, tw, self.filters), initializer=self.bias_initializer
            )
            if self.use_bias
            else None
        )

    def call(self, inputs):
        th, tw = self.tile_size
        tiles = th * tw
        kernel = ops.cast(self.kernel, inputs.dtype)
        # (th, tw, kh, kw, c, f) -> (kh, kw, c, tiles · f): every bank in one convolution.
        banks = ops.transpose(kernel, (2, 3, 4, 0, 1, 5))
        banks = ops.reshape(banks, self.kernel_size + (inputs.shape[-1], tiles * self.filters))
        responses = ops.conv(inputs, banks, strides=self.strides, padding=self.padding)
        shape = ops.shape(responses)
        height, width = shape[1], shape[2]
        responses = ops.reshape(responses, (-1, height, width, tiles, self.filters))
        # One-hot choice of bank per position: tile index (i mod th) · tw + (j mod tw).
        rows = ops.arange(height) % th
        cols = ops.arange(width) % tw
        tile_index = ops.expand_dims(rows, 1) * tw + ops.expand_dims(cols, 0)
        choice = ops.one_hot(tile_index, tiles, dtype=responses.dtype)
        outputs = ops.sum(responses * ops.expand_dims(choice, -1), axis=3)
        if self.use_bias:
            bias = ops.reshape(ops.cast(self.bias, outputs.dtype), (tiles, self.filters))
            outputs = outputs + ops.take(bias, tile_index, axis=0)
        return self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(tile_size=self.tile_size)
        return config


def tiled_kernel_from_locally_connected(kernel, output_size, kernel_size, channels):
    """Rearrange a ``LocallyConnected2D`` kernel into the ``TiledConv2D`` layout (tile = output).

    ``(out_h · out_w, kh · kw · c, f)`` → ``(out_h, out_w, kh, kw, c, f)``; useful to move weights
    between the two layers (and how the tests check that they compute the same function).
    """
    kernel = np.asarray(kernel)
    out_h, out_w = output_size
    kh, kw = kernel_size
    return kernel.reshape(out_h, out_w, kh, kw, channels, kernel.shape[-1])
