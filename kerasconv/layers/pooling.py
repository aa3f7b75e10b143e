"""Max pooling that records its "switches", and the unpooling that uses them.

Zeiler & Fergus 2014, "Visualizing and understanding convolutional networks" (ECCV), Sec. 2.1: the
deconvnet inverts max pooling approximately by recording, for each pooling region, where the
maximum was (the *switches*), and unpooling puts each value back at that position, zeros elsewhere.

``MaxPoolingWithArgmax2D`` returns ``(pooled, argmax)``; ``MaxUnpooling2D`` takes
``[pooled, argmax]`` (or ``[pooled, argmax, reference]``) and scatters back::

    pooled, switches = MaxPoolingWithArgmax2D(2)(features)
    restored = MaxUnpooling2D()([pooled, switches, features])  # same shape as features

``argmax`` holds, per image, the flat index ``(y · width + x) · channels + c`` of the maximum in the
unpooled map (TensorFlow's ``include_batch_in_index=False`` convention), as int64.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from kerasconv._validation import check_choice
from kerasconv.layers._geometry import as_pair, output_length


@keras.saving.register_keras_serializable(package="kerasconv")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2-D max pooling that also returns where each maximum was (Zeiler & Fergus 2014's switches).

    Built on ``tf.nn.max_pool_with_argmax`` (``keras.ops`` has no argmax pooling). Gradients flow
    through ``pooled`` exactly as for ``MaxPooling2D``; ``argmax`` is integer (no gradient).

    Args:
        pool_size: window size, int or pair.
        strides: defaults to ``pool_size``.
        padding: ``"valid"`` or ``"same"``.

    Returns:
        ``(pooled, argmax)``: ``pooled`` as ``MaxPooling2D`` would give; ``argmax`` int64 of the
        same shape, the per-image flat index ``(y · width + x) · channels + c`` of each maximum.

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> pooled, argmax = kerasconv.layers.MaxPoolingWithArgmax2D(2)(x)
        >>> pooled.numpy().ravel(), argmax.numpy().ravel()
        (array([ 5.,  7., 13., 15.], dtype=float32), array([ 5,  7, 13, 15]))
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else as_pair("strides", strides)
        self.padding = check_choice("padding", padding, ("valid", "same"))
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    @staticmethod
    def _check(input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "MaxPoolingWithArgmax2D expects (batch, height, width, channels); "
                f"got shape {tuple(input_shape)}."
            )

    def call(self, inputs):
        self._check(inputs.shape)
        pooled, argmax = tf.nn.max_pool_with_argmax(
            inputs,
            ksize=(1,) + self.pool_size + (1,),
            strides=(1,) + self.strides + (1,),
            padding=self.padding.upper(),
            output_dtype=tf.int64,
            include_batch_in_index=False,
        )
        return pooled, argmax

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        batch, height, width, channels = input_shape
        shape = (
            batch,
            output_length(height, self.pool_size[0], self.strides[0], self.padding),
            output_length(width, self.pool_size[1], self.strides[1], self.padding),
            channels,
        )
        return shape, shape

    def compute_output_spec(self, inputs):
        shape, _ = self.compute_output_shape(inputs.shape)
        return (
            keras.KerasTensor(shape, dtype=inputs.dtype),
            keras.KerasTensor(shape, dtype="int64"),
        )

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return config


@keras.saving.register_keras_serializable(package="kerasconv")
class MaxUnpooling2D(keras.layers.Layer):
    """Max unpooling with switches (Zeiler & Fergus 2014, Sec. 2.1, "Unpooling").

    Puts each pooled value back at the position its ``argmax`` recorded and zeros elsewhere.
    Where overlapping pooling windows chose the same position, their values are summed: the layer
    is the transpose of max pooling's selection, i.e. exactly what the gradient of max pooling
    does with its incoming gradient.

    Inputs: ``[pooled, argmax]`` or ``[pooled, argmax, reference]``. The unpooled spatial size is
    taken, in this order, from ``reference`` (any tensor with the pre-pooling shape, e.g. the
    feature map that was pooled — this handles odd sizes), from ``output_size``, or as
    ``size × pooled`` size. The size must be the true pre-pooling size, because ``argmax``
    encodes positions with the original width.

    Args:
        size: upsampling factor used when neither ``reference`` nor ``output_size`` is given.
        output_size: ``(height, width)`` of the unpooled map, or ``None``.

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> pooled, argmax = kerasconv.layers.MaxPoolingWithArgmax2D(2)(x)
        >>> kerasconv.layers.MaxUnpooling2D()([pooled, argmax]).numpy()[0, ..., 0]
        array([[ 0.,  0.,  0.,  0.],
               [ 0.,  5.,  0.,  7.],
               [ 0.,  0.,  0.,  0.],
               [ 0., 13.,  0., 15.]], dtype=float32)
    """

    def __init__(self, size=2, output_size=None, **kwargs):
        super().__init__(**kwargs)
        self.size = as_pair("size", size)
        self.output_size = None if output_size is None else as_pair("output_size", output_size)
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    def _check(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) not in (2, 3):
            raise ValueError(
                "MaxUnpooling2D takes [pooled, argmax] or [pooled, argmax, reference]."
            )
        for shape in shapes:
            if len(shape) != 4:
                raise ValueError(
                    "MaxUnpooling2D inputs must have shape (batch, height, width, channels); "
                    f"got {tuple(shape)}."
                )

    def _output_hw(self, pooled_shape, reference_shape):
        if reference_shape is not None:
            return reference_shape[1], reference_shape[2]
        if self.output_size is not None:
            return self.output_size
        height, width = pooled_shape[1], pooled_shape[2]
        return (
            None if height is None else height * self.size[0],
            None if width is None else width * self.size[1],
        )

    def call(self, inputs):
        self._check([x.shape for x in inputs])
        pooled, argmax = inputs[0], inputs[1]
        reference = ops.shape(inputs[2]) if len(inputs) == 3 else None
        pooled_shape = ops.shape(pooled)
        height, width = self._output_hw(pooled_shape, reference)
        batch, channels = pooled_shape[0], pooled_shape[3]
        per_image = height * width * channels
        # Make the per-image indices global by adding each image's offset in the flat batch.
        offsets = ops.cast(ops.arange(batch) * per_image, "int64")
        indices = ops.cast(argmax, "int64") + ops.reshape(offsets, (-1, 1, 1, 1))
        flat = ops.scatter(
            ops.reshape(indices, (-1, 1)),
            ops.reshape(pooled, (-1,)),
            ops.cast(ops.reshape(batch * per_image, (1,)), "int64"),
        )
        return ops.reshape(flat, (batch, height, width, channels))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        reference = input_shape[2] if len(input_shape) == 3 else None
        height, width = self._output_hw(input_shape[0], reference)
        return (input_shape[0][0], height, width, input_shape[0][3])

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, output_size=self.output_size)
        return config


@keras.saving.register_keras_serializable(package="kerasconv")
class CoveringMaxPooling2D(keras.layers.Layer):
    """Max pooling whose windows cover every pixel: the output size rounds up.

    cuda-convnet's pooling (used by pylearn2, hence by Goodfellow et al. 2013's maxout networks)
    and Caffe's pooling produce ``ceil((size − pool) / stride) + 1`` outputs per axis, the last
    window hanging over the bottom/right border; Keras's ``"valid"`` pooling rounds down and drops
    the last rows and columns, ``"same"`` adds windows on both sides. Here the input is padded on
    the bottom and right by ``(pool − size) mod stride`` positions holding ``−inf``, so the windows
    that overhang take the maximum of the pixels that exist, exactly as cuda-convnet does.

    Args:
        pool_size: window size, int or pair.
        strides: defaults to ``pool_size``; at most ``pool_size`` (cuda-convnet's rule).

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.arange(25, dtype="float32").reshape(1, 5, 5, 1)
        >>> kerasconv.layers.CoveringMaxPooling2D(2)(x).numpy()[0, ..., 0]
        array([[ 6.,  8.,  9.],
               [16., 18., 19.],
               [21., 23., 24.]], dtype=float32)
    """

    def __init__(self, pool_size=2, strides=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else as_pair("strides", strides)
        for axis in (0, 1):
            if self.strides[axis] > self.pool_size[axis]:
                raise ValueError(
                    f"CoveringMaxPooling2D: strides {self.strides} larger than pool_size "
                    f"{self.pool_size} would skip pixels."
                )
        self._build_at_init()  # stateless: built at instantiation, as Keras does

    def _check(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "CoveringMaxPooling2D expects (batch, height, width, channels); "
                f"got shape {tuple(input_shape)}."
            )
        for axis, size in zip((0, 1), input_shape[1:3]):
            if size is not None and size < self.pool_size[axis]:
                raise ValueError(
                    f"CoveringMaxPooling2D: input size {tuple(input_shape[1:3])} is smaller than "
                    f"pool_size {self.pool_size}."
                )

    def _output_length(self, size, axis):
        if size is None:
            return None
        return -(-(size - self.pool_size[axis]) // self.strides[axis]) + 1

    def call(self, inputs):
        self._check(inputs.shape)
        shape = ops.shape(inputs)
        pads = [(self.pool_size[axis] - shape[axis + 1]) % self.strides[axis] for axis in (0, 1)]
        padded = ops.pad(
            inputs,
            [[0, 0], [0, pads[0]], [0, pads[1]], [0, 0]],
            constant_values=float("-inf"),
        )
        return ops.max_pool(padded, self.pool_size, self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (
            input_shape[0],
            self._output_length(input_shape[1], 0),
            self._output_length(input_shape[2], 1),
            input_shape[3],
        )

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides)
        return config
