"""LeNet-5's own layers (LeCun et al. 1998, "Gradient-based learning applied to document
recognition").

``Subsampling2D`` is the S2/S4 layer: the sum over a 2×2 window times one trainable coefficient per
feature map, plus one trainable bias per map. ``ConnectionTableConv2D`` is C3: a convolution in
which each output map sees only the input maps listed in a connection table (Table I of the paper),
so that only the listed connections have weights — 1,516 parameters instead of 2,416 for a full C3.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# Table I of LeCun et al. 1998: which S2 maps (rows) feed each C3 map (columns).
LENET5_C3_TABLE = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (4, 5, 0),
    (5, 0, 1),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (3, 4, 5, 0),
    (4, 5, 0, 1),
    (5, 0, 1, 2),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


@keras.saving.register_keras_serializable(package="kerasconv")
def lecun_tanh(x):
    """LeNet-5's squashing function f(a) = 1.7159 · tanh(2a/3) (LeCun et al. 1998, Appendix A)."""
    return 1.7159 * ops.tanh(x * (2.0 / 3.0))


@keras.saving.register_keras_serializable(package="kerasconv")
class Subsampling2D(keras.layers.Layer):
    """Trainable subsampling: ``activation(coefficient · sum_{2×2} x + bias)`` per feature map.

    Args:
        pool_size: window and stride, an int or a pair (2 in LeNet-5).
        activation: applied after the affine map (LeNet-5 uses ``lecun_tanh``).

    Example:
        >>> import numpy as np, kerasconv
        >>> layer = kerasconv.layers.Subsampling2D(2)
        >>> tuple(layer(np.ones((1, 4, 4, 6), "float32")).shape)
        (1, 2, 2, 6)
    """

    def __init__(self, pool_size=2, activation=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pool_size, int):
            pool_size = (pool_size, pool_size)
        self.pool_size = tuple(int(p) for p in pool_size)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("Subsampling2D needs a known number of channels.")
        self.coefficient = self.add_weight(
            name="coefficient", shape=(channels,), initializer="ones"
        )
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros")

    def call(self, inputs):
        window = self.pool_size[0] * self.pool_size[1]
        summed = ops.average_pool(inputs, self.pool_size, strides=self.pool_size) * window
        return self.activation(summed * self.coefficient + self.bias)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        height = None if height is None else height // self.pool_size[0]
        width = None if width is None else width // self.pool_size[1]
        return (batch, height, width, channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            pool_size=self.pool_size,
            activation=keras.activations.serialize(self.activation),
        )
        return config


@keras.saving.register_keras_serializable(package="kerasconv")
class ConnectionTableConv2D(keras.layers.Layer):
    """Convolution where output map ``o`` sees only the input maps ``table[o]`` (LeNet-5's C3).

    Only the listed connections carry weights: the kernel is stored as
    ``(kernel_h, kernel_w, n_connections)`` and scattered into a dense kernel in ``call``.

    Args:
        table: one tuple of input-map indices per output map; defaults to LeNet-5's Table I.
        kernel_size: int or pair (5 in LeNet-5).
        activation: activation after the bias.

    Example:
        >>> import numpy as np, kerasconv
        >>> c3 = kerasconv.layers.ConnectionTableConv2D(kernel_size=5)
        >>> tuple(c3(np.zeros((1, 14, 14, 6), "float32")).shape), c3.count_params()
        ((1, 10, 10, 16), 1516)
    """

    def __init__(self, table=LENET5_C3_TABLE, kernel_size=5, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.table = tuple(tuple(int(i) for i in row) for row in table)
        if not self.table or any(len(row) == 0 for row in self.table):
            raise ValueError("table must list at least one input map for every output map.")
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.activation = keras.activations.get(activation)
        self.filters = len(self.table)

    def build(self, input_shape):
        in_maps = input_shape[-1]
        used = max(max(row) for row in self.table) + 1
        if in_maps is None or in_maps < used:
            raise ValueError(
                f"ConnectionTableConv2D's table refers to {used} input maps; got {in_maps}."
            )
        connections = [(i, o) for o, row in enumerate(self.table) for i in row]
        scatter = np.zeros((len(connections), in_maps * self.filters), "float32")
        for j, (i, o) in enumerate(connections):
            scatter[j, i * self.filters + o] = 1.0
        self._scatter = scatter
        self._in_maps = in_maps
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (len(connections),),
            initializer=keras.initializers.VarianceScaling(
                scale=1.0, mode="fan_in", distribution="uniform"
            ),
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs):
        kh, kw = self.kernel_size
        flat = ops.reshape(self.kernel, (kh * kw, -1))
        scatter = ops.cast(ops.convert_to_tensor(self._scatter), flat.dtype)
        dense = ops.reshape(ops.matmul(flat, scatter), (kh, kw, self._in_maps, self.filters))
        dense = ops.cast(dense, inputs.dtype)
        outputs = ops.conv(inputs, dense, strides=1, padding="valid")
        return self.activation(outputs + ops.cast(self.bias, outputs.dtype))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        height = None if height is None else height - self.kernel_size[0] + 1
        width = None if width is None else width - self.kernel_size[1] + 1
        return (batch, height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            table=[list(row) for row in self.table],
            kernel_size=self.kernel_size,
            activation=keras.activations.serialize(self.activation),
        )
        return config
