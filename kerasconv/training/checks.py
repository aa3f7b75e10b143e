"""Guards around training: bad data is refused before it is trained on, a NaN loss stops the run.

Decisions (docs/training.md, "When training goes wrong"):

* ``(x, y)`` arrays are checked whole before the first step (one vectorised NumPy pass over data
  already in memory: 60,000 Fashion-MNIST images take about 0.1 s).
* A ``tf.data.Dataset`` is never read an extra time before training (that would be a full pass over
  a possibly large, uncached dataset). Instead each batch is checked in the pipeline as it is read,
  by a vectorised ``map`` running in parallel with training: a bad batch stops the run before any
  step trains on it, and the first batch is checked before the first step.
* The loss is checked after every step, the weights every 50 steps and at every epoch end (one
  compiled reduction: a softmax output's clipping hides NaN weights from the loss); the first
  non-finite value stops training there with a :class:`TrainingDivergedError` naming it. The backup of the last
  completed epoch is kept.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import tensorflow as tf

_MARK = "kerasconv-check: "


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite (the message says at which step)."""

    def __init__(self, message, step=None, epoch=None):
        super().__init__(message)
        self.step = step
        self.epoch = epoch


def output_classes(model):
    """The number of classes of a single-output classifier, or ``None`` when it is not known."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs or len(outputs) != 1:
        return None
    classes = outputs[0].shape[-1]
    return int(classes) if classes is not None and len(outputs[0].shape) == 2 else None


def _labels_message(name, classes, low, high):
    return (
        f"{name}: labels must be class indices 0..{classes - 1} for the model's {classes} outputs; "
        f"found labels from {low} to {high}. Remap them (e.g. y - y.min()) or build the model with "
        "classes= the number of classes."
    )


def check_arrays(x, y, name, classes=None):
    """Refuse non-finite images and, when ``classes`` is given, labels outside ``0..classes-1``."""
    finite = np.isfinite(x)
    if not finite.all():
        bad = ~finite.reshape(len(x), -1).all(axis=1)
        raise ValueError(
            f"{name}: {int(bad.sum())} of {len(x)} images contain NaN or infinite values (the "
            f"first at index {int(np.argmax(bad))}); training on them makes every weight NaN. "
            "Drop or repair those images first."
        )
    if classes is None:
        return
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{name}: labels must be a 1-D array of class indices (the default loss is sparse "
            f"categorical cross-entropy); got shape {labels.shape}. For one-hot labels pass "
            "loss=keras.losses.CategoricalCrossentropy()."
        )
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise TypeError(f"{name}: labels must be integers; got dtype {labels.dtype}.")
    if np.issubdtype(labels.dtype, np.floating) and not (
        np.isfinite(labels).all() and (labels == np.round(labels)).all()
    ):
        raise ValueError(f"{name}: labels must be whole class indices; found fractional or NaN.")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= classes:
        raise ValueError(_labels_message(name, classes, int(low), int(high)))


def checked_dataset(dataset, name, classes=None):
    """``dataset`` with every ``(images, labels)`` batch checked as it is read (see module doc)."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        return dataset
    image_spec, label_spec = spec[0], spec[1]
    if not isinstance(image_spec, tf.TensorSpec):
        return dataset
    check_images = image_spec.dtype.is_floating
    check_labels = (
        classes is not None
        and isinstance(label_spec, tf.TensorSpec)
        and (label_spec.dtype.is_integer or label_spec.dtype.is_floating)
        and label_spec.shape.rank is not None
        and label_spec.shape.rank <= 2
        and (label_spec.shape.rank < 2 or label_spec.shape[-1] == 1)
    )
    if not (check_images or check_labels):
        return dataset
    images_message = (
        f"{_MARK}{name}: a batch of images contains NaN or infinite values; training on it would "
        "make every weight NaN. Drop or repair those images first."
    )

    def check(*batch):
        images, labels = batch[0], batch[1]
        asserts = []
        if check_images:
            asserts.append(
                tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(images)), [images_message])
            )
        if check_labels:
            values = tf.cast(labels, tf.float64)
            low, high = tf.reduce_min(values), tf.reduce_max(values)
            valid = tf.logical_and(low >= 0, high < classes)
            asserts.append(
                tf.debugging.Assert(
                    tf.logical_or(tf.size(values) == 0, valid),
                    [f"{_MARK}labels {name} {classes}", low, high],
                )
            )
        with tf.control_dependencies(asserts):
            return (tf.identity(images),) + tuple(batch[1:])

    return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def translate_error(error):
    """The clear ``ValueError`` behind a pipeline check's ``InvalidArgumentError``, or ``None``."""
    text = str(error)
    if _MARK not in text:
        return None
    match = re.search(
        re.escape(_MARK) + r"labels (\S+) (\d+)\] \[([-\d.e+]+)\] \[([-\d.e+]+)\]", text
    )
    if match:
        name, classes = match.group(1), int(match.group(2))
        low, high = float(match.group(3)), float(match.group(4))
        return ValueError(_labels_message(name, classes, f"{low:g}", f"{high:g}"))
    line = text[text.index(_MARK) + len(_MARK) :]
    return ValueError(line.split("]")[0].strip())


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first step whose loss or weights are NaN or infinite, raising
    :class:`TrainingDivergedError` with the step (counted from 1 in this call), the epoch and the
    batch. Raising, not ``stop_training``, keeps the NaN weights out of any end-of-epoch backup.

    The weights are checked too (one compiled reduction every ``weights_every`` steps and at the
    end of every epoch), because a softmax output hides NaN weights from the loss: Keras clips the
    probabilities, and the loss then reads a finite ``log(1e-7)``-sized value while every weight is
    NaN. (Checking them at every step would add a round trip to every step.)
    """

    def __init__(self, weights_every=50):
        super().__init__()
        self.epoch = 0
        self.steps = 0
        self.weights_every = weights_every
        self._checked_at = 0
        self._finite = None

    def on_train_begin(self, logs=None):
        variables = list(self.model.trainable_variables)

        @tf.function
        def all_finite():
            return tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(tf.cast(v, tf.float32))) for v in variables]
            )

        self._finite = all_finite if variables else None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _weights_finite(self):
        return self._finite is None or bool(self._finite())

    def _fail(self, what, step, batch, epoch):
        raise TrainingDivergedError(
            f"Training stopped: {what} at step {step} (epoch {epoch + 1}, batch {batch + 1}). "
            "The weights are no longer usable. Lower the learning rate, check the data for extreme "
            "values, or use gradient clipping; with checkpoint_dir, a rerun resumes from the last "
            "completed epoch's backup.",
            step=self.steps,
            epoch=epoch + 1,
        )

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self._batch = batch
        loss = (logs or {}).get("loss")
        value = float(loss) if loss is not None else 0.0
        if not np.isfinite(value):
            self._fail(f"the loss became {value}", self.steps, batch, self.epoch)
        if self.steps - self._checked_at >= self.weights_every:
            self._check_weights()

    def _check_weights(self):
        if not self._weights_finite():
            first = self._checked_at + 1
            where = f"step {self.steps}" if first == self.steps else f"{first}-{self.steps}"
            self._fail(
                f"the weights became NaN (loss still finite) in steps {where}; detected",
                self.steps,
                self._batch,
                self.epoch,
            )
        self._checked_at = self.steps

    def on_epoch_end(self, epoch, logs=None):
        if self.steps > self._checked_at:
            self._check_weights()
