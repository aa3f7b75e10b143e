"""The representation space: penultimate-layer ("fc7") codes, 2-D maps and nearest neighbours.

As in the seeds: collect the code of the layer just before the classifier for many images, embed
it in 2-D with PCA or t-SNE (van der Maaten & Hinton 2008, scikit-learn), and compare nearest
neighbours in feature space with nearest neighbours in pixel space.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.gradients import _output_layer
from kerasconv.visualize._common import check_model
from kerasconv.visualize.activations import compiled_extractor
from kerasconv.visualize.top_patches import _batches


def penultimate_layer(model, output=None):
    """Name of the layer whose output feeds the classifier (Dropout layers are skipped)."""
    check_model(model)
    layer = _output_layer(model, output)
    tensor = layer.input
    while True:
        producer = tensor._keras_history.operation
        if isinstance(producer, (keras.layers.Dropout, keras.layers.Activation)):
            tensor = producer.input
            continue
        if isinstance(producer, keras.layers.InputLayer):
            raise ValueError(f"Model {model.name!r} has no layer before its output layer.")
        return producer.name


def collect_embeddings(model, data, layer=None, batch_size=256):
    """Codes of ``layer`` (default: the penultimate layer) for every image, ``(N, D)``.

    Args:
        model: a Keras model.
        data: images ``(N, H, W, C)`` or a ``tf.data.Dataset`` of images or ``(images, labels)``.
        layer: the layer's name; spatial outputs are flattened.
        batch_size: images per forward pass for array data.
    """
    check_int("batch_size", batch_size, minimum=1)
    layer = penultimate_layer(model) if layer is None else layer
    forward = compiled_extractor(model, [layer])
    codes = [forward(images)[layer].numpy() for images in _batches(data, batch_size)]
    if not codes:
        raise ValueError("data is empty.")
    codes = np.concatenate(codes)
    return codes.reshape(len(codes), -1)


def project(codes, method="tsne", seed=0, perplexity=30.0):
    """Embed codes ``(N, D)`` in 2-D with ``"pca"`` or ``"tsne"`` (scikit-learn); ``(N, 2)``."""
    check_choice("method", method, ("pca", "tsne"))
    check_int("seed", seed, minimum=0)
    codes = np.asarray(codes, dtype="float32")
    if codes.ndim != 2 or len(codes) < 3:
        raise ValueError(f"codes must be (N >= 3, D); got shape {codes.shape}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(codes).astype("float32")
    from sklearn.manifold import TSNE

    check_float("perplexity", perplexity, minimum=1.0)
    perplexity = min(float(perplexity), (len(codes) - 1) / 3)
    embedding = TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed, learning_rate="auto"
    )
    return embedding.fit_transform(codes).astype("float32")


def nearest_neighbors(queries, database, k=5, exclude_self=False):
    """Indices ``(Q, k)`` of the ``k`` nearest rows of ``database`` to each query (L2).

    ``exclude_self``: ``True`` drops, for each query, the database rows identical to it (queries
    taken from the database); an array of ``Q`` database indices drops exactly those rows (query
    ``i`` is ``database[exclude_self[i]]``). Either way by identity, never by a distance threshold:
    squared distances computed by expansion are not exactly zero at large feature norms.
    """
    check_int("k", k, minimum=1)
    queries = np.asarray(queries, dtype="float64").reshape(len(queries), -1)
    database = np.asarray(database, dtype="float64").reshape(len(database), -1)
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} features but database has {database.shape[1]}."
        )
    distances = (queries**2).sum(1)[:, None] - 2 * queries @ database.T + (database**2).sum(1)[None]
    distances = np.maximum(distances, 0.0)
    if exclude_self is True:
        same = np.all(queries[:, None, :] == database[None, :, :], axis=2)
        distances = np.where(same, np.inf, distances)
    elif exclude_self is not False and exclude_self is not None:
        indices = np.asarray(exclude_self)
        if indices.shape != (len(queries),) or indices.dtype.kind not in "iu":
            raise ValueError(
                "exclude_self must be True/False or one database index per query "
                f"(shape ({len(queries)},)); got {exclude_self!r}."
            )
        if indices.min(initial=0) < 0 or indices.max(initial=0) >= len(database):
            raise ValueError(f"exclude_self indices must be in [0, {len(database) - 1}].")
        distances[np.arange(len(queries)), indices] = np.inf
    excluded = int(np.isinf(distances).sum(1).max(initial=0))
    if k > database.shape[0] - excluded:
        raise ValueError(
            f"k={k} is larger than the database ({database.shape[0]} rows, {excluded} excluded)."
        )
    return np.argsort(distances, axis=1, kind="stable")[:, :k]


def neighbor_comparison(model, queries, database, k=5, layer=None):
    """Nearest neighbours of ``queries`` in ``database`` in pixel space and in feature space.

    Returns ``{"pixel": (Q, k) indices, "feature": (Q, k) indices}`` (the seeds' figure).
    """
    query_codes = collect_embeddings(model, queries, layer)
    database_codes = collect_embeddings(model, database, layer)
    return {
        "pixel": nearest_neighbors(queries, database, k),
        "feature": nearest_neighbors(query_codes, database_codes, k),
    }


def neighbor_label_agreement(indices, query_labels, database_labels):
    """Fraction of neighbours that share their query's label."""
    indices = np.asarray(indices)
    return float(np.mean(np.asarray(database_labels)[indices] == np.asarray(query_labels)[:, None]))
