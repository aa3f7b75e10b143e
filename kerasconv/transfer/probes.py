"""Linear probes on tapped features (Zeiler & Fergus 2014, Table 6: "plug features from each layer
into a linear SVM or softmax").

``linear_probe(features, labels)`` trains a linear classifier on a random, class-balanced split of
the features and tests it on the rest, ``repeats`` times, and reports mean ± std accuracy; with
``test_features``/``test_labels`` it trains on all of ``features`` and tests on the given set once
(a fixed train/test split, as ``kerasconv.autoencoders.feature_comparison`` uses). This is the
package's one linear probe.
``probe_layers(model, layers, data)`` does it for every layer and builds the seed's table, whose
point is that accuracy rises with depth.

Two probes:

* ``"softmax"``: multinomial logistic regression (a softmax head) trained full-batch with Adam in
  one ``tf.function`` over ``tf.range``; all repeats are trained at once as a stack of heads, each
  with its own split and its own standardisation folded into its weights.
* ``"svm"``: scikit-learn's ``LinearSVC`` (one-vs-rest linear SVM, squared hinge).

Features are standardised with the training split's mean and standard deviation of each repeat.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from kerasconv._validation import check_choice, check_float, check_int

METHODS = ("softmax", "svm")


@dataclasses.dataclass
class ProbeResult:
    """Accuracy of one probe over repeated random splits (fractions in [0, 1])."""

    method: str
    accuracies: np.ndarray
    dimension: int
    train_per_class: float

    @property
    def mean(self):
        return float(np.mean(self.accuracies))

    @property
    def std(self):
        return float(np.std(self.accuracies))

    def __str__(self):
        return f"{100 * self.mean:.1f} ± {100 * self.std:.1f}"


def _check_features(features, labels):
    features = np.asarray(features, dtype="float32")
    if features.ndim != 2:
        features = features.reshape(len(features), -1)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(
            f"labels must be one class per sample, shape ({len(features)},); got {labels.shape}."
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices; got dtype {labels.dtype}.")
    if not np.all(np.isfinite(features)):
        raise ValueError("features contain NaN or infinite values.")
    classes, encoded = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("a probe needs at least two classes in labels.")
    return features, encoded.astype("int64"), classes


def split_masks(labels, repeats, train_size, seed):
    """Boolean ``(repeats, n)`` class-balanced training masks; the rest of each row is for testing.

    ``train_size``: an int is examples per class (the seed's "30/class"); a float in (0, 1) is the
    fraction of each class.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    masks = np.zeros((repeats, len(labels)), dtype=bool)
    for c in classes:
        members = np.flatnonzero(labels == c)
        if isinstance(train_size, float):
            take = int(round(train_size * len(members)))
        else:
            take = int(train_size)
        if take < 1 or take >= len(members):
            raise ValueError(
                f"train_size={train_size} leaves class {c} (with {len(members)} examples) without "
                "training or test examples; use fewer per class."
            )
        for r in range(repeats):
            masks[r, rng.choice(members, size=take, replace=False)] = True
    return masks


def _check_train_size(train_size):
    if isinstance(train_size, float):
        check_float("train_size", train_size, 0.0, 1.0, strict_minimum=True)
        if train_size >= 1.0:
            raise ValueError(f"train_size as a fraction must be < 1; got {train_size}.")
        return train_size
    return check_int("train_size", train_size, minimum=1)


@tf.function(reduce_retracing=True)
def _fit_softmax_heads(x, onehot, masks, steps, learning_rate, l2):
    """Train ``R`` softmax heads at once: ``x (n, d)``, ``onehot (n, C)``, ``masks (R, n)``.

    Each head standardises ``x`` with its own training split; the standardisation is folded into
    the head (``W / s`` and a bias shift) so no ``(R, n, d)`` copy of the data is made.
    """
    weights = tf.cast(masks, tf.float32)
    counts = tf.reduce_sum(weights, axis=1, keepdims=True)
    mean = tf.matmul(weights, x) / counts
    variance = tf.matmul(weights, tf.square(x)) / counts - tf.square(mean)
    scale = 1.0 / tf.sqrt(tf.maximum(variance, 0.0) + 1e-6)
    repeats, dims, classes = tf.shape(masks)[0], tf.shape(x)[1], tf.shape(onehot)[1]
    kernel = tf.zeros(tf.stack([repeats, dims, classes]))
    bias = tf.zeros(tf.stack([repeats, classes]))
    params = (kernel, bias)
    first = (tf.zeros_like(kernel), tf.zeros_like(bias))
    second = (tf.zeros_like(kernel), tf.zeros_like(bias))
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    def logits_of(kernel, bias):
        effective = kernel * scale[:, :, None]
        shift = tf.einsum("rd,rdc->rc", mean * scale, kernel)
        return tf.einsum("nd,rdc->rnc", x, effective) + (bias - shift)[:, None, :]

    for step in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(params)
            logits = logits_of(*params)
            per_sample = keras.ops.categorical_crossentropy(
                tf.broadcast_to(onehot[None], tf.shape(logits)), logits, from_logits=True
            )
            data_loss = tf.reduce_sum(per_sample * weights, axis=1) / counts[:, 0]
            loss = tf.reduce_sum(data_loss) + l2 * tf.reduce_sum(tf.square(params[0]))
        grads = tape.gradient(loss, params)
        t = tf.cast(step + 1, tf.float32)
        # Adam on (kernel, bias), indexed rather than zipped: autograph rewrites zip().
        first = tuple(beta1 * first[i] + (1 - beta1) * grads[i] for i in range(2))
        second = tuple(beta2 * second[i] + (1 - beta2) * tf.square(grads[i]) for i in range(2))
        rate = learning_rate * tf.sqrt(1 - beta2**t) / (1 - beta1**t)
        params = tuple(
            params[i] - rate * first[i] / (tf.sqrt(second[i]) + epsilon) for i in range(2)
        )
    return tf.argmax(logits_of(*params), axis=-1, output_type=tf.int64)


def _softmax_accuracies(features, labels, masks, steps, learning_rate, l2):
    classes = int(labels.max()) + 1
    predictions = _fit_softmax_heads(
        tf.constant(features),
        tf.one_hot(labels, classes),
        tf.constant(masks),
        tf.constant(steps, tf.int32),
        tf.constant(learning_rate, tf.float32),
        tf.constant(l2, tf.float32),
    ).numpy()
    correct = predictions == labels[None]
    test = ~masks
    return (correct & test).sum(axis=1) / test.sum(axis=1)


def _svm_accuracies(features, labels, masks, regularization, seed):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    accuracies = []
    for mask in masks:
        scaler = StandardScaler().fit(features[mask])
        svm = LinearSVC(C=regularization, max_iter=5000, random_state=seed)
        svm.fit(scaler.transform(features[mask]), labels[mask])
        predicted = svm.predict(scaler.transform(features[~mask]))
        accuracies.append(float(np.mean(predicted == labels[~mask])))
    return np.asarray(accuracies)


def linear_probe(
    features,
    labels,
    method="softmax",
    repeats=5,
    train_size=10,
    seed=0,
    steps=300,
    learning_rate=0.01,
    l2=1e-4,
    regularization=0.1,
    test_features=None,
    test_labels=None,
):
    """Accuracy of a linear classifier on ``features`` over ``repeats`` random splits.

    Args:
        features: ``(n, d)`` array (higher ranks are flattened).
        labels: ``(n,)`` integer classes.
        method: ``"softmax"`` (logistic regression head, TensorFlow) or ``"svm"`` (LinearSVC).
        repeats: number of random class-balanced splits.
        train_size: training examples per class (int) or fraction of each class (float).
        seed: seed of the splits.
        steps, learning_rate, l2: full-batch Adam steps, step size and weight penalty (softmax).
        regularization: the SVM's ``C``.
        test_features, test_labels: a fixed test set (both or neither). The probe is then trained
            on all of ``features`` and scored on it once; ``repeats`` and ``train_size`` are not
            used.

    Returns:
        a ``ProbeResult`` (``str(result)`` gives ``"86.2 ± 0.8"``).

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.concatenate([np.zeros((20, 3)), np.ones((20, 3))]) + np.random.rand(40, 3) * 0.1
        >>> y = np.repeat([0, 1], 20)
        >>> kerasconv.transfer.linear_probe(x, y, train_size=5).mean
        1.0
    """
    check_choice("method", method, METHODS)
    if (test_features is None) != (test_labels is None):
        raise ValueError("Pass both test_features and test_labels, or neither.")
    if test_features is None:
        repeats = check_int("repeats", repeats, minimum=1)
        train_size = _check_train_size(train_size)
        features, encoded, _ = _check_features(features, labels)
        masks = split_masks(encoded, repeats, train_size, seed)
    else:
        features, encoded, masks = _fixed_split(features, labels, test_features, test_labels)
    if method == "softmax":
        steps = check_int("steps", steps, minimum=1)
        learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
        l2 = check_float("l2", l2, 0.0)
        accuracies = _softmax_accuracies(features, encoded, masks, steps, learning_rate, l2)
    else:
        regularization = check_float("regularization", regularization, 0.0, strict_minimum=True)
        accuracies = _svm_accuracies(features, encoded, masks, regularization, seed)
    per_class = float(masks[0].sum()) / (encoded.max() + 1)
    return ProbeResult(
        method, np.asarray(accuracies, dtype="float64"), features.shape[1], per_class
    )


def _fixed_split(train_features, train_labels, test_features, test_labels):
    """Stack a given train and test set into one ``(features, labels, masks)`` with one split."""
    train_features = np.asarray(train_features, dtype="float32")
    test_features = np.asarray(test_features, dtype="float32")
    train_features = train_features.reshape(len(train_features), -1)
    test_features = test_features.reshape(len(test_features), -1)
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"features and test_features differ in width: {train_features.shape[1]} and "
            f"{test_features.shape[1]}."
        )
    if len(train_features) == 0 or len(test_features) == 0:
        raise ValueError("features and test_features must each hold at least one example.")
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if test_labels.ndim != 1 or len(test_labels) != len(test_features):
        raise ValueError(
            f"test_labels must be one class per test example, shape ({len(test_features)},); "
            f"got {test_labels.shape}."
        )
    if train_labels.ndim != 1 or len(train_labels) != len(train_features):
        raise ValueError(
            f"labels must be one class per sample, shape ({len(train_features)},); "
            f"got {train_labels.shape}."
        )
    features, encoded, _ = _check_features(
        np.concatenate([train_features, test_features]),
        np.concatenate([train_labels, test_labels]),
    )
    if len(np.unique(encoded[: len(train_features)])) < 2:
        raise ValueError("a probe needs at least two classes in labels.")
    masks = np.zeros((1, len(features)), dtype=bool)
    masks[0, : len(train_features)] = True
    return features, encoded, masks


@dataclasses.dataclass
class ProbeTable:
    """Probe accuracies per (method, layer) and dataset: the seed's "tapping off features" table.

    ``results[dataset][(method, layer)]`` is a ``ProbeResult``.
    """

    layers: list
    methods: list
    results: dict

    def rows(self):
        return [(method, layer) for method in self.methods for layer in self.layers]

    def to_markdown(self):
        datasets = list(self.results)
        header = "| probe (layer) | dimension | " + " | ".join(datasets) + " |"
        lines = [header, "|" + "---|" * (len(datasets) + 2)]
        for method, layer in self.rows():
            first = self.results[datasets[0]][(method, layer)]
            cells = [str(self.results[d][(method, layer)]) for d in datasets]
            label = "SVM" if method == "svm" else "Softmax"
            lines.append(f"| {label} ({layer}) | {first.dimension} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def means(self, dataset=None, method=None):
        """``{layer: mean accuracy}`` for one dataset and method (defaults: the first ones)."""
        dataset = dataset if dataset is not None else next(iter(self.results))
        method = method if method is not None else self.methods[0]
        return {layer: self.results[dataset][(method, layer)].mean for layer in self.layers}

    def to_dict(self):
        return {
            dataset: {
                f"{method}({layer})": {
                    "mean": result.mean,
                    "std": result.std,
                    "dimension": result.dimension,
                    "accuracies": result.accuracies.tolist(),
                }
                for (method, layer), result in by_row.items()
            }
            for dataset, by_row in self.results.items()
        }


def probe_layers(
    model,
    layers,
    data,
    labels=None,
    methods=METHODS,
    repeats=5,
    train_size=10,
    seed=0,
    batch_size=256,
    cache_dir=None,
    **probe_options,
):
    """Linear probes on every layer in ``layers`` of ``model``: the seed's table.

    Args:
        model: a Keras model (its weights are only read).
        layers: layer names in depth order; ``"input"`` is the raw-pixel baseline.
        data: images, an ``(images, labels)`` pair, a ``tf.data.Dataset`` of ``(images, labels)``,
            or a dict ``{dataset name: any of those}`` for one table column per dataset.
        labels: the labels when ``data`` is an image array.
        methods: any of ``"svm"``, ``"softmax"``.
        repeats, train_size, seed: as in ``linear_probe``; every layer and method sees the same
            splits, so differences between rows are paired.
        batch_size, cache_dir: as in ``extract_features``.
        probe_options: passed to ``linear_probe`` (``steps``, ``l2``, ``regularization`` ...).

    Returns:
        a ``ProbeTable``; ``table.to_markdown()`` prints it.
    """
    from kerasconv.transfer.features import extract_features

    if isinstance(methods, str):
        methods = [methods]
    methods = [check_choice("method", m, METHODS) for m in methods]
    if isinstance(layers, str):
        layers = [layers]
    datasets = data if isinstance(data, dict) else {"accuracy (%)": data}
    results = {}
    for name, dataset in datasets.items():
        if labels is not None and not isinstance(data, dict):
            dataset = (dataset, labels)
        features, targets = extract_features(
            model, layers, dataset, batch_size=batch_size, cache_dir=cache_dir, return_labels=True
        )
        if targets is None:
            raise ValueError(
                f"probe_layers needs labels for {name!r}: pass (images, labels) or labels=."
            )
        results[name] = {
            (method, layer): linear_probe(
                features[layer],
                targets,
                method=method,
                repeats=repeats,
                train_size=train_size,
                seed=seed,
                **probe_options,
            )
            for method in methods
            for layer in layers
        }
    return ProbeTable(list(layers), list(methods), results)
