"""Maxout units (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013, "Maxout networks").

A maxout unit outputs the maximum of ``num_pieces`` linear pieces. Put a ``Maxout`` layer after a
``Dense(units * num_pieces)`` or ``Conv2D(filters * num_pieces)`` and it takes the maximum over each
group of ``num_pieces`` consecutive units or channels — the lecture notes' "pooling across feature
groups" rather than across space.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasconv._validation import check_int


@keras.saving.register_keras_serializable(package="kerasconv")
class Maxout(keras.layers.Layer):
    """Maximum over groups of ``num_pieces`` consecutive units or channels.

    Goodfellow et al. 2013, "Maxout networks" (ICML): ``h_i(x) = max_{j in 1..k} z_ij`` with
    ``z = xW + b``. The linear pieces come from the layer before; this layer takes the maximum.
    Output unit ``i`` is the maximum of inputs ``i·k, i·k+1, …, i·k+k−1`` along ``axis``, so an axis
    of size ``units · k`` becomes ``units``.

    Args:
        num_pieces: ``k``, the number of linear pieces per unit (an integer ≥ 1).
        axis: the axis holding the pieces (``-1``, the channel axis, by default). Its size must be
            known and divisible by ``num_pieces``.

    Example:
        >>> import keras, numpy as np, kerasconv
        >>> inputs = keras.Input((64,))
        >>> hidden = keras.layers.Dense(240 * 5)(inputs)
        >>> kerasconv.layers.Maxout(5)(hidden).shape
        (None, 240)
        >>> kerasconv.layers.Maxout(2)(np.array([[1.0, 3.0, -2.0, -5.0]], "float32")).numpy()
        array([[ 3., -2.]], dtype=float32)
    """

    def __init__(self, num_pieces, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.num_pieces = check_int("num_pieces", num_pieces, minimum=1)
        self.axis = check_int("axis", axis)
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    def _axis(self, rank):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 < axis < rank:
            raise ValueError(
                f"Maxout axis {self.axis} is not a non-batch axis of an input of rank {rank}."
            )
        return axis

    def _check(self, input_shape):
        axis = self._axis(len(input_shape))
        size = input_shape[axis]
        if size is None:
            raise ValueError(f"Maxout needs a known size along axis {self.axis}; got None.")
        if size % self.num_pieces:
            raise ValueError(
                f"Maxout: the size along axis {self.axis} ({size}) is not divisible by "
                f"num_pieces={self.num_pieces}."
            )
        return axis

    def call(self, inputs):
        axis = self._check(inputs.shape)
        size = inputs.shape[axis]
        shape = list(ops.shape(inputs))
        grouped = shape[:axis] + [size // self.num_pieces, self.num_pieces] + shape[axis + 1 :]
        return ops.max(ops.reshape(inputs, grouped), axis=axis + 1)

    def compute_output_shape(self, input_shape):
        axis = self._check(input_shape)
        shape = list(input_shape)
        shape[axis] = shape[axis] // self.num_pieces
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(num_pieces=self.num_pieces, axis=self.axis)
        return config
