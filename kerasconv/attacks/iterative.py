"""Iterative gradient attacks.

* ``projected_gradient_descent`` (Madry, Makelov, Schmidt, Tsipras & Vladu 2018): from a random
  start in the eps ball, repeat ``x ← Π(x + eps_iter · steepest direction)`` in L∞ or L2; with
  restarts, each sample keeps its best result.
* ``basic_iterative_method`` (Kurakin, Goodfellow & Bengio 2017): the same without random start.
* ``momentum_iterative_method`` (Dong et al. 2018): accumulates ``g ← μ g + ∇ / ||∇||₁`` and steps
  along the accumulated direction.

Non-targeted attacks maximise ``ℓ(f(x*), y)``; targeted ones minimise ``ℓ(f(x*), y*)`` (the seeds'
two formulations), both subject to ``||x* - x|| ≤ eps`` and the clip range.

All steps run in ONE ``tf.function`` over ``tf.range(nb_iter)``, compiled once per (model, norm,
targeted, momentum, image shape): eps, step size, iteration count, restarts and seed are tensor
arguments, so new values, new data and new batch sizes never retrace. Several eps are attacked in
one call by tiling the batch over eps; restarts by tiling it again.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_int, resolve_jit_compile
from kerasconv.attacks import _common as C
from kerasconv.gradients import score_and_gradient

_MAX_CHUNK = 2048  # images per compiled call (after tiling over eps and restarts)


def _build_iterative(models, image_shape, norm, targeted, momentum, jit_compile, weights):
    build_forward = C.forward_builder(models, weights)
    sign = -1.0 if targeted else 1.0

    def objective(logits, labels):
        return sign * C.cross_entropy(logits, labels)

    def run(
        x0, labels, eps, eps_iter, nb_iter, clip_min, clip_max, seed, restarts, rand_scale, decay
    ):
        forward = build_forward()
        n = tf.shape(x0)[0]
        x_start = tf.tile(x0, tf.concat([[restarts], tf.ones([3], tf.int32)], 0))
        y_all = tf.tile(labels, [restarts])
        eps_all = tf.tile(eps, [restarts])
        step_all = C.per_sample(tf.tile(eps_iter, [restarts]), x_start)

        # Restart r draws its start from seed (s, 2r): the same start whatever the restart count,
        # so more restarts can only add successes.
        def start(r):
            return C.random_in_ball(tf.shape(x0), eps, norm, seed + tf.stack([0, 2 * r]))

        noise = tf.map_fn(start, tf.range(restarts), fn_output_signature=tf.float32)
        noise = tf.reshape(noise, tf.shape(x_start)) * rand_scale
        x = tf.clip_by_value(x_start + noise, clip_min, clip_max)
        velocity = tf.zeros_like(x)
        for _ in tf.range(nb_iter):
            _, gradient = score_and_gradient(forward, x, y_all, objective)
            if momentum:
                l1 = tf.reduce_mean(tf.abs(tf.reshape(gradient, [tf.shape(x)[0], -1])), axis=1)
                velocity = decay * velocity + gradient / C.per_sample(
                    tf.maximum(l1, C.TINY), gradient
                )
                gradient = velocity
            x = x + step_all * C.steepest_direction(gradient, norm)
            x = x_start + C.project(x - x_start, eps_all, norm)
            x = tf.clip_by_value(x, clip_min, clip_max)
        logits = forward(x)
        predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
        success = tf.equal(predictions, y_all) if targeted else tf.not_equal(predictions, y_all)
        # Each sample keeps its best restart: a success first, then the highest objective.
        merit = objective(logits, y_all) + 1e6 * tf.cast(success, tf.float32)
        best = tf.argmax(tf.reshape(merit, [restarts, n]), axis=0, output_type=tf.int32)
        pick = tf.stack([best, tf.range(n)], axis=1)
        x_best = tf.gather_nd(tf.reshape(x, tf.concat([[restarts, n], tf.shape(x0)[1:]], 0)), pick)
        pred_best = tf.gather_nd(tf.reshape(predictions, [restarts, n]), pick)
        success_best = tf.gather_nd(tf.reshape(success, [restarts, n]), pick)
        return x_best, success_best, pred_best

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),  # x0
        tf.TensorSpec((None,), tf.int32),  # labels
        tf.TensorSpec((None,), tf.float32),  # eps per sample
        tf.TensorSpec((None,), tf.float32),  # eps_iter per sample
        tf.TensorSpec((), tf.int32),  # nb_iter
        tf.TensorSpec((), tf.float32),  # clip_min
        tf.TensorSpec((), tf.float32),  # clip_max
        tf.TensorSpec((2,), tf.int32),  # seed
        tf.TensorSpec((), tf.int32),  # restarts
        tf.TensorSpec((), tf.float32),  # random-start scale (0: none)
        tf.TensorSpec((), tf.float32),  # momentum decay
    ]
    return tf.function(run, input_signature=signature, jit_compile=jit_compile)


def _iterative(
    model,
    x,
    eps,
    eps_iter,
    nb_iter,
    norm,
    clip_min,
    clip_max,
    y,
    targeted,
    rand_init,
    nb_restarts,
    momentum,
    decay_factor,
    seed,
    jit_compile,
    model_weights,
):
    models = C.as_model_list(model)
    norm = C.check_norm(norm)
    x = C.check_images(x)
    nb_iter = check_int("nb_iter", nb_iter, minimum=1)
    nb_restarts = check_int("nb_restarts", nb_restarts, minimum=1)
    eps, scalar = C.check_eps(eps)
    steps = C.check_eps_iter(eps_iter, eps, nb_iter)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max)
    decay_factor = C.check_float("decay_factor", decay_factor, minimum=0.0) if momentum else 0.0
    jit = resolve_jit_compile(jit_compile)
    logits = C.clean_logits(models, x, model_weights)
    clean_pred = np.argmax(logits, axis=-1)
    labels = C.resolve_labels(y, targeted, clean_pred, logits.shape[1], x.shape[0])
    image_shape = tuple(x.shape[1:])
    weights_key = None if model_weights is None else tuple(float(w) for w in model_weights)
    key = ("iterative", image_shape, norm, bool(targeted), bool(momentum), jit, weights_key)
    function = C.cached(
        models,
        key,
        lambda: _build_iterative(models, image_shape, norm, targeted, momentum, jit, model_weights),
    )
    batch = int(x.shape[0])
    n_eps = len(eps)
    # Tile the batch over eps: one compiled call attacks every budget.
    x_tiled = tf.tile(x, [n_eps, 1, 1, 1])
    labels_tiled = tf.tile(labels, [n_eps])
    eps_tiled = tf.constant(np.repeat(eps, batch))
    steps_tiled = tf.constant(np.repeat(steps, batch))
    seed_tensor = C.draw_seed(seed)
    chunk = max(1, _MAX_CHUNK // nb_restarts)
    outputs = []
    total = batch * n_eps
    for begin in range(0, total, chunk):
        end = min(total, begin + chunk)
        outputs.append(
            function(
                x_tiled[begin:end],
                labels_tiled[begin:end],
                eps_tiled[begin:end],
                steps_tiled[begin:end],
                tf.constant(nb_iter, tf.int32),
                clip_min,
                clip_max,
                seed_tensor + tf.constant([begin, 0], tf.int32),
                tf.constant(nb_restarts, tf.int32),
                tf.constant(1.0 if rand_init else 0.0),
                tf.constant(decay_factor, tf.float32),
            )
        )
    x_adv = np.concatenate([o[0].numpy() for o in outputs]).reshape((n_eps, batch) + image_shape)
    success = np.concatenate([o[1].numpy() for o in outputs]).reshape(n_eps, batch)
    predictions = np.concatenate([o[2].numpy() for o in outputs]).reshape(n_eps, batch)
    return C.make_result(
        x.numpy(),
        x_adv,
        success,
        eps,
        labels.numpy(),
        clean_pred,
        predictions,
        targeted,
        norm,
        scalar,
    )


def projected_gradient_descent(
    model,
    x,
    eps,
    eps_iter=None,
    nb_iter=40,
    norm=np.inf,
    clip_min=None,
    clip_max=None,
    y=None,
    targeted=False,
    rand_init=True,
    nb_restarts=1,
    seed=None,
    jit_compile="auto",
    model_weights=None,
):
    """Projected gradient descent, L∞ or L2 (Madry et al. 2018).

    Args:
        model: a Keras classifier (softmax removed automatically), a callable returning logits, or
            a list of models (an ensemble attacked through its averaged logits; Liu et al. 2017).
        x: images ``(batch, H, W, C)``; never modified.
        eps: budget or list of budgets (results for each, in one call).
        eps_iter: step size, one per eps or one for all; default ``2.5 * eps / nb_iter``.
            Must not exceed eps.
        nb_iter: number of steps.
        norm: ``np.inf`` or 2.
        clip_min, clip_max: valid pixel range (None: unbounded).
        y: true labels (or target classes if ``targeted``); None uses the model's predictions.
        targeted: minimise the loss of the target class ``y``.
        rand_init: start from a uniformly random point of the eps ball.
        nb_restarts: independent random starts; each sample keeps its best (successful first,
            then highest loss). Restart ``r`` is the same whatever ``nb_restarts`` is, so more
            restarts never lower success.
        seed: integer seed of the random starts (None: drawn from NumPy's global state).
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.
        model_weights: ensemble weights (default equal).

    Returns:
        ``AttackResult``.

    Example:
        >>> result = kerasconv.attacks.projected_gradient_descent(
        ...     model, x, eps=[0.1, 0.2], eps_iter=0.02, nb_iter=20, clip_min=0, clip_max=1)
        >>> result.x_adv.shape  # (2, batch, H, W, C): one adversarial batch per eps
    """
    return _iterative(
        model,
        x,
        eps,
        eps_iter,
        nb_iter,
        norm,
        clip_min,
        clip_max,
        y,
        targeted,
        rand_init,
        nb_restarts,
        False,
        0.0,
        seed,
        jit_compile,
        model_weights,
    )


def basic_iterative_method(
    model,
    x,
    eps,
    eps_iter=None,
    nb_iter=10,
    norm=np.inf,
    clip_min=None,
    clip_max=None,
    y=None,
    targeted=False,
    jit_compile="auto",
    model_weights=None,
):
    """Basic iterative method (Kurakin et al. 2017): PGD from ``x`` itself, no random start.

    Arguments as ``projected_gradient_descent``. Returns an ``AttackResult``.
    """
    return _iterative(
        model,
        x,
        eps,
        eps_iter,
        nb_iter,
        norm,
        clip_min,
        clip_max,
        y,
        targeted,
        False,
        1,
        False,
        0.0,
        0,
        jit_compile,
        model_weights,
    )


def momentum_iterative_method(
    model,
    x,
    eps,
    eps_iter=None,
    nb_iter=10,
    norm=np.inf,
    decay_factor=1.0,
    clip_min=None,
    clip_max=None,
    y=None,
    targeted=False,
    jit_compile="auto",
    model_weights=None,
):
    """Momentum iterative method (Dong et al. 2018, "Boosting adversarial attacks with momentum").

    ``g ← decay_factor · g + ∇ / mean|∇|``, then a step of ``eps_iter`` along ``g``'s
    steepest direction, projected onto the eps ball; no random start. Other arguments as
    ``projected_gradient_descent``. Returns an ``AttackResult``.
    """
    return _iterative(
        model,
        x,
        eps,
        eps_iter,
        nb_iter,
        norm,
        clip_min,
        clip_max,
        y,
        targeted,
        False,
        1,
        True,
        decay_factor,
        0,
        jit_compile,
        model_weights,
    )
