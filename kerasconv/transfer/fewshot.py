"""Few-shot classification by nearest neighbour in feature space (seed 002, "One-shot learning":
"it might suffice to classify using the nearest training example in feature space, even if just a
handful of training examples").

Each episode draws ``k`` labelled examples per class (the support set) and classifies every other
example (the queries) by its nearest support example (``rule="nearest"``) or by the nearest class
mean of the support set (``rule="centroid"``, the prototype rule). Accuracy is averaged over many
random episodes. Distances are computed for all queries at once as matrix products.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasconv._validation import check_choice, check_int

RULES = ("nearest", "centroid")
METRICS = ("euclidean", "cosine")


@dataclasses.dataclass
class FewShotResult:
    """Accuracy of ``shots``-shot nearest-neighbour classification over episodes (fractions)."""

    shots: int
    accuracies: np.ndarray
    classes: int

    @property
    def mean(self):
        return float(np.mean(self.accuracies))

    @property
    def std(self):
        return float(np.std(self.accuracies))

    @property
    def chance(self):
        return 1.0 / self.classes

    def __str__(self):
        return f"{100 * self.mean:.1f} ± {100 * self.std:.1f}"


def _distances(queries, support, metric):
    if metric == "cosine":
        queries = queries / (np.linalg.norm(queries, axis=1, keepdims=True) + 1e-12)
        support = support / (np.linalg.norm(support, axis=1, keepdims=True) + 1e-12)
        return 1.0 - queries @ support.T
    squared = (
        np.sum(queries**2, axis=1, keepdims=True)
        - 2.0 * queries @ support.T
        + np.sum(support**2, axis=1)[None, :]
    )
    return np.maximum(squared, 0.0)


def nearest_neighbour_predict(support, support_labels, queries, rule="nearest", metric="euclidean"):
    """Labels of ``queries`` from the nearest support example (or class mean) in feature space."""
    check_choice("rule", rule, RULES)
    check_choice("metric", metric, METRICS)
    support = np.asarray(support, dtype="float64").reshape(len(support), -1)
    queries = np.asarray(queries, dtype="float64").reshape(len(queries), -1)
    support_labels = np.asarray(support_labels)
    if rule == "centroid":
        classes = np.unique(support_labels)
        support = np.stack([support[support_labels == c].mean(axis=0) for c in classes])
        support_labels = classes
    return support_labels[np.argmin(_distances(queries, support, metric), axis=1)]


def few_shot(
    features,
    labels,
    shots=(1, 5),
    episodes=20,
    rule="nearest",
    metric="euclidean",
    seed=0,
):
    """Nearest-neighbour accuracy from ``k`` labelled examples per class, each ``k`` in ``shots``.

    Args:
        features: ``(n, d)`` features (e.g. ``extract_features(model, "f6", x)["f6"]``) or raw
            images (flattened: the pixel baseline).
        labels: ``(n,)`` integer classes.
        shots: examples per class in each support set (an int or a sequence).
        episodes: random episodes per ``k``; every example not in the support set is a query.
        rule: ``"nearest"`` (1-NN over the support set) or ``"centroid"`` (nearest class mean).
        metric: ``"euclidean"`` or ``"cosine"``.
        seed: seed of the episodes.

    Returns:
        ``{k: FewShotResult}``.

    Example:
        >>> import numpy as np, kerasconv
        >>> x = np.concatenate([np.zeros((10, 2)), np.ones((10, 2))])
        >>> kerasconv.transfer.few_shot(x, np.repeat([0, 1], 10), shots=1)[1].mean
        1.0
    """
    check_choice("rule", rule, RULES)
    check_choice("metric", metric, METRICS)
    episodes = check_int("episodes", episodes, minimum=1)
    shots = [shots] if not isinstance(shots, (list, tuple)) else list(shots)
    shots = [check_int("shots", k, minimum=1) for k in shots]
    features = np.asarray(features, dtype="float64")
    features = features.reshape(len(features), -1)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(
            f"labels must be one class per sample, shape ({len(features)},); got {labels.shape}."
        )
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("few-shot classification needs at least two classes.")
    members = [np.flatnonzero(labels == c) for c in classes]
    smallest = min(len(m) for m in members)
    rng = np.random.default_rng(seed)
    results = {}
    for k in shots:
        if k >= smallest:
            raise ValueError(
                f"{k} shots leave no queries in the smallest class ({smallest} examples)."
            )
        accuracies = []
        for _ in range(episodes):
            support = np.concatenate([rng.choice(m, size=k, replace=False) for m in members])
            query = np.setdiff1d(np.arange(len(labels)), support)
            predicted = nearest_neighbour_predict(
                features[support], labels[support], features[query], rule=rule, metric=metric
            )
            accuracies.append(float(np.mean(predicted == labels[query])))
        results[k] = FewShotResult(k, np.asarray(accuracies), len(classes))
    return results


def few_shot_layers(model, layers, data, labels=None, batch_size=256, cache_dir=None, **options):
    """``{layer: {k: FewShotResult}}`` for features tapped at each of ``layers`` of ``model``.

    ``data`` and ``labels`` as in ``probe_layers``; ``options`` go to ``few_shot``.
    """
    from kerasconv.transfer.features import extract_features

    if labels is not None:
        data = (data, labels)
    features, targets = extract_features(
        model, layers, data, batch_size=batch_size, cache_dir=cache_dir, return_labels=True
    )
    if targets is None:
        raise ValueError("few_shot_layers needs labels: pass (images, labels) or labels=.")
    return {layer: few_shot(features[layer], targets, **options) for layer in features}
