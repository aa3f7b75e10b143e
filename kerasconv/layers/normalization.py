"""Normalisation layers of the classic convnets.

* ``LocalResponseNormalization`` — AlexNet's brightness normalisation across adjacent channels
  (Krizhevsky, Sutskever & Hinton 2012, Sec. 3.3).
* ``LocalContrastNormalization`` — subtractive then divisive normalisation over a Gaussian
  neighbourhood in space and across all feature maps (Jarrett, Kavukcuoglu, Ranzato & LeCun 2009,
  "What is the best multi-stage architecture for object recognition?"; Pinto et al. 2008).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasconv._validation import check_float, check_int


def _move_to_last(x, axis, rank):
    if axis == rank - 1:
        return x
    return ops.moveaxis(x, axis, -1)


@keras.saving.register_keras_serializable(package="kerasconv")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalisation across channels (Krizhevsky et al. 2012, Sec. 3.3).

    ``b_c = a_c / (k + α · Σ_{j = c−r}^{c+r} a_j²)^β``, the sum over the ``n = 2r + 1`` adjacent
    channels at the same position (channels past either end count as zero). The paper uses
    ``n = 5`` (``depth_radius=2``), ``k = 2``, ``α = 1e-4``, ``β = 0.75``; those are the defaults.

    **The α convention.** This layer follows the paper and ``tf.nn.local_response_normalization``:
    α multiplies the *sum* of squares. Caffe's ``LRN`` layer and PyTorch's
    ``torch.nn.LocalResponseNorm`` multiply the *mean* — their ``alpha`` is divided by ``n`` — so
    Caffe/PyTorch ``alpha=1e-4, size=5`` equals ``LocalResponseNormalization(depth_radius=2,
    alpha=2e-5)`` here (and the Caffe AlexNet uses ``k = 1``). Converting weights between the two
    conventions without rescaling α changes the network.

    Equals ``tf.nn.local_response_normalization(x, depth_radius, bias, alpha, beta)`` on the same
    settings, but is written with ``keras.ops`` and also normalises along a channel ``axis`` other
    than the last.

    Args:
        depth_radius: ``r``; the window covers ``2r + 1`` channels.
        bias: ``k`` (> 0 keeps the divisor positive).
        alpha: ``α``, the scale of the sum of squares.
        beta: ``β``, the exponent.
        axis: the channel axis (``-1`` for channels-last).

    Example:
        >>> import numpy as np, kerasconv
        >>> lrn = kerasconv.layers.LocalResponseNormalization(depth_radius=2, bias=2.0,
        ...                                                  alpha=1e-4, beta=0.75)
        >>> tuple(lrn(np.ones((1, 1, 1, 3), "float32")).shape)
        (1, 1, 1, 3)
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = check_int("depth_radius", depth_radius, minimum=0)
        self.bias = check_float("bias", bias, minimum=0.0)
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        self.beta = check_float("beta", beta, minimum=0.0)
        self.axis = check_int("axis", axis)
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    def _axis(self, rank):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 < axis < rank:
            raise ValueError(
                f"LocalResponseNormalization axis {self.axis} is not a non-batch axis of an input "
                f"of rank {rank}."
            )
        return axis

    def call(self, inputs):
        rank = len(inputs.shape)
        axis = self._axis(rank)
        x = _move_to_last(inputs, axis, rank)
        squares = ops.square(x)
        r = self.depth_radius
        if r:
            # A sum of 2r + 1 shifted slices of the zero-padded squares: exact, O(n) per channel,
            # and needs no knowledge of the number of channels.
            padded = ops.pad(squares, [(0, 0)] * (rank - 1) + [(r, r)])
            channels = ops.shape(x)[-1]
            window = padded[..., 0:channels]
            for shift in range(1, 2 * r + 1):
                window = window + padded[..., shift : shift + channels]
        else:
            window = squares
        scale = ops.power(self.bias + self.alpha * window, -self.beta)
        outputs = x * ops.cast(scale, x.dtype)
        if axis != rank - 1:
            outputs = ops.moveaxis(outputs, -1, axis)
        return outputs

    def compute_output_shape(self, input_shape):
        self._axis(len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_radius=self.depth_radius,
            bias=self.bias,
            alpha=self.alpha,
            beta=self.beta,
            axis=self.axis,
        )
        return config


def gaussian_window(kernel_size, sigma):
    """A ``kernel_size × kernel_size`` Gaussian window of standard deviation ``sigma``, sum 1."""
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    sigma = check_float("sigma", sigma, minimum=0.0, strict_minimum=True)
    offsets = np.arange(kernel_size, dtype="float64") - (kernel_size - 1) / 2.0
    line = np.exp(-(offsets**2) / (2.0 * sigma**2))
    window = np.outer(line, line)
    return window / window.sum()


@keras.saving.register_keras_serializable(package="kerasconv")
class LocalContrastNormalization(keras.layers.Layer):
    """Local contrast normalisation across feature maps (Jarrett et al. 2009, Sec. 2).

    Jarrett, Kavukcuoglu, Ranzato & LeCun 2009, "What is the best multi-stage architecture for
    object recognition?" (ICCV): a subtractive then a divisive normalisation, both over a Gaussian
    neighbourhood in space and over *all* feature maps — "local mean = 0, local std = 1, 'local' →
    7×7 Gaussian" in the lecture notes:

    * subtractive: ``v_ijk = x_ijk − Σ_ipq w_pq · x_i,j+p,k+q`` with ``Σ_ipq w_pq = 1`` (a Gaussian
      window in space, shared equally by the ``C`` maps: ``w_pq = g_pq / C``);
    * divisive: ``y_ijk = v_ijk / max(c, σ_jk)`` with ``σ_jk = (Σ_ipq w_pq · v²_i,j+p,k+q)^½``
      and ``c`` the mean of ``σ_jk`` over the image (the paper's choice), or a fixed
      ``divisor_floor``. The floor keeps flat regions from being amplified into noise.

    Near the border the window is cut off by the image edge; the weights that remain are
    renormalised to sum to 1 (dividing by the window-weighted count of valid pixels), so a
    constant image has local mean equal to the constant everywhere, not a darkened border.

    Args:
        kernel_size: side of the Gaussian window (odd; 7 in the lecture notes, 9 in Jarrett et al.).
        sigma: standard deviation of the Gaussian in pixels.
        divisor_floor: ``None`` (default) uses ``c = mean σ`` per image; a number is used as c.
        epsilon: a last floor on the divisor, so a flat image gives (nearly) 0, not NaN or amplified
            float32 rounding noise (in input units; 1e-4 suits pixels in [0, 1]).

    Example:
        >>> import numpy as np, kerasconv
        >>> lcn = kerasconv.layers.LocalContrastNormalization(kernel_size=7, sigma=2.0)
        >>> tuple(lcn(np.random.rand(2, 32, 32, 3).astype("float32")).shape)
        (2, 32, 32, 3)
    """

    def __init__(self, kernel_size=7, sigma=2.0, divisor_floor=None, epsilon=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {kernel_size}.")
        self.sigma = check_float("sigma", sigma, minimum=0.0, strict_minimum=True)
        if divisor_floor is not None:
            divisor_floor = check_float("divisor_floor", divisor_floor, minimum=0.0)
        self.divisor_floor = divisor_floor
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, strict_minimum=True)
        self._window = gaussian_window(self.kernel_size, self.sigma).astype("float32")
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    @staticmethod
    def _check_rank(input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "LocalContrastNormalization expects (batch, height, width, channels); "
                f"got shape {tuple(input_shape)}."
            )

    def _local_sum(self, maps, dtype):
        # Gaussian-weighted sum over space of a single map: (batch, H, W, 1) -> (batch, H, W, 1).
        kernel = ops.cast(
            ops.reshape(ops.convert_to_tensor(self._window), (self.kernel_size,) * 2 + (1, 1)),
            dtype,
        )
        return ops.conv(maps, kernel, strides=1, padding="same")

    def call(self, inputs):
        self._check_rank(inputs.shape)
        dtype = inputs.dtype
        # The output does not change when a constant is added to the whole image, so subtract one
        # of its own pixels first: a flat image becomes exact zeros (instead of the rounding error
        # of "constant − Gaussian average of the constant", which the divisor floor would then
        # amplify), and large offsets cancel before any sum rounds.
        inputs = inputs - ops.stop_gradient(inputs[:, :1, :1, :1])
        # Averaging over channels first, then over space, applies w_pq = g_pq / C.
        coverage = self._local_sum(ops.ones_like(inputs[..., :1]), dtype)
        local_mean = self._local_sum(ops.mean(inputs, axis=-1, keepdims=True), dtype) / coverage
        centred = inputs - local_mean
        variance = self._local_sum(ops.mean(ops.square(centred), axis=-1, keepdims=True), dtype)
        variance = variance / coverage
        local_std = ops.sqrt(ops.maximum(variance, self.epsilon**2))
        if self.divisor_floor is None:
            floor = ops.mean(local_std, axis=(1, 2, 3), keepdims=True)
        else:
            floor = ops.cast(self.divisor_floor, dtype)
        # local_std >= epsilon already, so the divisor is never zero.
        return centred / ops.maximum(local_std, floor)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_size=self.kernel_size,
            sigma=self.sigma,
            divisor_floor=self.divisor_floor,
            epsilon=self.epsilon,
        )
        return config
