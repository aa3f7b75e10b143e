"""The training recipe: ``kerasconv.training.train``.

The seeds' recipe (Krizhevsky et al. 2012; Simonyan & Zisserman 2015): SGD with momentum 0.9,
weight decay, a learning rate annealed over training, data augmentation. Around ``model.fit`` it adds
what a long job needs: a backup that a killed run resumes from (and that survives a damaged file,
:mod:`kerasconv.training.backup`), a best-model checkpoint, checks that refuse bad data and stop a
diverging run (:mod:`kerasconv.training.checks`), optional TensorBoard, seeds and
``jit_compile="auto"``.
"""

from __future__ import annotations

import math
import os

import keras
import tensorflow as tf

from kerasconv._validation import check_choice, check_float, check_int, resolve_jit_compile
from kerasconv.training import checks
from kerasconv.training.backup import SafeBackup
from kerasconv.training.common import (
    as_arrays,
    as_dataset,
    confusion_matrix,
    default_loss,
    evaluate,
    is_array_pair,
)

__all__ = [
    "SCHEDULES",
    "confusion_matrix",
    "default_loss",
    "evaluate",
    "make_optimizer",
    "reproducible",
    "steps_for",
    "train",
]

SCHEDULES = (None, "constant", "step", "cosine", "plateau")


def _schedule(kind, learning_rate, epochs, steps_per_epoch, step_epochs, step_factor):
    if kind in (None, "constant", "plateau"):
        return learning_rate
    if kind == "cosine":
        decay_steps = max(1, epochs * steps_per_epoch)
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.01)
    # "step": divide by step_factor every step_epochs epochs (Krizhevsky et al.: by 10).
    # PiecewiseConstantDecay uses values[i] while step <= boundaries[i]: the last step of an
    # epoch is the boundary, so the new rate starts exactly with the next epoch.
    boundaries = [e * steps_per_epoch - 1 for e in range(step_epochs, epochs, step_epochs)]
    values = [learning_rate / (step_factor**i) for i in range(len(boundaries) + 1)]
    if not boundaries:
        return learning_rate
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(
    optimizer="sgd", learning_rate=0.01, momentum=0.9, weight_decay=5e-4, schedule=None
):
    """The recipe's optimizer: SGD + momentum (Nesterov off) with decoupled weight decay.

    ``optimizer`` may also be a Keras optimizer name (``"adam"``) or instance (used as is).
    Biases and normalisation parameters are excluded from weight decay.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    rate = schedule if schedule is not None else learning_rate
    wd = weight_decay or None
    if optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate=rate, momentum=momentum, weight_decay=wd)
    else:
        try:
            opt = keras.optimizers.get(
                {"class_name": optimizer, "config": {"learning_rate": rate, "weight_decay": wd}}
            )
        except (ValueError, TypeError) as error:
            raise ValueError(f"Unknown optimizer {optimizer!r}: {error}") from None
    if wd:
        opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "coefficient"])
    return opt


def reproducible(seed=0, op_determinism=False):
    """Seed Python, NumPy, TensorFlow and Keras (``keras.utils.set_random_seed``); call it before
    building the model, so that its initial weights are covered too.

    ``op_determinism=True`` also calls ``tf.config.experimental.enable_op_determinism()``: needed
    for identical runs on GPUs (some GPU kernels add in a varying order); it lasts for the whole
    process and makes the few ops without a deterministic kernel raise. On CPU, seeding is enough
    for identical weights run to run on the same machine. Returns ``seed``.
    """
    seed = check_int("seed", seed, minimum=0)
    keras.utils.set_random_seed(seed)
    if op_determinism:
        tf.config.experimental.enable_op_determinism()
    return seed


class _StopAfterEpoch(keras.callbacks.Callback):
    """Stops training after ``epoch`` epochs as if the process were killed (for resume tests)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.epoch:
            raise KeyboardInterrupt(f"simulated kill after epoch {epoch + 1}")


def train(
    model,
    train_data,
    val_data=None,
    epochs=10,
    batch_size=64,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=5e-4,
    schedule="cosine",
    step_epochs=10,
    step_factor=10.0,
    augment=None,
    loss=None,
    metrics=("accuracy",),
    checkpoint_dir=None,
    tensorboard=False,
    seed=0,
    jit_compile="auto",
    callbacks=(),
    verbose=1,
    compile=True,
    strategy=None,
):
    """Train ``model`` with the seeds' recipe; returns the ``keras.callbacks.History``.

    Args:
        model: a Keras classifier (softmax or logits output: the loss adapts).
        train_data: ``tf.data.Dataset`` of ``(images, labels)`` batches, or ``(x, y)`` arrays.
        val_data: the same, for validation (monitored by the best-model checkpoint and
            ``schedule="plateau"``).
        epochs: number of epochs.
        batch_size: used when data are arrays.
        optimizer: ``"sgd"`` (momentum, the default), any Keras optimizer name or instance.
        learning_rate, momentum, weight_decay: the recipe's settings (decoupled weight decay,
            biases and normalisation parameters excluded).
        schedule: ``"cosine"``, ``"step"`` (divide by ``step_factor`` every ``step_epochs``),
            ``"plateau"`` (reduce on plateau by 10×), ``"constant"`` / ``None``.
        augment: a Keras layer applied to training batches (e.g. ``kerasconv.data.augmentation()``),
            or ``True`` for small random translations.
        loss: default sparse categorical cross-entropy (``from_logits`` set from the model).
        checkpoint_dir: if set, the training state is backed up after every epoch to
            ``checkpoint_dir/backup`` (a killed run called again with the same directory resumes at
            the epoch it reached; a damaged newest backup falls back to the previous one, with a
            warning) and the best model goes to ``checkpoint_dir/best.keras``.
        tensorboard: write TensorBoard logs to ``checkpoint_dir/logs`` (needs ``tensorboard``).
        seed: seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) for shuffling,
            augmentation and dropout. The model's initial weights were drawn when it was built:
            for a reproducible run call ``kerasconv.training.reproducible(seed)`` before building
            it (docs/training.md, "Reproducible runs").
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.
        callbacks: extra Keras callbacks.
        compile: compile the model (set False to keep your own ``model.compile``).
        strategy: a ``tf.distribute`` strategy for distributed training (see docs/scaling.md).

    Raises:
        ValueError: images with NaN or infinite values, or labels outside ``0..classes-1`` (arrays
            are checked before the first step, dataset batches as they are read).
        kerasconv.training.TrainingDivergedError: the loss became NaN or infinite (the message names
            the step).

    Example:
        >>> import kerasconv
        >>> kerasconv.training.reproducible(0)
        >>> model = kerasconv.models.LeNet5(classes=10)
        >>> train = kerasconv.data.load("digits", "train", image_size=32)
        >>> test = kerasconv.data.load("digits", "test", image_size=32)
        >>> history = kerasconv.training.train(model, train, test, epochs=2, verbose=0)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
    momentum = check_float("momentum", momentum, 0.0, 1.0)
    weight_decay = check_float("weight_decay", weight_decay, 0.0)
    check_choice("schedule", schedule, SCHEDULES)
    if strategy is not None:
        from kerasconv.training.distributed import train_distributed

        return train_distributed(
            model,
            train_data,
            val_data=val_data,
            epochs=epochs,
            batch_size=batch_size,
            strategy=strategy,
            learning_rate=learning_rate,
            momentum=momentum,
            loss=loss,
            checkpoint_dir=checkpoint_dir,
            seed=seed,
            verbose=verbose,
        )
    keras.utils.set_random_seed(seed)
    classes = checks.output_classes(model) if loss is None else None
    prepared = {}
    for name, data, shuffle in (("train_data", train_data, True), ("val_data", val_data, False)):
        if data is None:
            prepared[name] = None
            continue
        if is_array_pair(data):
            x, y = as_arrays(data, name)
            checks.check_arrays(x, y, name, classes)
            data = (x, y)
        dataset = as_dataset(data, batch_size, shuffle, seed, name)
        if not is_array_pair(data):
            dataset = checks.checked_dataset(dataset, name, classes)
        prepared[name] = dataset
    train_ds, val_ds = prepared["train_data"], prepared["val_data"]
    if augment is True:
        from kerasconv.data.preprocessing import augmentation

        augment = augmentation(translate=0.1, seed=seed)
    if augment is not None:
        if not callable(augment):
            raise TypeError("augment must be a Keras layer, True or None.")
        train_ds = train_ds.map(
            lambda x, y: (augment(x, training=True), y)
        )  # sequential: random layers draw from one seed state, in batch order (reproducible)

    cardinality = int(train_ds.cardinality())
    steps_per_epoch = cardinality if cardinality > 0 else 100
    if compile:
        lr = _schedule(schedule, learning_rate, epochs, steps_per_epoch, step_epochs, step_factor)
        model.compile(
            optimizer=make_optimizer(optimizer, learning_rate, momentum, weight_decay, lr),
            loss=loss or default_loss(model),
            metrics=list(metrics),
            jit_compile=resolve_jit_compile(jit_compile),
        )
    # Our checkpointing callbacks run first, so that an epoch is backed up before any user
    # callback (or a kill) can interrupt the run.
    callback_list = [checks.StopOnNonFiniteLoss()]
    monitor = "val_loss" if val_ds is not None else "loss"
    if schedule == "plateau":
        callback_list.append(
            keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.1, patience=3)
        )
    if checkpoint_dir is not None:
        checkpoint_dir = os.fspath(checkpoint_dir)
        os.makedirs(checkpoint_dir, exist_ok=True)
        callback_list.append(SafeBackup(os.path.join(checkpoint_dir, "backup")))
        callback_list.append(
            keras.callbacks.ModelCheckpoint(
                os.path.join(checkpoint_dir, "best.keras"), monitor=monitor, save_best_only=True
            )
        )
        if tensorboard:
            try:
                import tensorboard  # noqa: F401
            except ImportError:
                raise ValueError(
                    "tensorboard=True needs the tensorboard package (no longer a TensorFlow "
                    "dependency): pip install 'kerasconv[tensorboard]' or pip install tensorboard."
                ) from None
            callback_list.append(keras.callbacks.TensorBoard(os.path.join(checkpoint_dir, "logs")))
    elif tensorboard:
        raise ValueError("tensorboard=True needs checkpoint_dir (logs go to checkpoint_dir/logs).")
    callback_list.extend(callbacks)
    try:
        return model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=epochs,
            callbacks=callback_list,
            verbose=verbose,
            shuffle=False,  # datasets are shuffled by their own pipelines
        )
    except tf.errors.InvalidArgumentError as error:
        clear = checks.translate_error(error)
        if clear is None:
            raise
        raise clear from None


def steps_for(dataset_size, batch_size):
    return int(math.ceil(dataset_size / batch_size))
