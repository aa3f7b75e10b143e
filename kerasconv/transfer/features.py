"""Tapping off features at any named layer (seed 000, "Tapping off features at each layer").

``extract_features(model, ["c1", "f6"], images)`` runs ``images`` through the model once, batched
over ``tf.data``, and returns one flattened ``(n, d)`` array per layer. The name ``"input"`` (the
model's input layer) gives the raw pixels, the baseline every probe is compared with.

With ``cache_dir`` each layer's features are stored as ``.npy`` files keyed by a hash of the
model's architecture and weights, the layer name and a fingerprint of the data, so a probe table
over many layers and repeats computes each feature set once, and a retrained model never reads a
stale cache.
"""

from __future__ import annotations

import hashlib
import os

import keras
import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import check_image_batch, check_int
from kerasconv.models.features import feature_extractor, find_layer


def _layer_list(layers):
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(
            f"layers must be a layer name or a non-empty list of names; got {layers!r}."
        )
    for name in layers:
        if not isinstance(name, str):
            raise TypeError(f"layer names must be strings; got {type(name).__name__}.")
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers contains duplicates: {list(layers)}.")
    return list(layers)


def model_fingerprint(model):
    """A SHA-256 hex digest of ``model``'s layer names, weight paths, shapes and values.

    Two models with the same architecture and the same weights share a fingerprint; any trained
    step changes it.
    """
    digest = hashlib.sha256()
    digest.update(model.name.encode())
    for layer in model.layers:
        digest.update(f"{layer.name}:{type(layer).__name__};".encode())
    for variable in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(f"{variable.path}{value.shape}{value.dtype}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _as_pipeline(data, batch_size):
    """``(dataset of image batches or (images, labels) batches, has_labels)``."""
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        has_labels = isinstance(spec, (tuple, list))
        image_spec = spec[0] if has_labels else spec
        if len(image_spec.shape) == 3:
            data = data.batch(batch_size)
            image_spec = data.element_spec[0] if has_labels else data.element_spec
        if len(image_spec.shape) != 4:
            raise ValueError(
                "data must yield images of shape (height, width, channels) or batches of them; "
                f"got element shape {image_spec.shape}."
            )
        return data, has_labels
    if isinstance(data, (tuple, list)) and len(data) == 2 and not np.isscalar(data[1]):
        x, y = data
        x = check_image_batch("data[0]", np.asarray(x, dtype="float32")).numpy()
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"data has {len(x)} images but labels of shape {y.shape}.")
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size), True
    x = check_image_batch("data", data).numpy()
    return tf.data.Dataset.from_tensor_slices(x).batch(batch_size), False


class _Fingerprint:
    def __init__(self):
        self.digest = hashlib.sha256()

    def update(self, images):
        array = np.ascontiguousarray(images)
        self.digest.update(f"{array.shape}{array.dtype}".encode())
        self.digest.update(array.tobytes())

    def hexdigest(self):
        return self.digest.hexdigest()


def _scan(pipeline, has_labels):
    """One pass without the model: the data fingerprint and the labels."""
    fingerprint, labels = _Fingerprint(), []
    for element in pipeline:
        fingerprint.update(element[0].numpy() if has_labels else element.numpy())
        if has_labels:
            labels.append(np.asarray(element[1]))
    return fingerprint.hexdigest(), (np.concatenate(labels) if has_labels and labels else None)


def _cache_path(cache_dir, model_key, layer, data_key):
    safe_layer = "".join(c if c.isalnum() or c in "-_." else "_" for c in layer)
    return os.path.join(cache_dir, f"{model_key[:20]}__{safe_layer}__{data_key[:20]}.npy")


def extract_features(
    model, layers, data, batch_size=256, cache_dir=None, return_labels=False, training=False
):
    """Flattened activations of ``layers`` for every image in ``data``.

    Args:
        model: a built Keras model (functional or Sequential; nested models are fine).
        layers: a layer name or list of names (``"input"`` gives the raw pixels).
        data: images ``(n, H, W, C)``, an ``(images, labels)`` pair, or a ``tf.data.Dataset`` of
            images or of ``(images, labels)``, batched or not.
        batch_size: batch size for arrays and unbatched datasets.
        cache_dir: if set, features are read from / written to ``.npy`` files in this folder,
            keyed by the model's weights, the layer and the data.
        return_labels: also return the labels (from the pair or the dataset), or ``None``.
        training: run the layers in training mode (off: dropout and batch norm in inference mode).

    Returns:
        ``{layer: float32 array (n, d)}`` in the order given, and the labels when asked for.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5(classes=10)
        >>> x, y = kerasconv.data.load_arrays("digits", "test", image_size=32)
        >>> features = kerasconv.transfer.extract_features(model, ["c1", "f6"], x)
        >>> features["c1"].shape, features["f6"].shape
        ((359, 4704), (359, 84))
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    layers = _layer_list(layers)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    for name in layers:
        find_layer(model, name)  # a clear error listing the model's layers
    pipeline, has_labels = _as_pipeline(data, batch_size)
    labels = None
    results, missing = {}, list(layers)
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
        os.makedirs(cache_dir, exist_ok=True)
        data_key, labels = _scan(pipeline, has_labels)
        model_key = model_fingerprint(model)
        paths = {name: _cache_path(cache_dir, model_key, name, data_key) for name in layers}
        for name in layers:
            if os.path.exists(paths[name]):
                results[name] = np.load(paths[name])
        missing = [name for name in layers if name not in results]

    if missing:
        step = _compiled_extractor(model, tuple(missing), bool(training))
        computed, labels, seen_key = _run_extractor(step, pipeline, has_labels)
        if cache_dir is not None and seen_key != data_key:
            raise ValueError(
                "data gave different images on two passes (a dataset reshuffled each iteration?); "
                "caching needs a fixed order: pass shuffle=False or drop cache_dir."
            )
        for name in missing:
            results[name] = computed[name]
            if cache_dir is not None:
                # Write then rename so a concurrent reader never sees half a file.
                temporary = paths[name] + f".{os.getpid()}.tmp.npy"
                np.save(temporary, computed[name])
                os.replace(temporary, paths[name])
    ordered = {name: results[name] for name in layers}
    if return_labels:
        return ordered, labels
    return ordered


# One compiled extractor per (model, layers, mode): repeated calls with new data do not retrace.


def _compiled_extractor(model, layers, training):
    per_model = model_cache(model, "transfer_extractors")
    key = (layers, training)
    if key not in per_model:
        extractor = feature_extractor(model, list(layers))

        @tf.function(reduce_retracing=True)
        def step(batch):
            outputs = extractor(batch, training=training)
            return {
                name: tf.reshape(value, (tf.shape(value)[0], -1)) for name, value in outputs.items()
            }

        per_model[key] = step
    return per_model[key]


def _run_extractor(step, pipeline, has_labels):
    chunks, labels, fingerprint = {}, [], _Fingerprint()
    for element in pipeline.prefetch(tf.data.AUTOTUNE):
        images = element[0] if has_labels else element
        fingerprint.update(images.numpy())
        if has_labels:
            labels.append(np.asarray(element[1]))
        for name, value in step(tf.cast(images, tf.float32)).items():
            chunks.setdefault(name, []).append(value.numpy())
    if not chunks:
        raise ValueError("data is empty: no images to extract features from.")
    features = {name: np.concatenate(parts).astype("float32") for name, parts in chunks.items()}
    return features, (np.concatenate(labels) if has_labels else None), fingerprint.hexdigest()
