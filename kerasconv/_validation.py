"""Argument checks shared by every public entry point.

Rule 4 of the project: bad input gets a clear ``ValueError``/``TypeError`` naming the argument,
what was given and what is expected, never a stack trace from deep inside TensorFlow.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_choice(name, value, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {shown}; got {value!r}.")
    return value


def check_int(name, value, minimum=None, maximum=None):
    """Raise unless ``value`` is an integer (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}.")
    return int(value)


def check_float(name, value, minimum=None, maximum=None, strict_minimum=False):
    """Raise unless ``value`` is a finite real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}; got {value}.")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}.")
    return value


def check_image_batch(name, x, channels=None, allow_single=False, dtype_kind="f"):
    """Check an image batch of shape ``(batch, height, width, channels)``.

    Returns a float32 NumPy-compatible array (a ``tf.Tensor`` stays a tensor). With
    ``allow_single`` a single image ``(height, width, channels)`` is given a batch axis.
    Non-finite values are rejected: gradients of NaNs are NaNs and would silently spoil results.
    """
    import tensorflow as tf

    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, (np.ndarray, tf.Tensor, tf.Variable)):
        raise TypeError(
            f"{name} must be a NumPy array or tf.Tensor of images; got {type(x).__name__}."
        )
    rank = len(x.shape)
    if allow_single and rank == 3:
        x = x[None]
        rank = 4
    if rank != 4:
        expected = "(batch, height, width, channels)"
        if allow_single:
            expected += " or (height, width, channels)"
        raise ValueError(f"{name} must have shape {expected}; got shape {tuple(x.shape)}.")
    if channels is not None and x.shape[-1] is not None and x.shape[-1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel(s) in its last axis; got shape {tuple(x.shape)}."
        )
    dtype = np.dtype(x.dtype.as_numpy_dtype if isinstance(x, (tf.Tensor, tf.Variable)) else x.dtype)
    if dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers; got dtype {dtype}.")
    x = tf.convert_to_tensor(x)
    if x.dtype != tf.float32:
        x = tf.cast(x, tf.float32)
    if not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def check_labels(name, y, batch_size, num_classes=None):
    """Check integer class labels of shape ``(batch,)``; returns an int32 tensor."""
    import tensorflow as tf

    y = np.asarray(y) if not isinstance(y, (tf.Tensor, tf.Variable)) else y.numpy()
    if y.ndim == 0:
        y = np.full((batch_size,), int(y))
    if y.ndim != 1 or y.shape[0] != batch_size:
        raise ValueError(
            f"{name} must be one class index per sample, shape ({batch_size},); got shape {y.shape}."
        )
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer class indices; got dtype {y.dtype}.")
    if num_classes is not None and y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{name} must be class indices in [0, {num_classes - 1}]; "
            f"got values from {y.min()} to {y.max()}."
        )
    return tf.convert_to_tensor(y, tf.int32)


def resolve_jit_compile(jit_compile):
    """Resolve ``jit_compile="auto"``: XLA on a GPU, plain graphs on a CPU.

    On CPUs, XLA's convolutions are several times slower than oneDNN's, so "auto" turns it off.
    """
    import tensorflow as tf

    if jit_compile == "auto":
        return bool(tf.config.list_physical_devices("GPU"))
    if not isinstance(jit_compile, bool):
        raise TypeError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}.")
    return jit_compile
