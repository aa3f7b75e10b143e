"""Shared pieces of the attacks: argument checks, the logits of a model, the result type, the
per-model cache of compiled attack loops, and the norm geometry (steepest-ascent directions,
projections onto eps balls, random starts).

Everything that runs per step is written with TensorFlow ops so it can be traced into the attacks'
single ``tf.function`` loops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import numbers
import weakref

import keras
import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import check_float, check_image_batch, check_int, check_labels
from kerasconv.gradients import logits_function

# Values smaller than this are treated as zero when normalising gradients and perturbations.
TINY = 1e-12


# ---------------------------------------------------------------------------------------------
# Result type
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AttackResult:
    """What every gradient attack returns.

    ``x_adv, success = result`` unpacks the two main fields (iteration yields only those two).

    For a scalar ``eps`` the arrays have a leading batch axis: ``x_adv`` ``(batch, H, W, C)``,
    ``success`` ``(batch,)``. For a list of ``eps`` every per-sample array gains a leading eps axis:
    ``x_adv`` ``(len(eps), batch, H, W, C)``, ``success`` ``(len(eps), batch)``, and ``eps`` is the
    array of epsilons in the order given.

    Attributes:
        x_adv: the adversarial images (float32).
        success: bool, per sample: the prediction differs from ``labels`` (untargeted) or equals
            ``labels`` (targeted).
        eps: the budget(s).
        labels: the classes attacked: the true labels given as ``y``, the model's own clean
            predictions when ``y`` was None, or the target classes for a targeted attack.
        clean_predictions: the model's predictions on the clean images ``(batch,)``.
        adversarial_predictions: predictions on ``x_adv`` (same shape as ``success``).
        linf: L∞ norm of each perturbation ``x_adv - x`` (same shape as ``success``).
        l2: L2 norm of each perturbation.
        targeted: whether the attack was targeted.
        norm: the norm of the budget (``np.inf``, 2 or 1).
    """

    x_adv: np.ndarray
    success: np.ndarray
    eps: float | np.ndarray
    labels: np.ndarray
    clean_predictions: np.ndarray
    adversarial_predictions: np.ndarray
    linf: np.ndarray
    l2: np.ndarray
    targeted: bool = False
    norm: float = np.inf

    def __iter__(self):
        yield self.x_adv
        yield self.success

    @property
    def success_rate(self):
        """Share of successful samples (per eps for a list of eps)."""
        return np.mean(self.success, axis=-1)


def make_result(x, x_adv, success, eps, labels, clean_pred, adv_pred, targeted, norm, scalar):
    """Assemble an ``AttackResult`` from arrays with a leading eps axis."""
    x = np.asarray(x, dtype="float32")
    x_adv = np.asarray(x_adv, dtype="float32")
    delta = (x_adv - x[None]).reshape(x_adv.shape[0], x_adv.shape[1], -1)
    linf = np.max(np.abs(delta), axis=-1) if delta.shape[-1] else np.zeros(delta.shape[:2])
    l2 = np.sqrt(np.sum(np.square(delta.astype("float64")), axis=-1)).astype("float32")
    success = np.asarray(success, dtype=bool)
    adv_pred = np.asarray(adv_pred, dtype="int64")
    eps = np.asarray(eps, dtype="float32")
    if scalar:
        x_adv, success, adv_pred, linf, l2 = x_adv[0], success[0], adv_pred[0], linf[0], l2[0]
        eps = float(eps[0])
    return AttackResult(
        x_adv=x_adv,
        success=success,
        eps=eps,
        labels=np.asarray(labels, dtype="int64"),
        clean_predictions=np.asarray(clean_pred, dtype="int64"),
        adversarial_predictions=adv_pred,
        linf=linf.astype("float32"),
        l2=l2,
        targeted=bool(targeted),
        norm=norm,
    )


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def check_norm(norm, allowed=(np.inf, 2)):
    """Accept ``np.inf``/``"inf"``, 2 and (where allowed) 1; returns a float."""
    if isinstance(norm, str) and norm.lower() in ("inf", "linf", "l_inf"):
        norm = np.inf
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool) and float(norm) in allowed:
        return float(norm)
    shown = ", ".join("np.inf" if a == np.inf else str(int(a)) for a in allowed)
    raise ValueError(f"norm must be one of {shown}; got {norm!r}.")


def check_eps(eps, name="eps"):
    """``eps`` as a float32 array of non-negative budgets and whether a scalar was given."""
    if isinstance(eps, (list, tuple, np.ndarray)):
        values = list(np.asarray(eps).reshape(-1)) if isinstance(eps, np.ndarray) else list(eps)
        if not values:
            raise ValueError(f"{name} must be a number or a non-empty list of numbers.")
        checked = [
            check_float(f"{name}[{i}]", _plain(v), minimum=0.0) for i, v in enumerate(values)
        ]
        return np.asarray(checked, dtype="float32"), False
    return np.asarray([check_float(name, _plain(eps), minimum=0.0)], dtype="float32"), True


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def check_eps_iter(eps_iter, eps, nb_iter):
    """Per-eps step sizes: default ``2.5 * eps / nb_iter`` (Madry et al.); each ``<= eps``."""
    if eps_iter is None:
        return (2.5 * eps / nb_iter).astype("float32")
    steps, scalar = check_eps(eps_iter, "eps_iter")
    if scalar:
        steps = np.full_like(eps, steps[0])
    elif steps.shape != eps.shape:
        raise ValueError(
            f"eps_iter must be one number or one per eps ({len(eps)}); got {len(steps)} values."
        )
    for step, budget in zip(steps, eps):
        if budget > 0 and step > budget:
            raise ValueError(
                f"eps_iter ({step:g}) must not exceed eps ({budget:g}): one step would leave the "
                "eps ball and be projected back."
            )
    return steps.astype("float32")


def check_clip(x, clip_min, clip_max, sanity_checks=True):
    """Clip bounds as float32 (``-inf``/``inf`` when None).

    With ``sanity_checks`` (the default) ``x`` must lie inside them; with ``sanity_checks=False``
    (CleverHans' switch of the same name) inputs outside the range are accepted and the results
    are clipped into it.
    """
    low = -np.inf if clip_min is None else check_float("clip_min", _plain(clip_min))
    high = np.inf if clip_max is None else check_float("clip_max", _plain(clip_max))
    if low >= high:
        raise ValueError(f"clip_min ({low}) must be smaller than clip_max ({high}).")
    if not isinstance(sanity_checks, bool):
        raise TypeError(f"sanity_checks must be True or False; got {sanity_checks!r}.")
    if sanity_checks and (np.isfinite(low) or np.isfinite(high)):
        values = x.numpy() if isinstance(x, tf.Tensor) else np.asarray(x)
        x_min, x_max = float(values.min()), float(values.max())
        if x_min < low - 1e-6 or x_max > high + 1e-6:
            raise ValueError(
                f"x has values in [{x_min:g}, {x_max:g}], outside clip range [{low:g}, {high:g}]; "
                "pass sanity_checks=False to attack such inputs anyway (results are clipped)."
            )
    return np.float32(low), np.float32(high)


def check_batch_size(batch_size):
    """Images per compiled call: bounds the working memory of an attack."""
    return check_int("batch_size", batch_size, minimum=1)


def output_dtype(x):
    """The floating dtype the results are returned in: the input's (float16/32/64), else float32."""
    dtype = x.dtype.as_numpy_dtype if isinstance(x, (tf.Tensor, tf.Variable)) else None
    if dtype is None:
        dtype = np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype("float32")


def restore_dtype(x_in, x32, x_adv32, dtype, low, high):
    """Results in the input's dtype: float64 inputs get ``x + (x_adv - x)`` in float64, so that
    ``eps=0`` returns ``x`` exactly; the perturbation itself is computed in float32."""
    if dtype == np.float32:
        return x_adv32
    if dtype == np.float64:
        original = np.asarray(x_in.numpy() if isinstance(x_in, tf.Tensor) else x_in, "float64")
        adv = original + (x_adv32.astype("float64") - np.asarray(x32, "float64"))
        return np.clip(adv, low, high)
    return x_adv32.astype(dtype)


def check_images(x):
    x = check_image_batch("x", x)
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch.")
    return x


# ---------------------------------------------------------------------------------------------
# Models: logits, ensembles and probability detection
# ---------------------------------------------------------------------------------------------


def as_model_list(model):
    """A model, or a list/tuple of models (an ensemble), as a non-empty list."""
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise ValueError("model must be a model or a non-empty list of models.")
    for m in models:
        if not (isinstance(m, keras.Model) or callable(m)):
            raise TypeError(f"model must be a keras.Model or a callable; got {type(m).__name__}.")
    return models


def forward_builder(models, weights=None):
    """A function building ``x -> float32 logits`` (averaged over an ensemble) at trace time.

    The models are held by weak reference where possible, so that caching compiled attacks per
    model does not keep the models alive.
    """
    refs = []
    for m in models:
        try:
            refs.append(weakref.ref(m))
        except TypeError:
            refs.append(lambda m=m: m)
    if weights is None:
        weights = [1.0 / len(models)] * len(models)

    def build():
        heads = [logits_function(ref()) for ref in refs]
        if len(heads) == 1 and float(weights[0]) == 1.0:
            return heads[0]  # one model: its logits as they are (no multiply per pass)

        def forward(x):
            total = None
            for head, weight in zip(heads, weights):
                logits = head(x) * weight
                total = logits if total is None else total + logits
            return total

        return forward

    return build


def check_logits(logits, models):
    """Raise if the outputs look like probabilities (rows non-negative and summing to one)."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(
            f"model must output (batch, classes) logits; got output shape {logits.shape}."
        )
    if logits.shape[1] < 2:
        raise ValueError("model must output at least two class scores.")
    if np.all(logits >= 0) and np.allclose(logits.sum(axis=1), 1.0, atol=1e-3):
        names = ", ".join(getattr(m, "name", type(m).__name__) for m in models)
        raise ValueError(
            f"model ({names}) returns probabilities (non-negative rows summing to 1), not logits: "
            "gradients of probabilities saturate and silently weaken attacks. Pass a Keras model "
            "(its softmax is removed automatically) or a callable returning logits."
        )


def clean_logits(models, x, weights=None):
    """Eager logits on ``x`` (for labels, class count and the probability check)."""
    forward = forward_builder(models, weights)()
    logits = forward(x).numpy()
    check_logits(logits, models)
    return logits


def class_count(models, x, weights=None):
    """Number of classes: from the Keras models' output shapes, without running them; a callable
    is run eagerly on one image (and its output checked for probabilities)."""
    counts = set()
    for m in models:
        outputs = getattr(m, "outputs", None) if isinstance(m, keras.Model) else None
        if outputs and len(outputs) == 1 and outputs[0].shape[-1] is not None:
            if len(outputs[0].shape) != 2:
                raise ValueError(
                    f"model must output (batch, classes) logits; got output shape "
                    f"{tuple(outputs[0].shape)}."
                )
            counts.add(int(outputs[0].shape[-1]))
        else:
            # Run once per (callable, image shape), then remembered: no eager call per attack.
            store = model_cache(m, "attack_classes")
            key = tuple(int(d) for d in x.shape[1:])
            if key not in store:
                store[key] = clean_logits([m], x[:1]).shape[1]
            counts.add(store[key])
    if len(counts) != 1:
        raise ValueError(f"the models of an ensemble must have the same classes; got {counts}.")
    count = counts.pop()
    if count < 2:
        raise ValueError("model must output at least two class scores.")
    return count


def given_labels(y, targeted, batch, num_classes):
    """``y`` as int32 labels, or ``-1`` everywhere for "the model's own clean predictions"
    (resolved inside the compiled attack from the same forward pass). One-hot (or score) rows
    ``(batch, classes)`` are accepted and reduced with argmax."""
    if y is None:
        if targeted:
            raise ValueError("a targeted attack needs y: the target class of each sample.")
        return tf.fill([batch], -1)
    if isinstance(y, (tf.Tensor, tf.Variable)):
        y = y.numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape == (batch, num_classes) and y.dtype.kind in "fiub":
        y = np.argmax(y, axis=1)
    return check_labels("y", y, batch, num_classes)


def resolve_labels(y, targeted, clean_pred, num_classes, batch):
    """Labels attacked: ``y`` (true or target classes) or the model's own predictions."""
    if y is None:
        if targeted:
            raise ValueError("a targeted attack needs y: the target class of each sample.")
        return tf.convert_to_tensor(clean_pred, tf.int32)
    return check_labels("y", y, batch, num_classes)


def mixed_precision(models):
    """Whether any model computes in half precision (then gradients are taken in two stages)."""
    return any(
        isinstance(m, keras.Model) and str(getattr(m, "compute_dtype", "float32")) in HALF
        for m in models
    )


HALF = ("float16", "bfloat16")


def loss_gradient(forward, x, given, sign, rescale, resolve=True):
    """Clean logits, the labels attacked and the gradient of ``sign · cross-entropy`` (traceable).

    ``given < 0`` means "the model's own prediction", taken from this same forward pass, so an
    untargeted attack with ``y=None`` costs no extra forward pass (``resolve=False``: ``given``
    holds the labels already). In float32 this is the plain
    gradient of the summed per-sample loss, as CleverHans takes it. For half-precision models
    (``rescale``) the gradient is taken in two stages so that it does not underflow: first with
    respect to the float32 logits, then each sample's upstream gradient is scaled to a peak of 1
    for the pass through the model and the result is unscaled in float32.
    """
    with tf.GradientTape(persistent=rescale) as tape:
        tape.watch(x)
        logits = forward(x)
        labels = given
        if resolve:
            labels = tf.where(given >= 0, given, tf.argmax(logits, -1, output_type=tf.int32))
        loss = cross_entropy(logits, labels)
        if sign != 1.0:
            loss = sign * loss
    if not rescale:
        gradient = tape.gradient(loss, x)
    else:
        upstream = tape.gradient(loss, logits)
        peak = tf.reduce_max(tf.abs(upstream), axis=1)
        scale = tf.where(peak > 0, 1.0 / tf.maximum(peak, 1e-30), tf.ones_like(peak))
        gradient = tape.gradient(logits, x, output_gradients=upstream * scale[:, None])
        if gradient is not None:
            gradient = gradient / per_sample(scale, gradient)
        del tape
    if gradient is None:  # the logits do not depend on x
        return logits, labels, tf.zeros_like(x)
    return logits, labels, tf.cast(gradient, tf.float32)


def loop_step(step, jit_compile):
    """``step`` as the body of a compiled attack loop: without XLA, a graph function of its own.

    Inside a ``tf.while_loop`` the graph has a cycle, and oneDNN's layout pass (which walks the
    graph in a depth-first order that depends on memory addresses) can reach a ``MaxPoolGrad``
    before its ``MaxPool`` and then keeps the slow Eigen ``MaxPoolGrad``: 15-20% of a PGD step on
    a net with max pooling, varying from run to run. A non-inlined function is an acyclic graph,
    optimised on its own, so forward and backward pass get the same kernels as a flat graph
    (CleverHans's loop inside one ``tf.function``). Under XLA the step is traced inline.
    """
    if jit_compile:
        return step
    return tf.function(step, autograph=False, experimental_attributes={"_noinline": True})


def perturbation_norms(x_adv, x):
    """Per-sample L∞ and L2 norms of ``x_adv - x`` (traceable; leading axes kept)."""
    delta = x_adv - x
    axes = [-3, -2, -1]
    return tf.reduce_max(tf.abs(delta), axis=axes), tf.sqrt(
        tf.reduce_sum(tf.square(delta), axis=axes)
    )


def assemble(x_adv, success, eps, labels, clean_pred, adv_pred, linf, l2, targeted, norm, scalar):
    """An ``AttackResult`` from arrays with a leading eps axis (norms already computed)."""
    if scalar:
        x_adv, success, adv_pred, linf, l2 = x_adv[0], success[0], adv_pred[0], linf[0], l2[0]
        eps = float(eps[0])
    else:
        eps = np.asarray(eps, dtype="float32")
    return AttackResult(
        x_adv=x_adv,
        success=np.asarray(success, dtype=bool),
        eps=eps,
        labels=np.asarray(labels, dtype="int64"),
        clean_predictions=np.asarray(clean_pred, dtype="int64"),
        adversarial_predictions=np.asarray(adv_pred, dtype="int64"),
        linf=np.asarray(linf, dtype="float32"),
        l2=np.asarray(l2, dtype="float32"),
        targeted=bool(targeted),
        norm=norm,
    )


def predict_classes(models, x, batch_size=512, weights=None):
    """Predicted classes of ``x`` in chunks of ``batch_size``, through one cached compiled
    forward pass per (models, image shape)."""
    image_shape = tuple(int(d) for d in x.shape[1:])
    build = forward_builder(models, weights)
    key = ("predict", image_shape, None if weights is None else tuple(weights))

    def make():
        def run(images):
            return tf.argmax(build()(images), -1, output_type=tf.int32)

        spec = [tf.TensorSpec((None,) + image_shape, tf.float32)]
        return tf.function(run, input_signature=spec)

    function = cached(models, key, make)
    x = tf.convert_to_tensor(x, tf.float32)
    return np.concatenate(
        [function(x[i : i + batch_size]).numpy() for i in range(0, int(x.shape[0]), batch_size)]
    ).astype("int64")


# ---------------------------------------------------------------------------------------------
# Compiled-function cache, one entry per (model, settings)
# ---------------------------------------------------------------------------------------------


def cached(models, key, build):
    """The compiled function for ``(models, key)``, built once with ``build()``.

    Cached on the first model (``kerasconv._cache``); for an ensemble the other models' ids are
    part of the key and their deaths drop the entry.
    """
    owner = models[0]
    full_key = (tuple(id(m) for m in models[1:]), key)
    store = model_cache(owner, "attacks")
    if full_key not in store:
        store[full_key] = build()
        for other in models[1:]:
            with contextlib.suppress(TypeError):
                weakref.finalize(other, store.pop, full_key, None)
    return store[full_key]


def compiled_functions(model):
    """The compiled attack functions cached for ``model`` as ``{key: tf.function}``.

    Their ``experimental_get_tracing_count()`` shows that repeated calls do not retrace.
    """
    return dict(model_cache(model, "attacks"))


# ---------------------------------------------------------------------------------------------
# Norm geometry (traceable)
# ---------------------------------------------------------------------------------------------


def per_sample(values, x):
    """Reshape a ``(batch,)`` vector to broadcast against the batch ``x``."""
    rank = x.shape.rank
    if rank is not None:  # a static shape: one Reshape, no shape arithmetic in the loop
        return tf.reshape(values, [-1] + [1] * (rank - 1))
    return tf.reshape(values, tf.concat([tf.shape(values), tf.ones([tf.rank(x) - 1], tf.int32)], 0))


def _flat(x):
    return tf.reshape(x, [tf.shape(x)[0], -1])


def l2_norm(x):
    """Per-sample L2 norms ``(batch,)``."""
    return tf.sqrt(tf.reduce_sum(tf.square(_flat(x)), axis=1))


def steepest_direction(gradient, norm):
    """The unit-norm direction maximising ``<gradient, d>`` in the given norm.

    L∞: ``sign(g)`` (Goodfellow et al. 2015); L2: ``g / ||g||``; L1: all mass on the largest
    ``|g_i|`` (ties share it). A zero gradient gives a zero direction.
    """
    if norm == np.inf:
        return tf.sign(gradient)
    if norm == 2:
        # Rescale by the largest entry first: a saturated softmax gives gradients so small that
        # their squares underflow, and the direction would come out shorter than one.
        largest = tf.reduce_max(tf.abs(_flat(gradient)), axis=1)
        scaled = gradient / per_sample(tf.where(largest > 0, largest, 1.0), gradient)
        return scaled / per_sample(tf.maximum(l2_norm(scaled), TINY), scaled)
    flat = _flat(gradient)
    magnitude = tf.abs(flat)
    largest = tf.reduce_max(magnitude, axis=1, keepdims=True)
    mask = tf.cast(tf.equal(magnitude, largest), gradient.dtype) * tf.cast(
        largest > 0, gradient.dtype
    )
    share = mask / tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
    return tf.reshape(tf.sign(flat) * share, tf.shape(gradient))


def project(delta, eps, norm):
    """Project perturbations onto the eps ball (per-sample ``eps``), exactly.

    L∞: clip each coordinate to ``[-eps, eps]``; L2: scale by ``min(1, eps / ||delta||)``, which
    leaves points inside the ball unchanged and puts points outside on its sphere.
    """
    eps_b = per_sample(eps, delta)
    if norm == np.inf:
        return tf.clip_by_value(delta, -eps_b, eps_b)
    size = per_sample(l2_norm(delta), delta)
    factor = tf.minimum(1.0, eps_b / tf.maximum(size, TINY))
    return delta * factor


def random_in_ball(shape, eps, norm, seed):
    """Uniform samples from the L∞ ball or the L2 ball of radius ``eps`` (stateless)."""
    if norm == np.inf:
        noise = tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
        return noise * per_sample(eps, noise)
    direction = tf.random.stateless_normal(shape, seed)
    direction = direction / per_sample(tf.maximum(l2_norm(direction), TINY), direction)
    dims = tf.cast(tf.reduce_prod(shape[1:]), tf.float32)
    radius = tf.random.stateless_uniform(shape[:1], seed + tf.constant([0, 1], seed.dtype))
    radius = tf.pow(radius, 1.0 / dims) * eps
    return direction * per_sample(radius, direction)


def cross_entropy(logits, labels):
    """Per-sample cross-entropy of logits against integer labels."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32), logits)


def draw_seed(seed):
    """A stateless-random seed tensor ``(2,)``; ``None`` draws one from NumPy's global state."""
    if seed is None:
        seed = int(np.random.randint(0, 2**30))
    elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer or None; got {seed!r}.")
    return tf.constant([int(seed) % (2**30), 0], tf.int32)
