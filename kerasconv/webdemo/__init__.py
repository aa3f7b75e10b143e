"""The web demo: upload an image, see what a convnet makes of it, in the browser.

    kerasconv app                            # http://127.0.0.1:8080, LeNet-5 on Fashion-MNIST
    kerasconv app --model digits             # the handwritten digits (or --model faces)
    kerasconv app --model my.keras --class-names cat,dog
    kerasconv serve --model_name lenet5 --model_base_path saved_models/lenet5 &
    kerasconv app --server http://127.0.0.1:8501 --model-name lenet5

``python -m kerasconv.webdemo`` takes the same options.

Like the Clarifai demo of the lecture (seed 000): the predicted tags with percentages, the
image's size and the time taken; then a saliency map or Grad-CAM over what the model sees, and a
adversarial version (the smallest ε that changes the prediction) with its new prediction and the
difference amplified ten times. Everything is served from this package (the page is package data;
no CDN); nothing leaves 127.0.0.1.

Modules: :mod:`~kerasconv.webdemo.backends` (Keras, SavedModel, TF Serving),
:mod:`~kerasconv.webdemo.models` (the built-in models, trained on first start),
:mod:`~kerasconv.webdemo.analysis` (uploads, preprocessing, the analysis),
:mod:`~kerasconv.webdemo.attack` (the adversarial image: PGD on the logit margin),
:mod:`~kerasconv.webdemo.server` (HTTP server and command line), ``page.html`` (the page).
"""

import importlib

# Where each public name lives; imported on first use, so that the CLI's parser (which needs only
# kerasconv.webdemo.options) does not import NumPy or TensorFlow.
_WHERE = {
    "EPSILONS": "attack",
    "STEPS": "attack",
    "build_margin_attack": "attack",
    "logit_margin": "attack",
    "MAX_UPLOAD_BYTES": "options",
    "add_arguments": "options",
    "UploadError": "analysis",
    "analyze": "analysis",
    "decode_upload": "analysis",
    "object_form": "analysis",
    "preprocess": "analysis",
    "KerasBackend": "backends",
    "RemoteBackend": "backends",
    "SavedModelBackend": "backends",
    "load_backend": "models",
    "train_built_in": "models",
    "WebDemo": "server",
    "main": "server",
    "run": "server",
}

__all__ = [
    "EPSILONS",
    "MAX_UPLOAD_BYTES",
    "STEPS",
    "build_margin_attack",
    "logit_margin",
    "object_form",
    "KerasBackend",
    "RemoteBackend",
    "SavedModelBackend",
    "UploadError",
    "WebDemo",
    "add_arguments",
    "analyze",
    "decode_upload",
    "load_backend",
    "main",
    "preprocess",
    "run",
    "train_built_in",
]


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
