"""The fast gradient method (Goodfellow, Shlens & Szegedy 2015, "Explaining and harnessing
adversarial examples").

One step of size ``eps`` along the steepest-ascent direction of the loss in the chosen norm:
``x* = x + eps · sign(∇x ℓ(f(x), y))`` for L∞ (FGSM), ``x + eps · g / ||g||₂`` for L2 and, for L1,
all of ``eps`` on the pixel with the largest gradient. Targeted: step down the loss of the target.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import resolve_jit_compile
from kerasconv.attacks import _common as C
from kerasconv.gradients import score_and_gradient


def _build_fgm(models, image_shape, norm, targeted, jit_compile, weights):
    build_forward = C.forward_builder(models, weights)
    sign = -1.0 if targeted else 1.0

    def loss(logits, labels):
        return sign * C.cross_entropy(logits, labels)

    def run(x, labels, eps, clip_min, clip_max):
        forward = build_forward()
        _, gradient = score_and_gradient(forward, x, labels, loss)
        direction = C.steepest_direction(gradient, norm)
        # Every eps shares the one gradient: (eps, batch, H, W, C) by broadcasting.
        steps = tf.reshape(eps, [-1, 1, 1, 1, 1]) * direction[None]
        x_adv = tf.clip_by_value(x[None] + steps, clip_min, clip_max)
        flat = tf.reshape(x_adv, tf.concat([[-1], tf.shape(x)[1:]], 0))
        predictions = tf.argmax(forward(flat), axis=-1, output_type=tf.int32)
        predictions = tf.reshape(predictions, [tf.shape(eps)[0], tf.shape(x)[0]])
        return x_adv, predictions

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.float32),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def fast_gradient_method(
    model,
    x,
    eps,
    norm=np.inf,
    clip_min=None,
    clip_max=None,
    y=None,
    targeted=False,
    jit_compile="auto",
    model_weights=None,
):
    """Fast gradient (sign) method: one step of size ``eps`` (Goodfellow et al. 2015).

    Args:
        model: a Keras classifier (a softmax output is removed automatically so the attack works
            on logits), a callable returning logits, or a list of models (an ensemble: their
            logits are averaged in one graph; Liu et al. 2017).
        x: images ``(batch, H, W, C)``; never modified.
        eps: the budget, or a list of budgets: one call returns results for every eps.
        norm: ``np.inf`` (FGSM), 2 or 1.
        clip_min, clip_max: valid pixel range (e.g. 0 and 1); None for no clipping.
        y: labels to move away from (or, if ``targeted``, the target classes). None uses the
            model's own predictions (no label leaking).
        targeted: minimise the loss of ``y`` instead of maximising it.
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.
        model_weights: weights of the ensemble members' logits (default: equal).

    Returns:
        ``AttackResult`` (``x_adv, success = result`` unpacks the two main fields).

    Example:
        >>> result = kerasconv.attacks.fast_gradient_method(model, x, 0.1, clip_min=0, clip_max=1)
        >>> float(result.success.mean())  # share of samples whose prediction changed
    """
    models = C.as_model_list(model)
    norm = C.check_norm(norm, (np.inf, 2, 1))
    x = C.check_images(x)
    eps, scalar = C.check_eps(eps)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    jit = resolve_jit_compile(jit_compile)
    logits = C.clean_logits(models, x, model_weights)
    clean_pred = np.argmax(logits, axis=-1)
    labels = C.resolve_labels(y, targeted, clean_pred, logits.shape[1], x.shape[0])
    key = ("fgm", tuple(x.shape[1:]), norm, bool(targeted), jit, _weights_key(model_weights))
    function = C.cached(
        models,
        key,
        lambda: _build_fgm(models, tuple(x.shape[1:]), norm, targeted, jit, model_weights),
    )
    x_adv, predictions = function(x, labels, tf.constant(eps), clip_min, clip_max)
    predictions = predictions.numpy()
    labels_np = labels.numpy()
    success = predictions == labels_np[None] if targeted else predictions != labels_np[None]
    return C.make_result(
        x.numpy(),
        x_adv.numpy(),
        success,
        eps,
        labels_np,
        clean_pred,
        predictions,
        targeted,
        norm,
        scalar,
    )


def _weights_key(weights):
    return None if weights is None else tuple(float(w) for w in weights)
