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


def _build_fgm(models, image_shape, norm, targeted, jit_compile, weights):
    build_forward = C.forward_builder(models, weights)
    sign = -1.0 if targeted else 1.0
    rescale = C.mixed_precision(models)

    def run(x_all, given_all, index, eps, clip_min, clip_max):
        forward = build_forward()
        x = tf.gather(x_all, index)
        given = tf.gather(given_all, index)
        # One forward pass gives the clean logits, the labels (y=None) and the gradient.
        logits, labels, gradient = C.loss_gradient(forward, x, given, sign, rescale)
        direction = C.steepest_direction(gradient, norm)
        # Every eps shares the one gradient: (eps, batch, H, W, C) by broadcasting.
        steps = tf.reshape(eps, [-1, 1, 1, 1, 1]) * direction[None]
        x_adv = tf.clip_by_value(x[None] + steps, clip_min, clip_max)
        flat = tf.reshape(x_adv, tf.concat([[-1], tf.shape(x)[1:]], 0))
        predictions = tf.argmax(forward(flat), axis=-1, output_type=tf.int32)
        predictions = tf.reshape(predictions, [tf.shape(eps)[0], tf.shape(x)[0]])
        if targeted:
            success = tf.equal(predictions, labels[None])
        else:
            success = tf.not_equal(predictions, labels[None])
        linf, l2 = C.perturbation_norms(x_adv, x[None])
        return x_adv, predictions, success, linf, l2, logits, labels

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),  # all images
        tf.TensorSpec((None,), tf.int32),  # all labels (-1: the model's prediction)
        tf.TensorSpec((None,), tf.int32),  # the images of this chunk
        tf.TensorSpec((None,), tf.float32),  # eps
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
    batch_size=256,
    sanity_checks=True,
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
        batch_size: images per compiled call, over all eps (a chunk holds
            ``max(1, batch_size // len(eps))`` images): bounds the working memory whatever the
            number of images.
        sanity_checks: refuse ``x`` outside ``[clip_min, clip_max]`` (default); False attacks
            such inputs anyway and clips the results (CleverHans' ``sanity_checks``).

    Returns:
        ``AttackResult`` (``x_adv, success = result`` unpacks the two main fields).

    Example:
        >>> result = kerasconv.attacks.fast_gradient_method(model, x, 0.1, clip_min=0, clip_max=1)
        >>> float(result.success.mean())  # share of samples whose prediction changed
    """
    models = C.as_model_list(model)
    norm = C.check_norm(norm, (np.inf, 2, 1))
    dtype = C.output_dtype(x)
    x_in = x
    x = C.check_images(x)
    eps, scalar = C.check_eps(eps)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max, sanity_checks)
    batch_size = C.check_batch_size(batch_size)
    jit = resolve_jit_compile(jit_compile)
    batch = int(x.shape[0])
    classes = C.class_count(models, x, model_weights)
    given = C.given_labels(y, targeted, batch, classes)
    image_shape = tuple(x.shape[1:])
    key = ("fgm", image_shape, norm, bool(targeted), jit, _weights_key(model_weights))
    function = C.cached(
        models,
        key,
        lambda: _build_fgm(models, image_shape, norm, targeted, jit, model_weights),
    )
    n_eps = len(eps)
    x_adv = np.empty((n_eps, batch) + image_shape, "float32")
    predictions = np.empty((n_eps, batch), "int64")
    success = np.empty((n_eps, batch), bool)
    linf = np.empty((n_eps, batch), "float32")
    l2 = np.empty((n_eps, batch), "float32")
    logits = np.empty((batch, classes), "float32")
    labels = np.empty((batch,), "int64")
    eps_tensor = tf.constant(eps)
    chunk = max(1, batch_size // n_eps)
    for begin in range(0, batch, chunk):
        end = min(batch, begin + chunk)
        out = function(x, given, tf.range(begin, end), eps_tensor, clip_min, clip_max)
        x_adv[:, begin:end] = out[0].numpy()
        predictions[:, begin:end] = out[1].numpy()
        success[:, begin:end] = out[2].numpy()
        linf[:, begin:end] = out[3].numpy()
        l2[:, begin:end] = out[4].numpy()
        logits[begin:end] = out[5].numpy()
        labels[begin:end] = out[6].numpy()
        if begin == 0:
            C.check_logits(logits[begin:end], models)
    x_adv = C.restore_dtype(x_in, x, x_adv, dtype, clip_min, clip_max)
    return C.assemble(
        x_adv,
        success,
        eps,
        labels,
        np.argmax(logits, axis=-1),
        predictions,
        linf,
        l2,
        targeted,
        norm,
        scalar,
    )


def _weights_key(weights):
    return None if weights is None else tuple(float(w) for w in weights)
