"""Loss landscapes: the loss as a function of the weights, along lines and over planes.

* **Linear interpolation** (Goodfellow, Vinyals & Saxe 2014, "Qualitatively characterizing neural
  network optimization problems"): the loss of ``(1 - alpha) theta_0 + alpha theta_1`` between the
  initial and the trained weights (a smooth, monotone curve: no local minima on the way) or between
  two solutions (a bump between two minima). :func:`interpolate_loss`.
* **2-D surfaces with filter normalisation** (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing
  the loss landscape of neural nets"): ``L(theta* + a d1 + b d2)`` over a grid, for two random
  Gaussian directions rescaled *filter by filter* to the norm of the model's own filters, so that
  the scale invariance of ReLU networks does not distort sharpness and two networks can be compared
  side by side (ResNet with and without skip connections). :func:`random_directions`,
  :func:`loss_surface`. Biases and batch-norm parameters get a zero direction (the paper's default).

Every grid point is a different weight vector; the points are evaluated in batches inside one
compiled function over ``model.stateless_call`` (vectorised with ``tf.vectorized_map`` on a GPU, a
parallel ``tf.map_fn`` on a CPU, where vectorising costs more to trace than it saves), so the user's
model and its weights are never modified. Batch normalisation runs in inference mode with the
model's moving statistics (interpolation also interpolates those).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_int, resolve_jit_compile
from kerasconv.gradients import ends_in_softmax
from kerasconv.visualize import _synthesis as syn


def _check_model(model):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    if not model.built:
        raise ValueError("model must be built (call it on data or give it an Input).")
    return model


def model_state(model):
    """The model's variables as NumPy arrays: ``(trainable, non_trainable)`` lists, in the order of
    ``model.trainable_variables`` / ``model.non_trainable_variables``."""
    _check_model(model)
    return (
        [np.array(v.numpy()) for v in model.trainable_variables],
        [np.array(v.numpy()) for v in model.non_trainable_variables],
    )


def filter_norms(array):
    """Norm of each filter (output unit) of a kernel: the last axis indexes filters in Keras
    (``Conv2D`` ``(kh, kw, in, out)``, ``Dense`` ``(in, out)``); returns ``(out,)``."""
    array = np.asarray(array)
    return np.linalg.norm(array.reshape(-1, array.shape[-1]), axis=0)


def random_directions(model, count=2, normalization="filter", ignore_bias_and_bn=True, seed=0):
    """Random Gaussian directions in weight space, normalised as Li et al. 2018.

    Args:
        model: the model (its trainable variables set the shapes and norms).
        count: number of directions (2 for a surface, 1 for a line).
        normalization: ``"filter"`` (each filter of the direction gets the norm of the model's
            corresponding filter), ``"layer"`` (each variable gets the variable's norm) or ``None``.
        ignore_bias_and_bn: zero direction for 1-D variables (biases, batch-norm scales/offsets);
            otherwise they get a copy of the weights (Li et al.'s code).
        seed: NumPy seed.

    Returns:
        A list of ``count`` directions, each a list of arrays aligned with
        ``model.trainable_variables``.
    """
    _check_model(model)
    count = check_int("count", count, minimum=1)
    check_choice("normalization", normalization, ("filter", "layer", None))
    rng = np.random.default_rng(check_int("seed", seed))
    weights, _ = model_state(model)
    directions = []
    for _ in range(count):
        direction = []
        for w in weights:
            if w.ndim <= 1:
                direction.append(np.zeros_like(w) if ignore_bias_and_bn else w.copy())
                continue
            d = rng.standard_normal(w.shape).astype(w.dtype)
            if normalization == "filter":
                d = d * (filter_norms(w) / (filter_norms(d) + 1e-10))
            elif normalization == "layer":
                d = d * (np.linalg.norm(w) / (np.linalg.norm(d) + 1e-10))
            direction.append(d)
        directions.append(direction)
    return directions


def _batches(data, batch_size):
    """``(x, y)`` arrays or a ``tf.data`` of ``(x, y)`` batches -> list of (x, y) tensors."""
    if isinstance(data, tf.data.Dataset):
        return [(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y)) for x, y in data]
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError("data must be (x, y) arrays or a tf.data.Dataset of (x, y) batches.")
    x, y = np.asarray(data[0], "float32"), np.asarray(data[1])
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"data must hold matching, non-empty x and y; got {len(x)} and {len(y)}.")
    return [
        (tf.constant(x[i : i + batch_size]), tf.constant(y[i : i + batch_size].astype("int32")))
        for i in range(0, len(x), batch_size)
    ]


class _AffineEvaluator:
    """Loss and accuracy of ``theta(c) = base + sum_k c_k directions_k`` for many ``c`` at once."""

    def __init__(self, model, jit_compile):
        self.model = model
        from_probabilities = ends_in_softmax(model)
        n_trainable = len(model.trainable_variables)

        def one_point(coefficients, base, directions, x, y):
            variables = []
            for index, b in enumerate(base):
                value = b
                for k, direction in enumerate(directions):
                    value = value + coefficients[k] * direction[index]
                variables.append(value)
            outputs, _ = model.stateless_call(
                variables[:n_trainable], variables[n_trainable:], x, training=False
            )
            outputs = tf.cast(outputs, tf.float32)
            losses = _cross_entropy(y, outputs, from_probabilities)
            correct = tf.cast(
                tf.equal(tf.argmax(outputs, axis=-1, output_type=tf.int32), tf.cast(y, tf.int32)),
                tf.float32,
            )
            return tf.stack([tf.reduce_sum(losses), tf.reduce_sum(correct)])

        # On a GPU the grid points are vectorised (tf.vectorized_map turns the per-point weights
        # into batched kernels); on a CPU that conversion costs more to trace than it saves, so the
        # points run as a parallel map in the same single compiled call.
        vectorize = bool(tf.config.list_physical_devices("GPU"))

        def evaluate(points, base, directions, x, y):
            def point(c):
                return one_point(c, base, directions, x, y)

            if vectorize:
                return tf.vectorized_map(point, points)
            return tf.map_fn(point, points, fn_output_signature=tf.float32, parallel_iterations=4)

        self.evaluate = tf.function(evaluate, jit_compile=resolve_jit_compile(jit_compile))
        self.concrete = {}

    def compiled(self, chunk, base, directions, x, y):
        """The concrete function for these argument shapes with the data batch size left open:
        one trace per (number of directions, image shape), so a smaller last batch (or a second
        surface) does not retrace."""
        key = (tuple(chunk.shape), len(directions), tuple(x.shape[1:]), x.dtype, y.dtype)
        if key not in self.concrete:
            spec = tf.TensorSpec.from_tensor
            self.concrete[key] = self.evaluate.get_concrete_function(
                spec(chunk),
                [spec(b) for b in base],
                [[spec(d) for d in direction] for direction in directions],
                tf.TensorSpec((None,) + tuple(x.shape[1:]), x.dtype),
                tf.TensorSpec((None,) + tuple(y.shape[1:]), y.dtype),
            )
        return self.concrete[key]

    def __call__(self, points, base, directions, batches, points_per_batch, progress):
        points = np.asarray(points, "float32")
        base = [tf.constant(b) for b in base]
        directions = [[tf.constant(d) for d in direction] for direction in directions]
        total = sum(int(x.shape[0]) for x, _ in batches)
        sums = np.zeros((len(points), 2), "float64")
        for start in range(0, len(points), points_per_batch):
            chunk = points[start : start + points_per_batch]
            used = len(chunk)
            # Always a full chunk (the last point repeated): one trace for every chunk, and no
            # chunk of one point (tf.vectorized_map mis-broadcasts a bias over a loop of size 1).
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], points_per_batch - used, 0)])
            chunk = tf.constant(chunk)
            for x, y in batches:
                function = self.compiled(chunk, base, directions, x, y)
                values = function(chunk, base, directions, x, y).numpy()
                sums[start : start + used] += values[:used]
            if progress is not None:
                progress(min(start + points_per_batch, len(points)), len(points), {})
        return sums[:, 0] / total, sums[:, 1] / total


def _cross_entropy(y, outputs, from_probabilities):
    y = tf.cast(y, tf.int32)
    if from_probabilities:
        probabilities = tf.gather(outputs, y, axis=1, batch_dims=1)
        return -tf.math.log(tf.clip_by_value(probabilities, 1e-7, 1.0))
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=outputs)


def _evaluator(model, jit_compile):
    return syn.cached(
        model, ("landscape", jit_compile), lambda: _AffineEvaluator(model, jit_compile)
    )


def _state_of(model, source, name):
    """Flat list of arrays (trainable then non-trainable) from a model or ``model_state`` output."""
    import keras

    if isinstance(source, keras.Model):
        trainable, non_trainable = model_state(source)
    else:
        try:
            trainable, non_trainable = source
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a keras.Model or (trainable, non_trainable) weight lists."
            ) from None
    reference = model.trainable_variables + model.non_trainable_variables
    arrays = [np.asarray(a, "float32") for a in list(trainable) + list(non_trainable)]
    if len(arrays) != len(reference) or any(
        tuple(a.shape) != tuple(v.shape) for a, v in zip(arrays, reference, strict=True)
    ):
        raise ValueError(f"{name} does not have the architecture of model {model.name!r}.")
    return arrays


def interpolate_loss(
    model,
    start,
    end,
    data,
    alphas=None,
    batch_size=256,
    points_per_batch=8,
    progress=None,
    jit_compile="auto",
):
    """Loss along the straight line from ``start`` to ``end`` (Goodfellow et al. 2014).

    Args:
        model: a model of the architecture (used for its graph only; its weights are untouched).
        start, end: models of the same architecture, or ``model_state(...)`` pairs of weight lists
            (e.g. saved before training).
        data: ``(x, y)`` arrays (integer labels) or a ``tf.data`` of ``(x, y)`` batches.
        alphas: the points (default ``linspace(-0.5, 1.5, 41)``): ``alpha = 0`` is ``start``,
            ``alpha = 1`` is ``end``.
        batch_size, points_per_batch: data batch size and number of weight vectors evaluated
            together.

    Returns:
        ``{"alpha", "loss", "accuracy"}`` NumPy arrays (mean cross-entropy and accuracy on data).

    Example:
        >>> import kerasconv
        >>> a, b = kerasconv.models.LeNet5(), kerasconv.models.LeNet5()
        >>> x, y = kerasconv.data.load_arrays("digits", "test", image_size=32)
        >>> curve = kerasconv.visualize.interpolate_loss(a, a, b, (x, y), alphas=[0, 0.5, 1])
    """
    _check_model(model)
    alphas = np.linspace(-0.5, 1.5, 41) if alphas is None else np.asarray(alphas, "float32")
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError("alphas must be a non-empty 1-D sequence.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    points_per_batch = check_int("points_per_batch", points_per_batch, minimum=1)
    base = _state_of(model, start, "start")
    target = _state_of(model, end, "end")
    direction = [t - b for b, t in zip(base, target, strict=True)]
    loss, accuracy = _evaluator(model, jit_compile)(
        alphas[:, None], base, [direction], _batches(data, batch_size), points_per_batch, progress
    )
    return {"alpha": alphas, "loss": loss, "accuracy": accuracy}


def loss_surface(
    model,
    data,
    directions=None,
    x_range=(-1.0, 1.0),
    y_range=(-1.0, 1.0),
    resolution=21,
    seed=0,
    batch_size=256,
    points_per_batch=8,
    progress=None,
    jit_compile="auto",
):
    """The loss over a plane through the model's weights (Li et al. 2018).

    Args:
        model: the trained model (centre of the plane; not modified).
        data: ``(x, y)`` arrays or a ``tf.data`` of ``(x, y)`` batches.
        directions: two directions from :func:`random_directions` (default: two filter-normalised
            random directions drawn with ``seed``).
        x_range, y_range: the coefficient ranges along each direction.
        resolution: points per axis (an int or ``(nx, ny)``).
        batch_size, points_per_batch: data batch size and grid points evaluated together.

    Returns:
        ``{"x", "y", "loss", "accuracy", "directions"}``: the axes, ``(ny, nx)`` grids of mean
        cross-entropy and accuracy, and the directions used.
    """
    _check_model(model)
    if isinstance(resolution, int):
        resolution = (resolution, resolution)
    nx, ny = (check_int("resolution", int(r), minimum=2) for r in resolution)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    points_per_batch = check_int("points_per_batch", points_per_batch, minimum=1)
    if directions is None:
        directions = random_directions(model, 2, seed=seed)
    if len(directions) != 2:
        raise ValueError(f"directions must hold two directions; got {len(directions)}.")
    base = _state_of(model, model, "model")
    n_non_trainable = len(model.non_trainable_variables)
    full = []
    for direction in directions:
        if len(direction) != len(model.trainable_variables):
            raise ValueError("each direction must have one array per trainable variable.")
        full.append(
            [np.asarray(d, "float32") for d in direction]
            + [np.zeros_like(b) for b in base[len(base) - n_non_trainable :]]
        )
    xs = np.linspace(*x_range, nx).astype("float32")
    ys = np.linspace(*y_range, ny).astype("float32")
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    loss, accuracy = _evaluator(model, jit_compile)(
        grid, base, full, _batches(data, batch_size), points_per_batch, progress
    )
    return {
        "x": xs,
        "y": ys,
        "loss": loss.reshape(ny, nx),
        "accuracy": accuracy.reshape(ny, nx),
        "directions": directions,
    }
