"""Export a Keras classifier as a SavedModel in TensorFlow Serving's layout.

TF Serving watches a *base path* and serves integer-named sub-folders as model versions::

    saved_models/lenet5_digits/
        1/  saved_model.pb  variables/  assets/class_names.txt
        2/  ...

``export_model`` writes the next version (or the one asked for) with three signatures, each with
named inputs and outputs so that REST requests and gRPC ``PredictRequest`` s can address them:

``serving_default``
    ``images`` float32 ``(batch, H, W, C)`` in the model's input range → ``probabilities``
    float32 ``(batch, classes)``.
``predict_images``
    ``image_bytes`` string ``(batch,)`` of encoded JPEG/PNG/GIF/BMP files → ``classes`` (top-k class
    names, string ``(batch, k)``), ``scores`` (their probabilities, ``(batch, k)``) and
    ``probabilities`` ``(batch, classes)``. Decoding, the channel conversion, resizing to the
    model's input size and normalisation all run inside the graph, so a client only sends files.
``saliency``
    ``images`` → ``saliency`` ``(batch, H, W)`` (Simonyan, Vedaldi & Zisserman 2014: the largest
    absolute gradient over the channels of the predicted class's *logit*), the predicted
    ``class_index`` ``(batch,)`` int32, its ``probability``, and ``loss_gradient``
    ``(batch, H, W, C)``: the signed gradient of the cross-entropy of the predicted class, so a
    client can take an FGSM step, ``x + ε·sign(loss_gradient)``, without a gradient of its own
    (Goodfellow et al. 2015, with the model's own prediction as the label, as CleverHans does).

With ``example_signatures=True`` two more signatures take serialized ``tf.Example`` protos, as
``tf.estimator``-era exports did, for TF Serving's ``Classify``, ``Regress`` and
``MultiInference`` APIs (REST ``:classify`` / ``:regress``):

``classification`` (method ``tensorflow/serving/classify``)
    ``inputs`` string ``(batch,)`` of serialized ``tf.Example`` s whose bytes feature
    ``image/encoded`` holds an encoded image (decoded as in ``predict_images``) → ``classes``
    (top-k class names) and ``scores`` (their probabilities), both ``(batch, k)``.
``regression`` (method ``tensorflow/serving/regress``)
    the same ``inputs`` → ``outputs`` ``(batch,)``: the probability of the predicted class (the
    model's confidence), a real number per example as the regress API expects.

The class names are stored as the asset ``assets/class_names.txt`` (one per line) and read by a
lookup table in the graph, so the exported model is self-describing. Nothing in the graph is
compiled with XLA (``jit_compile=False``): XLA clusters inside a SavedModel can fail to load in
TF Serving's GPU builds.

A version is written to a hidden staging folder inside ``base_path`` (``.tmp-<version>-<host>-<pid>-…``)
and renamed into place, so a server polling the folder never sees a half-written version. Staging
folders that a killed export left behind (their process is gone, or they are over a day old) are
removed by the next export into the same base path (:func:`remove_stale_staging`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from kerasconv._validation import check_int

SIGNATURES = ("serving_default", "predict_images", "saliency")
EXAMPLE_SIGNATURES = ("classification", "regression")
EXAMPLE_IMAGE_FEATURE = "image/encoded"
CLASS_NAMES_ASSET = "class_names.txt"
_VERSION_PATTERN = re.compile(r"^\d+$")
_STAGING_PATTERN = re.compile(r"^\.tmp-\d+-(?P<host>[^-]*)-(?P<pid>\d+)-")
# TF Serving's method names (tensorflow_serving/apis signature_constants).
_METHOD_NAMES = {
    "classification": "tensorflow/serving/classify",
    "regression": "tensorflow/serving/regress",
}
STALE_STAGING_SECONDS = 24 * 3600


def _host_tag():
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:40]


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(base_path, max_age_seconds=STALE_STAGING_SECONDS):
    """Remove the hidden staging folders of exports that were killed mid-write.

    A staging folder is stale when it was made on this host by a process that no longer exists, or
    when it is older than ``max_age_seconds`` (other hosts sharing the folder, old name formats).
    Returns the removed paths. TF Serving ignores these folders, but they hold a whole model each.
    """
    base = Path(base_path)
    if not base.is_dir():
        return []
    removed = []
    now = time.time()
    for entry in base.iterdir():
        if not entry.name.startswith(".tmp-") or not entry.is_dir():
            continue
        match = _STAGING_PATTERN.match(entry.name)
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue
        dead = (
            match is not None
            and match["host"] == _host_tag()
            and not _process_alive(int(match["pid"]))
        )
        if dead or age > max_age_seconds:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(str(entry))
    return removed


def list_versions(base_path):
    """The integer versions present under ``base_path`` (sorted), as TF Serving sees them.

    Only folders whose name is a non-negative integer count; anything else (``.tmp-…``, ``README``)
    is ignored, like the real server does.
    """
    base = Path(base_path)
    if not base.is_dir():
        return []
    return sorted(
        int(entry.name)
        for entry in base.iterdir()
        if entry.is_dir() and _VERSION_PATTERN.match(entry.name)
    )


def _check_model(model):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            f"Model {model.name!r} has no defined inputs; build it with keras.Input (or call it "
            "once on data) before exporting."
        )
    if len(inputs) != 1:
        raise ValueError(
            f"export_model needs a single-input model; {model.name!r} has {len(inputs)}."
        )
    outputs = getattr(model, "outputs", None)
    if not outputs or len(outputs) != 1:
        raise ValueError(
            f"export_model needs a single-output classifier; {model.name!r} has "
            f"{len(outputs) if outputs else 0} outputs."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(
            f"export_model needs an image model with input shape (batch, height, width, channels); "
            f"{model.name!r} takes {shape}."
        )
    out_shape = tuple(outputs[0].shape)
    if len(out_shape) != 2 or out_shape[-1] is None:
        raise ValueError(
            f"export_model needs a classifier with output shape (batch, classes); {model.name!r} "
            f"gives {out_shape}."
        )
    if shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"export_model supports 1, 3 or 4 input channels; {model.name!r} takes {shape[-1]}."
        )
    return shape[1:], int(out_shape[-1])


def _check_class_names(class_names, classes):
    if class_names is None:
        return [str(i) for i in range(classes)]
    if isinstance(class_names, (str, bytes)):
        raise TypeError("class_names must be a sequence of strings, not a single string.")
    names = [str(name) for name in class_names]
    if len(names) != classes:
        raise ValueError(
            f"class_names must have one name per class ({classes}); got {len(names)} names."
        )
    for name in names:
        if not name or "\n" in name or "\r" in name or name != name.strip():
            raise ValueError(
                "class names must be non-empty single lines without surrounding spaces; "
                f"got {name!r}."
            )
    if len(set(names)) != len(names):
        raise ValueError("class_names must be unique.")
    return names


def _check_normalization(name, value, channels):
    array = np.asarray(value, dtype="float64").reshape(-1)
    if array.size not in (1, channels) or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be one finite number or one per channel ({channels}); got {value!r}."
        )
    return np.broadcast_to(array, (channels,)).astype("float32")


def _next_version(base_path):
    versions = list_versions(base_path)
    return versions[-1] + 1 if versions else 1


def export_model(
    model,
    base_path,
    version=None,
    class_names=None,
    top_k=5,
    image_size=None,
    mean=0.0,
    std=1.0,
    resize_method="bilinear",
    overwrite=False,
    example_signatures=False,
):
    """Export a Keras image classifier to ``base_path/<version>/`` for TensorFlow Serving.

    Args:
        model: a single-input, single-output Keras classifier taking ``(batch, H, W, C)`` images.
            Its output may be probabilities (a softmax output layer) or logits; ``serving_default``
            always returns probabilities, and ``saliency`` always differentiates the logits.
        base_path: the model's folder (``saved_models/<name>``); created if absent.
        version: a positive integer, or ``None`` for the next free version (1 for a new folder).
        class_names: one name per class, stored as the asset ``class_names.txt``; default
            ``"0"``, ``"1"``, ….
        top_k: how many classes ``predict_images`` returns (clipped to the number of classes).
        image_size: ``(height, width)`` that ``predict_images`` resizes decoded files to; default:
            the model's input size (required when the model accepts any size).
        mean, std: ``predict_images`` feeds ``(pixels / 255 - mean) / std`` to the model; one value
            or one per channel. The default (0, 1) gives kerasconv's [0, 1] image convention.
        resize_method: a ``tf.image.resize`` method (``"bilinear"``, ``"area"``, ``"nearest"``…).
        overwrite: replace an existing ``version`` instead of raising. A server that has loaded
            that version keeps serving the old one (TF Serving does not reload a version in
            place), so this warns; export a new version to roll out a change.
        example_signatures: also write the ``classification`` and ``regression`` signatures on
            serialized ``tf.Example`` s (feature ``image/encoded``) for TF Serving's Classify,
            Regress and MultiInference APIs.

    Returns:
        The version folder's path as a string.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5(classes=10)
        >>> path = kerasconv.export.export_model(model, "saved_models/lenet5", version=1)
        >>> # saved_model_cli show --dir saved_models/lenet5/1 --all
    """
    import keras
    import tensorflow as tf

    from kerasconv.gradients import ends_in_softmax, logits_function

    input_shape, classes = _check_model(model)
    if isinstance(base_path, bytes) or not isinstance(base_path, (str, os.PathLike)):
        raise TypeError(f"base_path must be a path; got {type(base_path).__name__}.")
    base = Path(base_path)
    if base.exists() and not base.is_dir():
        raise ValueError(f"base_path {str(base)!r} exists and is not a folder.")
    if version is None:
        version = _next_version(base)
    version = check_int("version", version, minimum=1)
    names = _check_class_names(class_names, classes)
    top_k = min(check_int("top_k", top_k, minimum=1), classes)
    height, width, channels = input_shape
    if image_size is None:
        if height is None or width is None:
            raise ValueError(
                f"Model {model.name!r} accepts any image size; pass image_size=(height, width) for "
                "the predict_images signature."
            )
        image_size = (height, width)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in image_size)
    ):
        raise ValueError(f"image_size must be (height, width) integers; got {image_size!r}.")
    image_size = (
        check_int("image height", image_size[0], 1),
        check_int("image width", image_size[1], 1),
    )
    if (height is not None and height != image_size[0]) or (
        width is not None and width != image_size[1]
    ):
        raise ValueError(
            f"image_size {image_size} differs from the model's input size {(height, width)}."
        )
    mean = _check_normalization("mean", mean, channels)
    std = _check_normalization("std", std, channels)
    if np.any(std == 0):
        raise ValueError("std must not contain zeros.")
    methods = (
        "bilinear",
        "nearest",
        "bicubic",
        "area",
        "lanczos3",
        "lanczos5",
        "gaussian",
        "mitchellcubic",
    )
    if resize_method not in methods:
        raise ValueError(f"resize_method must be one of {methods}; got {resize_method!r}.")

    if not isinstance(example_signatures, bool):
        raise TypeError(f"example_signatures must be True or False; got {example_signatures!r}.")
    target = base / str(version)
    if target.exists() and not overwrite:
        raise ValueError(
            f"Version {version} already exists at {str(target)!r}; pass overwrite=True or another "
            "version (or version=None for the next free one)."
        )
    if target.exists():
        warnings.warn(
            f"Replacing version {version} at {str(target)!r}: a server that has already loaded it "
            "keeps serving the old model (TF Serving does not reload a version in place); export "
            "a new version to roll out a change.",
            UserWarning,
            stacklevel=2,
        )

    probabilities_are_output = ends_in_softmax(model)
    logits_fn = logits_function(model)
    image_spec = tf.TensorSpec((None, height, width, channels), tf.float32, name="images")
    bytes_spec = tf.TensorSpec((None,), tf.string, name="image_bytes")
    mean_t = tf.constant(mean.reshape(1, 1, channels))
    std_t = tf.constant(std.reshape(1, 1, channels))

    def probabilities_of(images):
        outputs = tf.cast(model(images, training=False), tf.float32)
        return outputs if probabilities_are_output else tf.nn.softmax(outputs, axis=-1)

    _ensure_dir(base)
    remove_stale_staging(base)
    staging = Path(
        tempfile.mkdtemp(prefix=f".tmp-{version}-{_host_tag()}-{os.getpid()}-", dir=str(base))
    )
    try:
        # The asset travels with the SavedModel; the table reads it when the model is loaded.
        names_file = staging / CLASS_NAMES_ASSET
        names_file.write_text("\n".join(names) + "\n", encoding="utf-8")
        table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                str(names_file),
                key_dtype=tf.int64,
                key_index=tf.lookup.TextFileIndex.LINE_NUMBER,
                value_dtype=tf.string,
                value_index=tf.lookup.TextFileIndex.WHOLE_LINE,
            ),
            default_value="",
        )

        @tf.function(input_signature=[image_spec], jit_compile=False)
        def serving_default(images):
            return {"probabilities": probabilities_of(images)}

        def decode_one(data):
            image = tf.io.decode_image(data, channels=channels, expand_animations=False)
            image = tf.image.convert_image_dtype(image, tf.float32)  # uint8/uint16 → [0, 1]
            image = tf.image.resize(image, image_size, method=resize_method)
            return (image - mean_t) / std_t

        @tf.function(input_signature=[bytes_spec], jit_compile=False)
        def predict_images(image_bytes):
            images = tf.map_fn(
                decode_one,
                image_bytes,
                fn_output_signature=tf.TensorSpec((*image_size, channels), tf.float32),
            )
            probabilities = probabilities_of(images)
            scores, indices = tf.math.top_k(probabilities, k=top_k)
            return {
                "classes": table.lookup(tf.cast(indices, tf.int64)),
                "scores": scores,
                "probabilities": probabilities,
            }

        @tf.function(input_signature=[image_spec], jit_compile=False)
        def saliency(images):
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(images)
                logits = logits_fn(images)
                predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
                # Samples are independent in inference mode: the gradient of the sum is each
                # sample's own gradient.
                score = tf.reduce_sum(tf.gather(logits, predicted, axis=1, batch_dims=1))
                loss = tf.reduce_sum(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(predicted, logits)
                )
            gradient = tape.gradient(score, images)
            loss_gradient = tape.gradient(loss, images)
            del tape
            probabilities = tf.nn.softmax(logits, axis=-1)
            return {
                "saliency": tf.reduce_max(tf.abs(gradient), axis=-1),
                "class_index": predicted,
                "probability": tf.gather(probabilities, predicted, axis=1, batch_dims=1),
                "loss_gradient": loss_gradient,
            }

        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.track(table)
        archive.add_endpoint("serving_default", serving_default)
        archive.add_endpoint("predict_images", predict_images)
        archive.add_endpoint("saliency", saliency)
        if example_signatures:
            example_spec = tf.TensorSpec((None,), tf.string, name="inputs")

            def example_probabilities(serialized):
                features = tf.io.parse_example(
                    serialized, {EXAMPLE_IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string)}
                )
                images = tf.map_fn(
                    decode_one,
                    features[EXAMPLE_IMAGE_FEATURE],
                    fn_output_signature=tf.TensorSpec((*image_size, channels), tf.float32),
                )
                return probabilities_of(images)

            @tf.function(input_signature=[example_spec], jit_compile=False)
            def classification(inputs):
                scores, indices = tf.math.top_k(example_probabilities(inputs), k=top_k)
                return {"classes": table.lookup(tf.cast(indices, tf.int64)), "scores": scores}

            @tf.function(input_signature=[example_spec], jit_compile=False)
            def regression(inputs):
                return {"outputs": tf.reduce_max(example_probabilities(inputs), axis=-1)}

            archive.add_endpoint("classification", classification)
            archive.add_endpoint("regression", regression)
        written = staging / "model"
        archive.write_out(str(written), verbose=False)
        if example_signatures:
            _set_method_names(written, _METHOD_NAMES)
        if target.exists():
            # Moved aside (removed with the staging folder), so the swap leaves no half state.
            os.replace(target, staging / "replaced")
        os.replace(written, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def _set_method_names(export_dir, method_names):
    """Give signatures TF Serving's classify/regress method names (Keras writes "predict" only).

    The SavedModel's fingerprint covers ``saved_model.pb``, so it is written again afterwards.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    path = Path(export_dir) / "saved_model.pb"
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(path.read_bytes())
    for graph in proto.meta_graphs:
        for key, method in method_names.items():
            if key in graph.signature_def:
                graph.signature_def[key].method_name = method
    path.write_bytes(proto.SerializeToString())
    fingerprint = Path(export_dir) / "fingerprint.pb"
    try:
        from tensorflow.python.saved_model import fingerprinting_utils

        fingerprint.unlink(missing_ok=True)
        fingerprinting_utils.write_fingerprint(str(export_dir))
    except Exception:  # noqa: BLE001 - the fingerprint is optional; a stale one is not
        fingerprint.unlink(missing_ok=True)


def _ensure_dir(path):
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def read_class_names(version_dir):
    """The class names stored in an exported version (``assets/class_names.txt``)."""
    path = Path(version_dir) / "assets" / CLASS_NAMES_ASSET
    if not path.is_file():
        raise FileNotFoundError(f"No class names asset at {str(path)!r}.")
    return path.read_text(encoding="utf-8").splitlines()
