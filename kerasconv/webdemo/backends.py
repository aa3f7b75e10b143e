"""Where the web demo's numbers come from: a Keras model, a SavedModel, or a TF Serving server.

Every backend answers the same four questions about a batch of images ``(n, H, W, C)`` in [0, 1]:

``probabilities(x)``
    ``(n, classes)`` class probabilities.
``tags(x, top)``
    the ``top`` most probable ``(class name, probability)`` pairs per image.
``explain(x, method)``
    one ``(H, W)`` map per image: ``"saliency"`` (Simonyan et al. 2014, the largest absolute
    gradient of the predicted class's logit over the channels) or ``"grad_cam"`` (Selvaraju et
    al. 2017, Keras models only).
``adversarial_candidates(x, eps)``
    ``(len(eps), n, H, W, C)`` adversarial images, one per budget (:mod:`kerasconv.webdemo.attack`:
    PGD on the logit margin, in process and for a SavedModel; on a TF Serving server, steps along
    the sign of the server's cross-entropy gradient, the only input gradient an export serves).

``KerasBackend`` runs everything in process with :mod:`kerasconv.visualize` and
:mod:`kerasconv.attacks`. ``SavedModelBackend`` loads a SavedModel folder (a kerasconv export or
``model.export()``) and differentiates its ``serving_default`` signature. ``RemoteBackend`` talks
to TF Serving's REST API (the real ``tensorflow_model_server`` or ``kerasconv serve``) through
:class:`kerasconv.serving.Client`: tags from the ``predict_images`` signature (the server decodes a
PNG and names the classes), saliency from the ``saliency`` signature, and the attack's direction
from that signature's ``loss_gradient`` output (the server computes the gradient).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from kerasconv.webdemo.attack import STEPS

EXPLANATIONS = ("saliency", "grad_cam")


def to_png(image):
    """PNG bytes of a float image ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` in [0, 1]."""
    from PIL import Image

    array = np.asarray(image, dtype="float32")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    pixels = np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def quantize(x):
    """Round to 8 bits, as an image file stores it (what is shown is what was classified)."""
    return (np.round(np.clip(np.asarray(x, dtype="float32"), 0.0, 1.0) * 255.0) / 255.0).astype(
        "float32"
    )


def _top(probabilities, names, top):
    order = np.argsort(-probabilities, axis=-1, kind="stable")[:, :top]
    return [
        [(names[i], float(row[i])) for i in indices]
        for row, indices in zip(probabilities, order, strict=True)
    ]


def _check_class_names(class_names, classes, what):
    if class_names is None:
        return [str(i) for i in range(classes)]
    names = [str(name).strip() for name in class_names]
    if len(names) != classes:
        raise ValueError(
            f"{what} has {classes} classes but {len(names)} class names were given "
            f"({', '.join(names)}); pass one name per class."
        )
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ValueError(f"class names must be non-empty and unique; got {names}.")
    return names


class Backend:
    """The common interface (see the module docstring); subclasses define ``probabilities``."""

    #: what the page says about where predictions are computed
    where = "in process"
    #: explanation methods this backend can compute
    explanations = ("saliency",)
    #: how :meth:`adversarial_candidates` attacks, for the page
    attack_name = f"PGD on the logit margin, {STEPS} steps"
    #: why the last attack could not be made ("" when it was)
    attack_note = ""

    def __init__(self, name, input_shape, class_names):
        self.name = name
        self.input_shape = tuple(int(v) for v in input_shape)
        self.class_names = list(class_names) if class_names is not None else None

    def tags(self, x, top=5):
        return _top(self.probabilities(x), self.class_names, top)

    def describe(self):
        height, width, channels = self.input_shape
        return {
            "name": self.name,
            "where": self.where,
            "input": {"height": height, "width": width, "channels": channels},
            "classes": self.class_names,
            "explanations": list(self.explanations),
        }


class KerasBackend(Backend):
    """A Keras classifier run in process (softmax or logits output)."""

    explanations = EXPLANATIONS

    def __init__(self, model, class_names=None, name=None):
        import keras

        from kerasconv.gradients import ends_in_softmax
        from kerasconv.visualize._common import last_spatial_layer

        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
        shape = tuple(model.inputs[0].shape)
        if len(shape) != 4 or None in shape[1:] or shape[-1] not in (1, 3):
            raise ValueError(
                f"the web demo needs an image classifier with a fixed input (H, W, 1 or 3); "
                f"{model.name!r} takes {shape}."
            )
        classes = int(model.outputs[0].shape[-1])
        self.model = model
        # Grad-CAM needs a layer with spatial extent (the one grad_cam picks by default).
        if last_spatial_layer(model) is None:
            self.explanations = ("saliency",)
        self._softmax = ends_in_softmax(model)
        self._attack = None
        super().__init__(
            name or model.name, shape[1:], _check_class_names(class_names, classes, model.name)
        )

    def probabilities(self, x):
        import tensorflow as tf

        outputs = self.model(tf.convert_to_tensor(x, tf.float32), training=False)
        outputs = tf.cast(outputs, tf.float32)
        if not self._softmax:
            outputs = tf.nn.softmax(outputs, axis=-1)
        return outputs.numpy()

    def explain(self, x, method="saliency"):
        import kerasconv

        if method == "saliency":
            return kerasconv.visualize.saliency_map(self.model, x)
        if method == "grad_cam":
            return kerasconv.visualize.grad_cam(self.model, x)
        raise ValueError(f"method must be one of {EXPLANATIONS}; got {method!r}.")

    def adversarial_candidates(self, x, eps):
        """``(len(eps), n, H, W, C)``: PGD on the logit margin for every eps (one graph call)."""
        import tensorflow as tf

        from kerasconv.gradients import logits_function
        from kerasconv.webdemo.attack import build_margin_attack

        if self._attack is None:
            self._attack = build_margin_attack(logits_function(self.model), self.input_shape)
        labels = np.argmax(self.probabilities(x), axis=-1).astype("int32")
        return self._attack(
            tf.constant(x, tf.float32), tf.constant(labels), tf.constant(eps, tf.float32)
        ).numpy()


def find_saved_model(path):
    """The SavedModel folder for ``path``: itself, or its latest integer version (TF Serving)."""
    path = Path(path)
    if (path / "saved_model.pb").is_file():
        return path
    versions = sorted(
        (int(entry.name), entry)
        for entry in path.iterdir()
        if entry.is_dir() and entry.name.isdigit() and (entry / "saved_model.pb").is_file()
    )
    if not versions:
        raise ValueError(
            f"{str(path)!r} holds no saved_model.pb, directly or in a version folder (1/, 2/, ...)."
        )
    return versions[-1][1]


class SavedModelBackend(Backend):
    """A SavedModel folder (a kerasconv export, a TF Serving version folder or ``model.export()``).

    Uses the ``serving_default`` signature (its single image input; the ``probabilities`` output
    of a kerasconv export, else its single output, turned into probabilities with a softmax when
    its rows are not already distributions). Saliency uses the export's ``saliency`` signature
    when present, otherwise the gradient of the predicted class's log-probability. The attack
    differentiates ``serving_default`` directly: PGD on the margin of the log-probabilities, which
    equals the logit margin while no probability underflows float32 (margins below ~85 nats).
    """

    def __init__(self, path, class_names=None, name=None):
        import tensorflow as tf

        folder = find_saved_model(path)
        loaded = tf.saved_model.load(str(folder))
        if "serving_default" not in loaded.signatures:
            raise ValueError(f"SavedModel {str(folder)!r} has no serving_default signature.")
        self._loaded = loaded
        self._serve = loaded.signatures["serving_default"]
        specs = self._serve.structured_input_signature[1]
        if len(specs) != 1:
            raise ValueError(
                f"serving_default of {str(folder)!r} takes {sorted(specs)}; the web demo needs a "
                "single image input."
            )
        ((self._input_name, spec),) = specs.items()
        shape = tuple(spec.shape)
        if len(shape) != 4 or None in shape[1:] or shape[-1] not in (1, 3):
            raise ValueError(
                f"serving_default of {str(folder)!r} takes {shape}; the web demo needs "
                "(batch, H, W, 1 or 3) images of a fixed size."
            )
        outputs = self._serve.structured_outputs
        if "probabilities" in outputs:
            self._output_name = "probabilities"
        elif len(outputs) == 1:
            self._output_name = next(iter(outputs))
        else:
            raise ValueError(
                f"serving_default of {str(folder)!r} has outputs {sorted(outputs)}; expected "
                "'probabilities' or a single output."
            )
        self._saliency = loaded.signatures.get("saliency")
        self._attack = None
        classes = int(outputs[self._output_name].shape[-1])
        if class_names is None:
            asset = folder / "assets" / "class_names.txt"
            if asset.is_file():
                class_names = asset.read_text(encoding="utf-8").splitlines()
        super().__init__(
            name or Path(path).resolve().name,
            shape[1:],
            _check_class_names(class_names, classes, str(folder)),
        )
        self.where = f"in process (SavedModel {folder})"

    def _log_probabilities(self, x):
        import tensorflow as tf

        outputs = tf.cast(self._serve(**{self._input_name: x})[self._output_name], tf.float32)
        total = tf.reduce_sum(outputs, axis=-1)
        is_distribution = tf.logical_and(
            tf.reduce_all(outputs >= 0.0), tf.reduce_all(tf.abs(total - 1.0) < 1e-3)
        )
        return tf.cond(
            is_distribution,
            lambda: tf.math.log(tf.maximum(outputs, 1e-30)),
            lambda: tf.nn.log_softmax(outputs, axis=-1),
        )

    def probabilities(self, x):
        import tensorflow as tf

        return tf.exp(self._log_probabilities(tf.constant(x, tf.float32))).numpy()

    def _gradient(self, x):
        """Gradient of the predicted class's log-probability, and the prediction."""
        import tensorflow as tf

        x = tf.constant(x, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            log_probabilities = self._log_probabilities(x)
            predicted = tf.argmax(log_probabilities, axis=-1, output_type=tf.int32)
            score = tf.reduce_sum(tf.gather(log_probabilities, predicted, axis=1, batch_dims=1))
        return tape.gradient(score, x).numpy()

    def explain(self, x, method="saliency"):
        if method != "saliency":
            raise ValueError(f"a SavedModel supports the saliency map only; got {method!r}.")
        if self._saliency is not None:
            import tensorflow as tf

            return self._saliency(images=tf.constant(x, tf.float32))["saliency"].numpy()
        return np.max(np.abs(self._gradient(x)), axis=-1)

    def adversarial_candidates(self, x, eps):
        """``(len(eps), n, H, W, C)``: PGD on the log-probability margin (one graph call)."""
        import tensorflow as tf

        from kerasconv.webdemo.attack import build_margin_attack

        if self._attack is None:
            self._attack = build_margin_attack(self._log_probabilities, self.input_shape)
        labels = np.argmax(self.probabilities(x), axis=-1).astype("int32")
        return self._attack(
            tf.constant(x, tf.float32), tf.constant(labels), tf.constant(eps, tf.float32)
        ).numpy()


def _signature_inputs(metadata, signature):
    try:
        return metadata["metadata"]["signature_def"]["signature_def"][signature]["inputs"]
    except (KeyError, TypeError):
        return None


class RemoteBackend(Backend):
    """A model on a TF Serving REST server exported by ``kerasconv export`` (three signatures).

    The attack is one fast-gradient-sign step (Goodfellow et al. 2015) along the ``loss_gradient``
    output of the exported ``saliency`` signature: the gradient of the cross-entropy of the
    model's own prediction, computed by the server (the only input gradient an export serves, and
    it is taken at the server's own prediction, so it cannot drive several steps against a fixed
    label). When the served probability of the prediction is 1 in float32 that gradient has no
    usable direction (see :mod:`kerasconv.webdemo.attack`): no attack is made and
    :attr:`attack_note` says why.

    Args:
        url: the REST address (``http://127.0.0.1:8501``).
        model_name: the served model's name.
    """

    def __init__(self, url, model_name, timeout=60.0):
        from kerasconv.serving import Client, ServingError

        self.client = Client(url, model_name, timeout=timeout)
        try:
            metadata = self.client.metadata()
        except ServingError as error:
            raise ValueError(f"cannot use model {model_name!r} at {url}: {error}") from None
        missing = [
            name
            for name in ("serving_default", "predict_images", "saliency")
            if _signature_inputs(metadata, name) is None
        ]
        if missing:
            raise ValueError(
                f"model {model_name!r} at {url} lacks the signature(s) {', '.join(missing)}; "
                "export it with `kerasconv export` (kerasconv.export.export_model)."
            )
        inputs = _signature_inputs(metadata, "serving_default")
        if "images" not in inputs:
            raise ValueError(f"serving_default of {model_name!r} has no 'images' input.")
        dims = inputs["images"].get("tensor_shape", {}).get("dim", [])
        shape = tuple(int(dim.get("size", -1)) for dim in dims)
        if len(shape) != 4 or min(shape[1:]) < 1 or shape[-1] not in (1, 3):
            raise ValueError(
                f"serving_default of {model_name!r} takes {shape}; the web demo needs fixed-size "
                "(batch, H, W, 1 or 3) images."
            )
        super().__init__(model_name, shape[1:], None)
        self.where = f"TF Serving REST at {self.client.base_url}"
        outputs = metadata["metadata"]["signature_def"]["signature_def"]["saliency"]["outputs"]
        if "loss_gradient" not in outputs:
            raise ValueError(
                f"the saliency signature of {model_name!r} has no loss_gradient output; export "
                "the model again with this version of kerasconv (`kerasconv export`)."
            )

    def probabilities(self, x):
        return np.asarray(self.client.predict(np.asarray(x, np.float32)), dtype="float32")

    def tags(self, x, top=5):
        """Names and scores from the server: each image goes as a PNG to ``predict_images``."""
        answer = self.client.predict_images([to_png(image) for image in x])
        classes = np.asarray(answer["classes"])
        scores = np.asarray(answer["scores"], dtype="float32")
        rows = []
        for row_names, row_scores in zip(classes, scores, strict=True):
            pairs = zip(row_names[:top], row_scores[:top], strict=True)
            rows.append([(str(name), float(score)) for name, score in pairs])
        return rows

    def explain(self, x, method="saliency"):
        if method != "saliency":
            raise ValueError(f"a served model supports the saliency map only; got {method!r}.")
        return np.asarray(self.client.saliency(x)["saliency"], dtype="float32")

    attack_name = "FGSM on the served cross-entropy gradient"

    def adversarial_candidates(self, x, eps):
        """``(len(eps), n, H, W, C)`` fast gradient sign images (unchanged where saturated)."""
        answer = self.client.saliency(np.asarray(x, dtype="float32"))
        direction = np.sign(np.asarray(answer["loss_gradient"], dtype="float32"))
        saturated = np.asarray(answer["probability"], dtype="float32") >= 1.0
        direction[saturated] = 0.0
        self.attack_note = (
            "The served probability rounds to 100%: the cross-entropy gradient the server "
            "returns has no usable direction, so no attack was made (in process and for a "
            "SavedModel the demo attacks the logit margin instead)."
            if saturated.any()
            else ""
        )
        steps = np.asarray(eps, dtype="float32").reshape(-1, 1, 1, 1, 1)
        return np.clip(x[None] + steps * direction[None], 0.0, 1.0)


def default_model_dir():
    return os.path.join("out", "webdemo", "models")
