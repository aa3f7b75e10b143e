"""What the recipe (``recipe.py``) and the distributed loop (``distributed.py``) share.

The default loss, turning arrays into a batched dataset, evaluation and the confusion matrix live
here, so that neither training module imports the other.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def default_loss(model):
    """Sparse categorical cross-entropy on logits or on probabilities, as the model outputs."""
    from kerasconv.gradients import ends_in_softmax

    try:
        from_logits = not ends_in_softmax(model)
    except ValueError:
        from_logits = False
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


def as_arrays(data, name):
    """``(x float32, y)`` from an ``(x, y)`` pair, with matching, non-zero lengths."""
    x, y = data
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}.")
    if len(x) == 0:
        raise ValueError(f"{name} is empty.")
    return x, y


def is_array_pair(data):
    return isinstance(data, (tuple, list)) and len(data) == 2


def as_dataset(data, batch_size, shuffle, seed, name, drop_remainder=False):
    """Accept a ``tf.data.Dataset`` of ``(x, y)`` batches or an ``(x, y)`` pair of arrays."""
    if data is None:
        return None
    if isinstance(data, tf.data.Dataset):
        return data
    if is_array_pair(data):
        x, y = as_arrays(data, name)
        dataset = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
        return dataset.prefetch(tf.data.AUTOTUNE)
    raise TypeError(
        f"{name} must be a tf.data.Dataset of (images, labels) batches or an (x, y) pair of "
        f"arrays; got {type(data).__name__}."
    )


def evaluate(model, data, batch_size=256):
    """``{"accuracy", "samples", "labels", "predictions"}`` of a classifier on ``data``.

    ``data``: a ``tf.data.Dataset`` of ``(images, labels)`` batches or ``(x, y)`` arrays. The model
    runs batch-wise through its compiled predict function (``predict_on_batch``).
    """
    dataset = as_dataset(data, batch_size, False, 0, "data")
    labels, predictions = [], []
    for images, targets in dataset:
        outputs = model.predict_on_batch(images)
        predictions.append(np.argmax(np.asarray(outputs), axis=-1))
        labels.append(np.asarray(targets))
    if not labels:
        raise ValueError("data is empty: nothing to evaluate.")
    labels = np.concatenate(labels)
    predictions = np.concatenate(predictions)
    return {
        "accuracy": float(np.mean(labels == predictions)),
        "samples": int(len(labels)),
        "labels": labels,
        "predictions": predictions,
    }


def confusion_matrix(labels, predictions, num_classes):
    """Counts ``[true, predicted]``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix
