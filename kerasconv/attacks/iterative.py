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
one call by tiling the batch over eps; restarts by tiling it again. Without XLA each step is a
non-inlined graph function called from the loop (``_common.loop_step``: inside the loop's cyclic
graph oneDNN may keep slow kernels), and the iterations run one at a time. Without a random
start the first step's forward pass doubles as the clean pass (clean predictions, and the labels
when ``y`` is None), so an attack of ``nb_iter`` steps costs ``nb_iter`` forward and backward
passes plus one forward pass for the final predictions, the work of CleverHans's loop with
``y=None``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_int, resolve_jit_compile
from kerasconv.attacks import _common as C


def _build_iterative(models, image_shape, classes, norm, targeted, momentum, jit_compile, weights):
    build_forward = C.forward_builder(models, weights)
    sign = -1.0 if targeted else 1.0
    rescale = C.mixed_precision(models)

    def objective(logits, labels):
        return sign * C.cross_entropy(logits, labels)

    def run(
        x_all,
        given_all,
        index,
        eps,
        eps_iter,
        nb_iter,
        clip_min,
        clip_max,
        seed,
        restarts,
        rand_scale,
        decay,
    ):
        forward = build_forward()
        x0 = tf.gather(x_all, index)
        given = tf.gather(given_all, index)
        n = tf.shape(x0)[0]
        x_start = tf.tile(x0, tf.concat([[restarts], tf.ones([3], tf.int32)], 0))
        eps_all = tf.tile(eps, [restarts])
        step_all = C.per_sample(tf.tile(eps_iter, [restarts]), x_start)
        eps_b = C.per_sample(eps_all, x_start)
        low_b = -eps_b
        any_start = tf.reduce_any(rand_scale > 0)
        # Without a random start (BIM, MIM, PGD with rand_init=False) and with x inside the clip
        # range, the first step's forward pass is the clean pass: it gives the clean logits and
        # (y=None) the labels, so the attack costs no extra forward pass. Otherwise a clean pass
        # comes first.
        shared = tf.logical_and(
            tf.logical_not(any_start),
            tf.reduce_all(tf.equal(x0, tf.clip_by_value(x0, clip_min, clip_max))),
        )

        def clean_pass():
            logits = forward(x0)
            return logits, tf.where(given >= 0, given, tf.argmax(logits, -1, output_type=tf.int32))

        clean_logits, labels = tf.cond(
            shared,
            lambda: (tf.zeros([n, classes], tf.float32), given),
            clean_pass,
        )
        y_all = tf.tile(labels, [restarts])

        # Restart r draws its start from seed (s, 2r): the same start whatever the restart count,
        # so more restarts can only add successes.
        def start(r):
            return C.random_in_ball(tf.shape(x0), eps, norm, seed + tf.stack([0, 2 * r]))

        def random_start():
            noise = tf.map_fn(start, tf.range(restarts), fn_output_signature=tf.float32)
            scale_all = C.per_sample(tf.tile(rand_scale, [restarts]), x_start)
            noise = tf.reshape(noise, tf.shape(x_start)) * scale_all
            return tf.clip_by_value(x_start + noise, clip_min, clip_max)

        # BIM, MIM and PGD without a random start begin at x: no noise is drawn.
        x = tf.cond(any_start, random_start, lambda: tf.clip_by_value(x_start, clip_min, clip_max))

        def update(x, velocity, gradient):
            if momentum:
                l1 = tf.reduce_mean(tf.abs(tf.reshape(gradient, [tf.shape(x)[0], -1])), axis=1)
                velocity = decay * velocity + gradient / C.per_sample(
                    tf.maximum(l1, C.TINY), gradient
                )
                gradient = velocity
            # As CleverHans and ART: clip the step to the pixel range, project onto the eps
            # ball, clip again (the order matters for L2 only).
            x = tf.clip_by_value(
                x + step_all * C.steepest_direction(gradient, norm), clip_min, clip_max
            )
            if norm == np.inf:  # C.project's clip, with the per-row bounds shaped once
                x = x_start + tf.clip_by_value(x - x_start, low_b, eps_b)
            else:
                x = x_start + C.project(x - x_start, eps_all, norm)
            return tf.clip_by_value(x, clip_min, clip_max), velocity

        def step(x, velocity):
            _, _, gradient = C.loss_gradient(forward, x, y_all, sign, rescale, False)
            return update(x, velocity, gradient)

        def first_step(x, velocity, given_all_rows):
            # given_all_rows < 0 (y=None, shared pass): the labels come from this forward pass.
            logits, rows_labels, gradient = C.loss_gradient(
                forward, x, given_all_rows, sign, rescale
            )
            x, velocity = update(x, velocity, gradient)
            return x, velocity, tf.cast(logits[:n], tf.float32), rows_labels[:n]

        step = C.loop_step(step, jit_compile)
        first_step = C.loop_step(first_step, jit_compile)
        velocity = tf.zeros_like(x) if momentum else tf.zeros([0], tf.float32)
        x, velocity, first_logits, first_labels = first_step(
            x, velocity, tf.tile(labels, [restarts])
        )
        clean_logits = tf.where(shared, first_logits, clean_logits)
        labels = tf.where(shared, first_labels, labels)
        y_all = tf.tile(labels, [restarts])
        for _ in tf.range(nb_iter - 1):
            # Each step needs the previous one: running iterations in parallel only adds
            # bookkeeping (about 3% of a LeNet step).
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)
            x, velocity = step(x, velocity)
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
        linf, l2 = C.perturbation_norms(x_best, x0)
        return x_best, pred_best, success_best, linf, l2, clean_logits, labels

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),  # all images
        tf.TensorSpec((None,), tf.int32),  # all labels (-1: the model's prediction)
        tf.TensorSpec((None,), tf.int32),  # image of each row of this chunk
        tf.TensorSpec((None,), tf.float32),  # eps per row
        tf.TensorSpec((None,), tf.float32),  # eps_iter per row
        tf.TensorSpec((), tf.int32),  # nb_iter
        tf.TensorSpec((), tf.float32),  # clip_min
        tf.TensorSpec((), tf.float32),  # clip_max
        tf.TensorSpec((2,), tf.int32),  # seed
        tf.TensorSpec((), tf.int32),  # restarts
        tf.TensorSpec((None,), tf.float32),  # random-start scale per row (0: none)
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
    batch_size,
    sanity_checks,
):
    models = C.as_model_list(model)
    norm = C.check_norm(norm)
    dtype = C.output_dtype(x)
    x_in = x
    x = C.check_images(x)
    nb_iter = check_int("nb_iter", nb_iter, minimum=1)
    nb_restarts = check_int("nb_restarts", nb_restarts, minimum=1)
    eps, scalar = C.check_eps(eps)
    steps = C.check_eps_iter(eps_iter, eps, nb_iter)
    clip_min, clip_max = C.check_clip(x, clip_min, clip_max, sanity_checks)
    decay_factor = C.check_float("decay_factor", decay_factor, minimum=0.0) if momentum else 0.0
    batch_size = C.check_batch_size(batch_size)
    jit = resolve_jit_compile(jit_compile)
    batch = int(x.shape[0])
    classes = C.class_count(models, x, model_weights)
    given = C.given_labels(y, targeted, batch, classes)
    image_shape = tuple(x.shape[1:])
    weights_key = None if model_weights is None else tuple(float(w) for w in model_weights)
    key = ("iterative", image_shape, norm, bool(targeted), bool(momentum), jit, weights_key)
    function = C.cached(
        models,
        key,
        lambda: _build_iterative(
            models, image_shape, classes, norm, targeted, momentum, jit, model_weights
        ),
    )
    n_eps = len(eps)
    # Rows are (eps, image) pairs, attacked in chunks of batch_size // nb_restarts rows: one
    # compiled call per chunk whatever the number of eps, and memory bounded by batch_size.
    eps_rows = np.repeat(eps, batch)
    step_rows = np.repeat(steps, batch)
    # A random start only where it can be followed by steps: with eps_iter = 0 (or eps = 0) the
    # attack returns x, as CleverHans does.
    start_rows = np.where((step_rows > 0) & (eps_rows > 0), 1.0 if rand_init else 0.0, 0.0)
    image_rows = np.tile(np.arange(batch, dtype="int32"), n_eps)
    total = batch * n_eps
    x_adv = np.empty((total,) + image_shape, "float32")
    predictions = np.empty((total,), "int64")
    success = np.empty((total,), bool)
    linf = np.empty((total,), "float32")
    l2 = np.empty((total,), "float32")
    logits = np.empty((batch, classes), "float32")
    labels = np.empty((batch,), "int64")
    seed_tensor = C.draw_seed(seed)
    chunk = max(1, batch_size // nb_restarts)
    for begin in range(0, total, chunk):
        end = min(total, begin + chunk)
        out = function(
            x,
            given,
            tf.constant(image_rows[begin:end]),
            tf.constant(eps_rows[begin:end]),
            tf.constant(step_rows[begin:end]),
            tf.constant(nb_iter, tf.int32),
            clip_min,
            clip_max,
            seed_tensor + tf.constant([begin, 0], tf.int32),
            tf.constant(nb_restarts, tf.int32),
            tf.constant(start_rows[begin:end].astype("float32")),
            tf.constant(decay_factor, tf.float32),
        )
        x_adv[begin:end] = out[0].numpy()
        predictions[begin:end] = out[1].numpy()
        success[begin:end] = out[2].numpy()
        linf[begin:end] = out[3].numpy()
        l2[begin:end] = out[4].numpy()
        if begin < batch:
            rows = slice(begin, min(end, batch))
            logits[rows] = out[5].numpy()[: rows.stop - begin]
            labels[rows] = out[6].numpy()[: rows.stop - begin]
            if begin == 0:
                C.check_logits(logits[rows], models)
    x_adv = C.restore_dtype(
        x_in, x, x_adv.reshape((n_eps, batch) + image_shape), dtype, clip_min, clip_max
    )
    return C.assemble(
        x_adv,
        success.reshape(n_eps, batch),
        eps,
        labels,
        np.argmax(logits, axis=-1),
        predictions.reshape(n_eps, batch),
        linf.reshape(n_eps, batch),
        l2.reshape(n_eps, batch),
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
    batch_size=256,
    sanity_checks=True,
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
        rand_init: start from a uniformly random point of the eps ball (not where eps_iter or
            eps is 0: then the attack returns x, as CleverHans does).
        nb_restarts: independent random starts; each sample keeps its best (successful first,
            then highest loss). Restart ``r`` is the same whatever ``nb_restarts`` is, so more
            restarts never lower success.
        seed: integer seed of the random starts (None: drawn from NumPy's global state).
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.
        model_weights: ensemble weights (default equal).
        batch_size: rows (image × eps × restart) per compiled call: bounds the working memory
            whatever the number of images; a chunk holds ``max(1, batch_size // nb_restarts)``
            (image, eps) pairs.
        sanity_checks: refuse ``x`` outside ``[clip_min, clip_max]`` (default); False attacks
            such inputs anyway, clipping every iterate (CleverHans' ``sanity_checks``).

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
        batch_size,
        sanity_checks,
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
    batch_size=256,
    sanity_checks=True,
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
        batch_size,
        sanity_checks,
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
    batch_size=256,
    sanity_checks=True,
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
        batch_size,
        sanity_checks,
    )
