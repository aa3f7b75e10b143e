"""The web demo: upload an image, see what a convnet makes of it, in the browser.

    python -m apps.webdemo                       # http://127.0.0.1:8080, the digits model
    python -m apps.webdemo --model faces         # LFW faces vs non-faces
    python -m apps.webdemo --model my.keras --class-names cat,dog
    kerasconv serve --model_name lenet5 --model_base_path saved_models/lenet5 &
    python -m apps.webdemo --server http://127.0.0.1:8501 --model-name lenet5

Like the Clarifai demo of the lecture (seed 000): the predicted tags with percentages, the
image's size and the time taken; then a saliency map or Grad-CAM over what the model sees, and a
fast-gradient-sign adversarial version with its new prediction and the difference amplified ten
times. Everything is served from this package (no CDN); nothing leaves 127.0.0.1.

Modules: :mod:`~apps.webdemo.backends` (Keras, SavedModel, TF Serving),
:mod:`~apps.webdemo.models` (the built-in models, trained on first start),
:mod:`~apps.webdemo.analysis` (uploads, preprocessing, the analysis),
:mod:`~apps.webdemo.server` (HTTP server and command line), ``page.html`` (the page).
"""

from apps.webdemo.analysis import MAX_UPLOAD_BYTES, UploadError, analyze, decode_upload, preprocess
from apps.webdemo.backends import KerasBackend, RemoteBackend, SavedModelBackend
from apps.webdemo.models import load_backend, train_built_in
from apps.webdemo.server import WebDemo, add_arguments, main, run

__all__ = [
    "MAX_UPLOAD_BYTES",
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
