"""ZCA whitening as a Keras preprocessing layer.

Bell & Sejnowski 1997, "The 'independent components' of natural scenes are edge filters"; Krizhevsky
2009, "Learning multiple layers of features from tiny images", App. A; the lecture notes (Fergus,
"Image whitening", "ZCA transform"): with ``X`` the mean-subtracted data (one column per example),
``C = X Xᵀ / (n − 1)``, and ``W = C^(−1/2)`` computed by an SVD, ``Y = W X`` has
``Y Yᵀ = (n − 1) I``.
Of all whitening transforms, ZCA's ``W`` is the one that keeps ``Y`` closest to ``X``, so whitened
images still look like images (with edges emphasised). Its rows, reshaped to images, are
centre-surround filters: whitening removes the local pixel correlations of natural images.

``W`` is ``d × d`` for ``d`` = pixels × channels, so ZCA is only practical for small images (the
notes' 32×32); for large images use ``LocalContrastNormalization``, a local, convolutional
approximation with the same aim.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kerasconv._validation import check_float, check_int


@keras.saving.register_keras_serializable(package="kerasconv")
class ZCAWhitening(keras.layers.Layer):
    """ZCA whitening: ``y = W (x − μ)`` with ``W = (C + ε I)^(−1/2)``, from ``adapt`` or given.

    ``adapt(data)`` accumulates ``Σx`` and ``Σxxᵀ`` in float64 batch by batch over a ``tf.data``
    stream (inside ``Dataset.reduce``, so data larger than memory works), forms the covariance
    ``C = (Σxxᵀ − n μμᵀ) / (n − 1)``, and from its SVD ``C = U S Uᵀ`` sets
    ``W = U diag(1/√(S + ε)) Uᵀ``. ``ε`` regularises the directions with almost no variance
    (without it, pixel noise in those directions is amplified without bound).

    Attributes (after ``adapt``; saved with the model):
        mean: ``μ``, shape ``(d,)``.
        whitening_matrix: ``W``, shape ``(d, d)``, symmetric; row ``i`` reshaped to the image shape
            is the filter that produces whitened pixel ``i``
            (see ``kerasconv.visualize.plot.whitening_filters``).
        inverse_matrix: ``W⁻¹ = U diag(√(S + ε)) Uᵀ``, used by ``inverse``.
        eigenvalues: ``S``, the covariance's eigenvalues, largest first.

    The statistics come from ``adapt(data)`` or are given at construction, as Keras's
    ``Normalization(mean=..., variance=...)`` takes them: ``mean`` and ``whitening_matrix``
    (computed elsewhere, e.g. from a larger set); they are then stored in the config. Like an
    unadapted ``Normalization`` (mean 0, variance 1), a layer with neither is the identity
    (``μ = 0``, ``W = I``) until ``adapt`` runs; ``adapted`` says which.

    Args:
        epsilon: ``ε`` added to the eigenvalues (in squared input units; ``0.01`` suits pixels in
            ``[0, 1]``; ``0.1`` is common for contrast-normalised patches).
        mean: ``μ`` as ``d`` numbers (or the feature shape), or ``None``.
        whitening_matrix: ``W``, ``d × d``, symmetric positive definite, or ``None``; given
            together with ``mean``. ``W⁻¹`` and the eigenvalues ``S = 1/s² − ε`` (``s`` the
            eigenvalues of ``W``) are derived from it.

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.random.default_rng(0).random((500, 4, 4, 1)).astype("float32")
        >>> zca = kerasconv.layers.ZCAWhitening(epsilon=1e-5)
        >>> zca.adapt(x)
        >>> y = zca(x).numpy().reshape(500, -1)
        >>> bool(np.allclose(np.cov(y, rowvar=False), np.eye(16), atol=1e-3))
        True
    """

    def __init__(self, epsilon=1e-2, mean=None, whitening_matrix=None, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self._adapted = False
        self.input_mean = None
        self.input_whitening_matrix = None
        if (mean is None) != (whitening_matrix is None):
            raise ValueError(
                "ZCAWhitening: give both mean and whitening_matrix (precomputed statistics) or "
                "neither (then call adapt)."
            )
        if mean is not None:
            self._set_given(mean, whitening_matrix)

    def _set_given(self, mean, whitening_matrix):
        mean = np.asarray(mean, dtype="float64").reshape(-1)
        matrix = np.asarray(whitening_matrix, dtype="float64")
        size = mean.size
        if size == 0 or matrix.shape != (size, size):
            raise ValueError(
                f"ZCAWhitening: whitening_matrix must be {size} × {size} for a mean of {size} "
                f"values; got shape {matrix.shape}."
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(matrix))):
            raise ValueError("ZCAWhitening: mean and whitening_matrix must be finite.")
        if not np.allclose(matrix, matrix.T, rtol=1e-5, atol=1e-6 * np.abs(matrix).max()):
            raise ValueError("ZCAWhitening: whitening_matrix must be symmetric (W = C^(-1/2)).")
        values, basis = np.linalg.eigh((matrix + matrix.T) / 2.0)
        if values.min() <= 0:
            raise ValueError(
                "ZCAWhitening: whitening_matrix must be positive definite; its smallest "
                f"eigenvalue is {values.min():.3g}."
            )
        self.input_mean = mean
        self.input_whitening_matrix = matrix
        # W = U diag(s) Uᵀ with s = 1/√(S + ε): recover W⁻¹ and the covariance's eigenvalues S.
        order = np.argsort(values)  # smallest s first = largest S first
        values, basis = values[order], basis[:, order]
        self._given = {
            "mean": mean,
            "whitening_matrix": matrix,
            "inverse_matrix": (basis / values) @ basis.T,
            "eigenvalues": np.maximum(1.0 / values**2 - self.epsilon, 0.0),
        }
        self._adapted = True

    @property
    def adapted(self):
        """Whether ``adapt`` has run (or adapted weights were loaded)."""
        return self._adapted

    def build(self, input_shape):
        feature_shape = tuple(input_shape[1:])
        if not feature_shape or any(s is None for s in feature_shape):
            raise ValueError(
                "ZCAWhitening needs a fully known shape after the batch axis; "
                f"got {tuple(input_shape)}."
            )
        self._feature_shape = feature_shape
        size = int(np.prod(feature_shape))
        self._size = size
        if self.input_mean is not None and self.input_mean.size != size:
            raise ValueError(
                f"ZCAWhitening was given a mean of {self.input_mean.size} values; inputs of shape "
                f"{feature_shape} have {size}."
            )

        def state(name, shape, initializer):
            return self.add_weight(name=name, shape=shape, initializer=initializer, trainable=False)

        self.mean = state("mean", (size,), "zeros")
        self.whitening_matrix = state("whitening_matrix", (size, size), "identity")
        self.inverse_matrix = state("inverse_matrix", (size, size), "identity")
        self.eigenvalues = state("eigenvalues", (size,), "ones")
        self.sample_count = state("sample_count", (), "zeros")
        if self.input_mean is not None:
            for name, value in self._given.items():
                getattr(self, name).assign(value.astype("float32"))

    # ------------------------------------------------------------------ adapt
    def _as_dataset(self, data, batch_size):
        if isinstance(data, tf.data.Dataset):
            spec = data.element_spec
            if isinstance(spec, (tuple, list)):
                data = data.map(lambda *items: items[0])
            elif isinstance(spec, dict):
                raise TypeError(
                    "ZCAWhitening.adapt takes a dataset of image batches or (image, label) pairs; "
                    "got a dataset of dicts."
                )
            return data
        if isinstance(data, (list, tuple)):
            data = np.asarray(data)
        if not isinstance(data, (np.ndarray, tf.Tensor)):
            raise TypeError(
                "ZCAWhitening.adapt takes a NumPy array, a tf.Tensor or a tf.data.Dataset; "
                f"got {type(data).__name__}."
            )
        array = np.asarray(data)
        if array.dtype.kind not in "fiu":
            raise TypeError(f"ZCAWhitening.adapt: data must hold numbers; got dtype {array.dtype}.")
        if array.ndim < 2:
            raise ValueError(
                f"ZCAWhitening.adapt: data must be (samples, ...features); got shape {array.shape}."
            )
        if not np.all(np.isfinite(array)):
            raise ValueError("ZCAWhitening.adapt: data contains NaN or infinite values.")
        return tf.data.Dataset.from_tensor_slices(array).batch(batch_size)

    def adapt(self, data, batch_size=256):
        """Estimate ``μ`` and ``W`` from ``data``.

        Args:
            data: an array ``(n, ...)``, or a *batched* ``tf.data.Dataset`` of images or of
                ``(image, label, ...)`` tuples (the first item is used).
            batch_size: batch size used when ``data`` is an array.
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        dataset = self._as_dataset(data, batch_size)
        spec = dataset.element_spec
        feature_shape = tuple(spec.shape[1:])
        if spec.shape.rank is None or not feature_shape or None in feature_shape:
            raise ValueError(
                "ZCAWhitening.adapt needs batches with a known shape after the batch axis; got "
                f"{spec.shape}. Batch the dataset (dataset.batch(n)) and give images a fixed size."
            )
        if self.built and feature_shape != self._feature_shape:
            raise ValueError(
                f"ZCAWhitening was built for inputs of shape {self._feature_shape}; "
                f"adapt got {feature_shape}."
            )
        size = int(np.prod(feature_shape))

        def accumulate(state, batch):
            total, outer, count = state
            flat = tf.reshape(tf.cast(batch, tf.float64), (-1, size))
            return (
                total + tf.reduce_sum(flat, axis=0),
                outer + tf.matmul(flat, flat, transpose_a=True),
                count + tf.cast(tf.shape(flat)[0], tf.float64),
            )

        initial = (
            tf.zeros((size,), tf.float64),
            tf.zeros((size, size), tf.float64),
            tf.constant(0.0, tf.float64),
        )
        total, outer, count = (t.numpy() for t in dataset.reduce(initial, accumulate))
        if count < 2:
            raise ValueError(f"ZCAWhitening.adapt needs at least 2 samples; got {int(count)}.")
        if not (np.all(np.isfinite(total)) and np.all(np.isfinite(outer))):
            raise ValueError("ZCAWhitening.adapt: data contains NaN or infinite values.")
        mean = total / count
        covariance = (outer - count * np.outer(mean, mean)) / (count - 1)
        covariance = (covariance + covariance.T) / 2.0
        # For a symmetric positive semi-definite C the SVD is its eigendecomposition U S Uᵀ.
        basis, eigenvalues, _ = np.linalg.svd(covariance, hermitian=True)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        root = np.sqrt(eigenvalues + self.epsilon)
        if np.any(root == 0):
            raise ValueError(
                "ZCAWhitening: the covariance is singular and epsilon is 0; use epsilon > 0."
            )
        whitening = (basis / root) @ basis.T
        inverse = (basis * root) @ basis.T
        if not self.built:
            self.build((None,) + feature_shape)
        self.mean.assign(mean.astype("float32"))
        self.whitening_matrix.assign(whitening.astype("float32"))
        self.inverse_matrix.assign(inverse.astype("float32"))
        self.eigenvalues.assign(eigenvalues.astype("float32"))
        self.sample_count.assign(np.float32(count))
        self._adapted = True
        # The adapted statistics replace any given ones; the config must not restore the old.
        self.input_mean = self.input_whitening_matrix = None

    # ------------------------------------------------------------------ apply
    def _transform(self, inputs, matrix, add_mean):
        dtype = inputs.dtype if "float" in str(inputs.dtype) else "float32"
        flat = ops.reshape(ops.cast(inputs, dtype), (-1, self._size))
        mean = ops.cast(self.mean, dtype)
        if add_mean:
            flat = ops.matmul(flat, ops.cast(matrix, dtype)) + mean
        else:
            flat = ops.matmul(flat - mean, ops.cast(matrix, dtype))
        return ops.reshape(flat, (-1,) + self._feature_shape)

    def call(self, inputs):
        # W is symmetric, so (W xᵀ)ᵀ = x W for row vectors x.
        return self._transform(inputs, self.whitening_matrix, add_mean=False)

    def inverse(self, whitened):
        """Undo the whitening: ``x = W⁻¹ y + μ`` (exact up to float32 rounding)."""
        whitened = ops.convert_to_tensor(whitened)
        if not self.built:
            self.build(tuple(whitened.shape))
        return self._transform(whitened, self.inverse_matrix, add_mean=True)

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._adapted = True

    def set_weights(self, weights):
        super().set_weights(weights)
        self._adapted = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        if self.input_mean is not None:
            config.update(
                mean=self.input_mean.tolist(),
                whitening_matrix=self.input_whitening_matrix.tolist(),
            )
        return config
