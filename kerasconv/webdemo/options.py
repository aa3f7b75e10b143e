"""The web demo's command-line options, shared by ``kerasconv app`` and ``python -m kerasconv.webdemo``.

Kept free of NumPy and TensorFlow imports, so that building the CLI's parser stays fast.
"""

from __future__ import annotations

#: the default upload limit
MAX_UPLOAD_BYTES = 4 * 1024 * 1024

DESCRIPTION = (
    "Serve the web demo at http://127.0.0.1:8080: upload an image or pick a sample (photographs, "
    "Fashion-MNIST and digit test images) and see the predicted tags with percentages, the "
    "image's size and the time taken, a saliency or Grad-CAM overlay, and the smallest "
    "adversarial change that flips the prediction. The default Fashion-MNIST model is trained "
    "on first start (a few minutes; --quick: well under one) and cached under out/webdemo/models."
)


def add_arguments(parser):
    """The web demo's options: ``kerasconv app`` and ``python -m kerasconv.webdemo`` both use these."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port (0: any free one; default: %(default)s)"
    )
    parser.add_argument(
        "--model",
        default="fashion",
        help="fashion (LeNet-5 on Fashion-MNIST, trained on first start and cached), digits, "
        "faces, a .keras file or a SavedModel folder (default: %(default)s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train the built-in fashion model briefly (12,000 images, 2 epochs; cached apart) "
        "instead of in full (default: off)",
    )
    parser.add_argument(
        "--class-names",
        default=None,
        help="comma-separated class names for --model PATH (default: the model's own, else 0, 1, …)",
    )
    parser.add_argument(
        "--server",
        default=None,
        help="TF Serving REST URL, e.g. http://127.0.0.1:8501 (default: none, run in process)",
    )
    parser.add_argument(
        "--model-name", default=None, help="the served model's name, with --server (default: none)"
    )
    parser.add_argument(
        "--preprocess",
        choices=("auto", "fashion", "digits", "photo"),
        default="auto",
        help="how uploads become model inputs: fashion / digits bring a photograph to the data's "
        "form (light object on black, cropped to it), photo centre-crops and resizes; auto picks "
        "the built-in model's own, photo otherwise (default: %(default)s)",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="where trained built-in models go (default: out/webdemo/models)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=MAX_UPLOAD_BYTES / 1024 / 1024,
        help="upload limit in MB (default: %(default)s)",
    )
