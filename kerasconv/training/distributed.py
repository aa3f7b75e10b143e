"""Distributed training that works with every ``tf.distribute`` strategy, multi-worker included.

Keras 3's ``model.fit`` works under ``MirroredStrategy`` but fails on a real multi-worker cluster
(keras-team/keras issue 20585: ``strategy.reduce`` on per-replica values in ``_maybe_symbolic_build``,
then "Invalid reduction dimension 0" on scalar logs). kerasconv therefore trains distributed models with
its own loop: ``strategy.run`` on a compiled step, gradients all-reduced by the Keras optimizer, the loss
averaged over the global batch with ``tf.nn.compute_average_loss``. One path for ``MirroredStrategy``
(several GPUs on a host), ``MultiWorkerMirroredStrategy`` (several hosts, configured by ``TF_CONFIG``)
and the default strategy.

The user's model is never touched during training: a replica is built inside ``strategy.scope()``
(``keras.models.clone_model`` plus the same weights) and the trained weights are copied back at the end.
Checkpoints (``checkpoint_dir``) are written by the chief only; other workers write to a temporary
folder, as TensorFlow's multi-worker guide requires, and every worker resumes from the chief's latest
checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import tensorflow as tf

from kerasconv._validation import check_int
from kerasconv.training.common import as_dataset, default_loss, evaluate, is_array_pair


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and not _has_chief())


def _has_chief():
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    return "chief" in config.get("cluster", {})


def _dataset(data, global_batch_size, seed):
    if isinstance(data, tf.data.Dataset) or not is_array_pair(data):
        return as_dataset(data, global_batch_size, True, seed, "train_data")
    # Full global batches only: every replica gets the same share on every step.
    return as_dataset(data, global_batch_size, True, seed, "train_data", drop_remainder=True)


def train_distributed(
    model,
    train_data,
    val_data=None,
    epochs=1,
    batch_size=64,
    strategy=None,
    optimizer=None,
    learning_rate=0.01,
    momentum=0.9,
    loss=None,
    checkpoint_dir=None,
    seed=0,
    verbose=1,
):
    """Train ``model`` under ``strategy`` with a custom ``strategy.run`` loop; returns a History-like
    object (``.history`` dict with per-epoch ``loss`` and, with ``val_data``, ``val_accuracy``).

    Args:
        model: a Keras classifier; its weights are updated in place at the end.
        train_data: ``(x, y)`` arrays (batched into global batches of ``batch_size``) or a
            ``tf.data.Dataset`` of global batches.
        batch_size: the global batch size (split across replicas).
        strategy: any ``tf.distribute.Strategy``; ``None`` uses the default strategy.
        optimizer: a callable returning a Keras optimizer (built inside the strategy's scope);
            default SGD with ``learning_rate`` and ``momentum``.
        loss: a Keras loss; default sparse categorical cross-entropy matching the model's output.
        checkpoint_dir: resume from and save to this folder (chief only; workers use a temp folder).
        seed: seed for weights of the replica's optimizer state and for shuffling.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(
            f"strategy must be a tf.distribute.Strategy; got {type(strategy).__name__}."
        )
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size {batch_size} must be divisible by the {replicas} replicas in sync."
        )
    tf.random.set_seed(seed)

    base_loss = loss or default_loss(model)
    config = base_loss.get_config()
    config["reduction"] = "none"
    per_example_loss = base_loss.__class__.from_config(config)

    with strategy.scope():
        replica = keras.models.clone_model(model)
        replica.set_weights(model.get_weights())
        if optimizer is None:
            opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
        else:
            opt = optimizer() if callable(optimizer) else optimizer
        opt.build(replica.trainable_variables)
        epoch_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = _dataset(train_data, batch_size, seed).with_options(options)
    distributed = strategy.experimental_distribute_dataset(dataset)

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            outputs = tf.cast(replica(images, training=True), tf.float32)
            losses = per_example_loss(labels, outputs)
            value = tf.nn.compute_average_loss(losses, global_batch_size=batch_size)
            if replica.losses:
                value += tf.nn.scale_regularization_loss(tf.add_n(replica.losses))
        gradients = tape.gradient(value, replica.trainable_variables)
        opt.apply_gradients(zip(gradients, replica.trainable_variables))
        return value

    @tf.function
    def train_step(batch):
        per_replica = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    checkpoint = manager = None
    write_dir = None
    if checkpoint_dir is not None:
        checkpoint_dir = os.fspath(checkpoint_dir)
        checkpoint = tf.train.Checkpoint(model=replica, optimizer=opt, epoch=epoch_counter)
        latest = tf.train.latest_checkpoint(checkpoint_dir)
        if latest:
            checkpoint.restore(latest)
        write_dir = (
            checkpoint_dir if _is_chief(strategy) else tempfile.mkdtemp(prefix="kerasconv_worker_")
        )
        manager = tf.train.CheckpointManager(checkpoint, write_dir, max_to_keep=2)

    history = {"loss": []}
    if val_data is not None:
        history["val_accuracy"] = []
    start_epoch = int(epoch_counter.numpy())
    for epoch in range(start_epoch, epochs):
        total, steps = 0.0, 0
        for batch in distributed:
            total += float(train_step(batch))
            steps += 1
        if steps == 0:
            raise ValueError(
                f"train_data gave no full global batch of {batch_size}: use a smaller batch_size."
            )
        history["loss"].append(total / steps)
        epoch_counter.assign(epoch + 1)
        if manager is not None:
            manager.save(checkpoint_number=epoch + 1)
        if val_data is not None:
            history["val_accuracy"].append(evaluate(replica, val_data)["accuracy"])
        if verbose:
            extra = (
                f", val_accuracy {history['val_accuracy'][-1]:.4f}" if val_data is not None else ""
            )
            print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}{extra}")
    if write_dir is not None and write_dir != checkpoint_dir:
        shutil.rmtree(write_dir, ignore_errors=True)
    model.set_weights(replica.get_weights())
    return _History(history)


class _History:
    """What ``model.fit`` returns, as far as kerasconv's tools use it: a ``history`` dict."""

    def __init__(self, history):
        self.history = history
