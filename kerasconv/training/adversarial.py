"""Adversarial training (Madry, Makelov, Schmidt, Tsipras & Vladu 2018; Wong, Rice & Kolter 2020).

``AdversarialModel`` wraps a classifier and overrides ``train_step``: every training batch is
replaced (all of it, or ``1 - clean_fraction`` of it) by adversarial examples crafted against the
current weights inside the compiled step — PGD from a random start (Madry et al.) or a single
FGSM step from a random start with step ``1.25 · eps`` ("fast is better than free", Wong et al.).
It is an ordinary Keras model: ``compile``/``fit`` with callbacks, checkpoints and distribution
strategies work as usual; ``predict``/``evaluate`` and ``call`` run the wrapped model.

Example:
    >>> model = kerasconv.models.LeNet5(classes=10)
    >>> robust = kerasconv.training.AdversarialModel(model, eps=0.2, attack="pgd", nb_iter=7)
    >>> robust.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> robust.fit(x_train, y_train, epochs=5)
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.attacks import _common as C
from kerasconv.gradients import logits_function, score_and_gradient


def _integer_labels(y):
    """Integer labels ``(batch,)`` from integer labels ``(batch,)``/``(batch, 1)`` or one-hot rows
    ``(batch, classes)`` (the attack needs the class index; the loss sees ``y`` as given)."""
    y = tf.convert_to_tensor(y)
    rank = y.shape.rank
    if rank == 2 and y.shape[-1] is not None and y.shape[-1] > 1:
        return tf.argmax(y, axis=-1, output_type=tf.int32)
    if rank is None or rank > 2 or (rank == 2 and y.shape[-1] != 1):
        raise ValueError(
            "AdversarialModel needs integer labels (batch,) or (batch, 1), or one-hot labels "
            f"(batch, classes); got labels of shape {y.shape}."
        )
    return tf.reshape(tf.cast(y, tf.int32), [-1])


@keras.saving.register_keras_serializable(package="kerasconv")
class AdversarialModel(keras.Model):
    """Train ``model`` on adversarial examples (PGD or FGSM with random start).

    Args:
        model: the Keras classifier to make robust (softmax or logits output).
        eps: L∞ budget of the training attack.
        attack: ``"pgd"`` (Madry et al.) or ``"fgsm"`` (random start then one step of
            ``eps_iter``, default ``1.25 · eps``; Wong et al. 2020).
        nb_iter: PGD steps.
        eps_iter: step size (PGD default ``min(1, 2.5 / nb_iter) · eps``).
        clean_fraction: share of each batch left clean (0: all adversarial, as Madry et al.).
        clip_min, clip_max: pixel range.

    Labels may be integer classes (with ``sparse_categorical_crossentropy``) or one-hot rows
    (with ``categorical_crossentropy``): the attack uses their class index, the loss sees them
    as given.
    """

    def __init__(
        self,
        model,
        eps=0.3,
        attack="pgd",
        nb_iter=7,
        eps_iter=None,
        clean_fraction=0.0,
        clip_min=0.0,
        clip_max=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
        self.model = model
        self.eps = check_float("eps", eps, 0.0)
        self.attack = check_choice("attack", attack, ("pgd", "fgsm"))
        self.nb_iter = check_int("nb_iter", nb_iter, minimum=1)
        if eps_iter is None:
            factor = 1.25 if attack == "fgsm" else min(1.0, 2.5 / self.nb_iter)
            eps_iter = factor * self.eps
        self.eps_iter = check_float("eps_iter", eps_iter, 0.0)
        if attack == "pgd" and self.eps_iter > self.eps:
            raise ValueError(f"eps_iter ({self.eps_iter}) must not exceed eps ({self.eps}).")
        self.clean_fraction = check_float("clean_fraction", clean_fraction, 0.0, 1.0)
        self.clip_min = check_float("clip_min", clip_min)
        self.clip_max = check_float("clip_max", clip_max)
        if self.clip_min >= self.clip_max:
            raise ValueError("clip_min must be smaller than clip_max.")
        # A plain closure (not an attribute Keras tracks): it shares the model's weights.
        self._logits = [logits_function(model)]

    def call(self, inputs, training=False):
        return self.model(inputs, training=training)

    def adversarial_examples(self, x, y):
        """Adversarial versions of ``x`` against the current weights (traceable)."""
        x = tf.cast(x, tf.float32)
        y = _integer_labels(y)
        forward = self._logits[0]
        eps = tf.fill(tf.shape(x)[:1], tf.constant(self.eps, tf.float32))
        seed = tf.cast(tf.random.uniform([2], 0, 2**30, dtype=tf.int64, seed=None), tf.int32)
        delta = C.random_in_ball(tf.shape(x), eps, np.inf, seed)
        x_adv = tf.clip_by_value(x + delta, self.clip_min, self.clip_max)
        steps = 1 if self.attack == "fgsm" else self.nb_iter

        def step(i, x_adv):
            _, gradient = score_and_gradient(forward, x_adv, y, C.cross_entropy)
            x_adv = x_adv + self.eps_iter * tf.sign(gradient)
            x_adv = x + C.project(x_adv - x, eps, np.inf)
            return i + 1, tf.clip_by_value(x_adv, self.clip_min, self.clip_max)

        # An explicit while loop: Keras traces train_step without AutoGraph.
        _, x_adv = tf.while_loop(lambda i, _: i < steps, step, (tf.constant(0), x_adv))
        return tf.stop_gradient(x_adv)

    def _mixed_batch(self, x, y):
        x_adv = self.adversarial_examples(x, y)
        if self.clean_fraction <= 0:
            return x_adv
        keep_clean = tf.random.uniform(tf.shape(x)[:1]) < self.clean_fraction
        return tf.where(C.per_sample(keep_clean, x), tf.cast(x, tf.float32), x_adv)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x_train = self._mixed_batch(x, y)
        with tf.GradientTape() as tape:
            y_pred = self(x_train, training=True)
            loss = self.compute_loss(
                x=x_train, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            scaled = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(scaled, weights)
        self.optimizer.apply(gradients, weights)
        tracker = getattr(self, "_loss_tracker", None)
        if tracker is not None:  # what Keras' own train_step does, so "loss" is logged
            tracker.update_state(loss, sample_weight=tf.shape(x_train)[0])
        return self.compute_metrics(x_train, y, y_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "model": keras.saving.serialize_keras_object(self.model),
                "eps": self.eps,
                "attack": self.attack,
                "nb_iter": self.nb_iter,
                "eps_iter": self.eps_iter,
                "clean_fraction": self.clean_fraction,
                "clip_min": self.clip_min,
                "clip_max": self.clip_max,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)
