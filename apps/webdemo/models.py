"""The models the web demo serves: trained here on first start, or the user's own.

``"digits"``
    LeNet-5 (modern form) on scikit-learn's real handwritten digits at 32×32, 20 epochs of the
    seeds' SGD recipe with small random translations; must reach 97% test accuracy. Cached as
    ``<cache_dir>/digits.keras`` with ``digits.json`` (class names, accuracy, training time).
``"faces"``
    LeNet-5 on scikit-image's LFW subset (faces vs non-faces) at 32×32, 40 epochs; cached as
    ``faces.keras``.
a path
    a ``.keras`` file or a SavedModel folder (a version folder, or a TF Serving base folder whose
    latest version is used), with ``class_names`` (default ``0, 1, ...``; a kerasconv export
    carries its own).
``server`` + ``model_name``
    the model on a TF Serving REST server (:class:`apps.webdemo.backends.RemoteBackend`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from apps.webdemo.backends import (
    KerasBackend,
    RemoteBackend,
    SavedModelBackend,
    default_model_dir,
)

BUILT_IN = {
    "digits": {
        "dataset": "digits",
        "epochs": 20,
        "batch_size": 32,
        "learning_rate": 0.05,
        "minimum_accuracy": 0.97,
        "style": "digits",
        "description": "LeNet-5 on the real handwritten digits (white on black, 32×32)",
    },
    "faces": {
        "dataset": "lfw_faces",
        "epochs": 40,
        "batch_size": 16,
        "learning_rate": 0.05,
        "minimum_accuracy": 0.75,
        "style": "photo",
        "description": "LeNet-5 on LFW faces vs non-faces (grey, 32×32)",
    },
}


def train_built_in(kind, cache_dir=None, verbose=True):
    """Train (or load from the cache) a built-in model; returns ``(model, record)``.

    ``record`` holds ``class_names``, ``test_accuracy``, ``seconds`` and the settings.
    """
    import keras
    import numpy as np

    import kerasconv

    if kind not in BUILT_IN:
        raise ValueError(f"built-in models are {sorted(BUILT_IN)}; got {kind!r}.")
    settings = BUILT_IN[kind]
    folder = Path(cache_dir or default_model_dir())
    model_path = folder / f"{kind}.keras"
    record_path = folder / f"{kind}.json"
    if model_path.is_file() and record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        return keras.saving.load_model(model_path, compile=False), record
    if verbose:
        print(f"Training the {kind} model once ({settings['description']}) ...", flush=True)
    start = time.perf_counter()
    x_train, y_train = kerasconv.data.load_arrays(settings["dataset"], "train", image_size=32)
    x_test, y_test = kerasconv.data.load_arrays(settings["dataset"], "test", image_size=32)
    names = kerasconv.data.class_names(settings["dataset"])
    model = kerasconv.models.LeNet5(classes=len(names), name=f"lenet5_{kind}")
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        augment=True,
        seed=0,
        verbose=0,
    )
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    seconds = time.perf_counter() - start
    if accuracy < settings["minimum_accuracy"]:
        raise RuntimeError(
            f"the {kind} model reached {accuracy:.1%} test accuracy, below the "
            f"{settings['minimum_accuracy']:.0%} it must reach; not caching it."
        )
    record = {
        "class_names": list(names),
        "test_accuracy": accuracy,
        "test_images": int(len(y_test)),
        "seconds": round(seconds, 1),
        "style": settings["style"],
        **{key: settings[key] for key in ("dataset", "epochs", "batch_size", "learning_rate")},
        "description": settings["description"],
    }
    folder.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a killed first start never leaves a half-written cache.
    temporary = folder / f".{kind}.{os.getpid()}.keras"
    model.save(temporary)
    os.replace(temporary, model_path)
    record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    if verbose:
        print(f"  {accuracy:.1%} test accuracy in {seconds:.0f} s; saved {model_path}", flush=True)
    return model, record


def parse_class_names(text):
    """``"cat,dog"`` → ``["cat", "dog"]`` (``None`` stays ``None``)."""
    if text is None:
        return None
    if isinstance(text, str):
        names = [name.strip() for name in text.split(",")]
    else:
        names = [str(name).strip() for name in text]
    if not names or any(not name for name in names):
        raise ValueError(f"class names must be a comma-separated list of names; got {text!r}.")
    return names


def load_backend(model="digits", class_names=None, server=None, model_name=None, cache_dir=None):
    """The backend and preprocessing style for the demo's ``--model``/``--server`` options.

    Returns ``(backend, style, note)``: ``style`` is ``"digits"`` for the digits model and
    ``"photo"`` otherwise; ``note`` is a line about the model for the page.
    """
    import keras

    class_names = parse_class_names(class_names)
    if server is not None or model_name is not None:
        if not (server and model_name):
            raise ValueError("pass --server URL together with --model-name NAME.")
        if class_names is not None:
            raise ValueError(
                "--class-names does not apply to a served model: its names come from its "
                "predict_images signature."
            )
        backend = RemoteBackend(server, model_name)
        return backend, "photo", f"{model_name} served by {backend.client.base_url}"
    if isinstance(model, keras.Model):
        backend = KerasBackend(model, class_names)
        return backend, "photo", f"Keras model {model.name}"
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be 'digits', 'faces', a path or a keras.Model; got {model!r}.")
    model = os.fspath(model)
    if model in BUILT_IN:
        if class_names is not None:
            raise ValueError(f"the built-in {model} model has its own class names.")
        network, record = train_built_in(model, cache_dir)
        backend = KerasBackend(network, record["class_names"], name=f"{model} (LeNet-5)")
        note = (
            f"{record['description']}; {record['test_accuracy']:.1%} accuracy on "
            f"{record['test_images']} test images"
        )
        return backend, record["style"], note
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(
            f"--model {model!r} is neither 'digits', 'faces', a .keras file nor a SavedModel folder"
        )
    if path.is_dir():
        backend = SavedModelBackend(path, class_names)
        return backend, "photo", f"SavedModel {backend.name}"
    if path.suffix != ".keras":
        raise ValueError(f"--model {model!r}: expected a .keras file or a SavedModel folder.")
    try:
        network = keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - any load failure is the user's file
        raise ValueError(f"could not load {model!r} as a Keras model: {error}") from None
    backend = KerasBackend(network, class_names, name=path.stem)
    return backend, "photo", f"Keras model {path.name}"
