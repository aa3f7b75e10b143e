"""Argument and shape helpers shared by the spatial layers."""

from __future__ import annotations

from kerasconv._validation import check_int


def as_pair(name, value):
    """An int or a pair of positive ints, as ``(height, width)``."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints; got {value!r}.")
        return tuple(check_int(name, v, minimum=1) for v in value)
    value = check_int(name, value, minimum=1)
    return (value, value)


def output_length(length, window, stride, padding):
    """Output length of a sliding window (convolution or pooling); ``None`` stays unknown."""
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    return (length - window) // stride + 1
