"""The models the web demo serves: trained here on first start, or the user's own.

``"fashion"`` (the default)
    LeNet-5 (modern form) on Fashion-MNIST's 60,000 training images at 32×32 (Zalando's 28×28
    resized), 8 epochs of the seeds' SGD recipe; must reach 88% on the 10,000 test images.
    Cached as ``<cache_dir>/fashion.keras`` with ``fashion.json``. ``quick=True`` (``--quick``)
    trains on the first 12,000 images for 2 epochs instead (for tests and a first look; must
    reach 75%), cached apart as ``fashion-quick.keras``.
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
    the model on a TF Serving REST server (:class:`kerasconv.webdemo.backends.RemoteBackend`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from kerasconv.webdemo.backends import (
    KerasBackend,
    RemoteBackend,
    SavedModelBackend,
    default_model_dir,
)

BUILT_IN = {
    "fashion": {
        "dataset": "fashion_mnist",
        "train_images": None,
        "epochs": 8,
        "batch_size": 64,
        "learning_rate": 0.05,
        "augment": False,
        "minimum_accuracy": 0.88,
        "style": "fashion",
        "description": "LeNet-5 on Fashion-MNIST (clothing, light on black, 32×32)",
    },
    "digits": {
        "dataset": "digits",
        "train_images": None,
        "epochs": 20,
        "batch_size": 32,
        "learning_rate": 0.05,
        "augment": True,
        "minimum_accuracy": 0.97,
        "style": "digits",
        "description": "LeNet-5 on the real handwritten digits (white on black, 32×32)",
    },
    "faces": {
        "dataset": "lfw_faces",
        "train_images": None,
        "epochs": 40,
        "batch_size": 16,
        "learning_rate": 0.05,
        "augment": True,
        "minimum_accuracy": 0.75,
        "style": "photo",
        "description": "LeNet-5 on LFW faces vs non-faces (grey, 32×32)",
    },
}


#: the quick settings (``quick=True``) that differ from the full ones
QUICK = {"fashion": {"train_images": 12000, "epochs": 2, "minimum_accuracy": 0.75}}


def settings_for(kind, quick=False):
    """The training settings of a built-in model (``quick``: the short ones, where defined)."""
    if kind not in BUILT_IN:
        raise ValueError(f"built-in models are {sorted(BUILT_IN)}; got {kind!r}.")
    if quick and kind not in QUICK:
        raise ValueError(f"--quick applies to {sorted(QUICK)}; the {kind} model trains in full.")
    return dict(BUILT_IN[kind], **(QUICK[kind] if quick else {}))


def _arrays(dataset, split, count=None):
    """The first ``count`` images of a split (all when None) at 32×32, as arrays; only those
    ``count`` are decoded and resized."""
    import numpy as np

    import kerasconv

    batches = kerasconv.data.load(dataset, split, batch_size=1000, image_size=32, shuffle=False)
    if count is not None:
        batches = batches.take(-(-count // 1000))
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in batches), strict=True)
    x, y = np.concatenate(xs)[:count], np.concatenate(ys)[:count]
    return x.astype("float32"), y.astype("int64")


def train_built_in(kind, cache_dir=None, verbose=True, quick=False):
    """Train (or load from the cache) a built-in model; returns ``(model, record)``.

    ``record`` holds ``class_names``, ``test_accuracy``, ``seconds`` and the settings. With
    ``verbose`` the training prints one line per epoch (a progress bar on a terminal).
    """
    import sys

    import keras
    import numpy as np

    import kerasconv

    settings = settings_for(kind, quick)
    stem = f"{kind}-quick" if quick else kind
    folder = Path(cache_dir or default_model_dir())
    model_path = folder / f"{stem}.keras"
    record_path = folder / f"{stem}.json"
    if model_path.is_file() and record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        return keras.saving.load_model(model_path, compile=False), record
    if verbose:
        print(
            f"Training the {stem} model once ({settings['description']}, {settings['epochs']} "
            f"epochs; cached in {model_path}) ...",
            flush=True,
        )
    start = time.perf_counter()
    x_train, y_train = _arrays(settings["dataset"], "train", settings["train_images"])
    x_test, y_test = _arrays(settings["dataset"], "test")
    names = kerasconv.data.class_names(settings["dataset"])
    # Seed before building: the initial weights are part of what makes the model reproducible.
    keras.utils.set_random_seed(0)
    model = kerasconv.models.LeNet5(classes=len(names), name=f"lenet5_{kind}")
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        augment=settings["augment"] or None,
        seed=0,
        # A progress bar on a terminal, one line per epoch in a log.
        verbose=(1 if sys.stdout.isatty() else 2) if verbose else 0,
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
        "train_images": int(len(y_train)),
        **{
            key: settings[key]
            for key in ("dataset", "epochs", "batch_size", "learning_rate", "augment")
        },
        "description": settings["description"],
    }
    folder.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a killed first start never leaves a half-written cache.
    temporary = folder / f".{stem}.{os.getpid()}.keras"
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


def load_backend(
    model="fashion",
    class_names=None,
    server=None,
    model_name=None,
    cache_dir=None,
    quick=False,
):
    """The backend and preprocessing style for the demo's ``--model``/``--server`` options.

    Returns ``(backend, style, note)``: ``style`` is the built-in model's (``"fashion"``,
    ``"digits"``, ``"photo"`` for faces) and ``"photo"`` otherwise; ``note`` is a line about the
    model for the page. ``quick`` trains the built-in Fashion-MNIST model briefly (see
    :data:`QUICK`).
    """
    import keras

    class_names = parse_class_names(class_names)
    if server is not None or model_name is not None:
        if quick:
            raise ValueError("--quick applies to the built-in fashion model, not a served one.")
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
        raise TypeError(
            f"model must be {', '.join(map(repr, BUILT_IN))}, a path or a keras.Model; "
            f"got {model!r}."
        )
    model = os.fspath(model)
    if model in BUILT_IN:
        if class_names is not None:
            raise ValueError(f"the built-in {model} model has its own class names.")
        network, record = train_built_in(model, cache_dir, quick=quick)
        backend = KerasBackend(network, record["class_names"], name=f"{model} (LeNet-5)")
        note = (
            f"{record['description']}; {record['test_accuracy']:.1%} accuracy on "
            f"{record['test_images']} test images"
            + (f" (quick: {record['train_images']} images, {record['epochs']} epochs)" * quick)
        )
        return backend, record["style"], note
    if quick:
        raise ValueError("--quick applies to the built-in fashion model only.")
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(
            f"--model {model!r} is neither {', '.join(map(repr, BUILT_IN))}, a .keras file nor a "
            "SavedModel folder"
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
