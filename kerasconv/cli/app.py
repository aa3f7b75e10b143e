"""``kerasconv app``: the web demo (``apps/webdemo``) in the browser at http://127.0.0.1:8080.

The demo lives in the repository's ``apps/`` folder, next to the ``kerasconv`` package; when
``apps`` is not importable (the console script does not run from the repository root) the
checkout that holds this package is put on the path.
"""

from __future__ import annotations

import os
import sys

_DESCRIPTION = (
    "Serve the web demo: upload an image or pick a sample photograph or digit, and see the "
    "predicted tags with percentages, the image's size and the time taken, a saliency or "
    "Grad-CAM overlay, and a fast-gradient-sign adversarial version with its new prediction. "
    "The default digits model is trained on first start (about a minute) and cached under "
    "out/webdemo/models."
)


def _import_webdemo():
    try:
        import apps.webdemo as webdemo
    except ModuleNotFoundError as error:
        if error.name not in ("apps", "apps.webdemo"):
            raise
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        if not os.path.isfile(os.path.join(root, "apps", "webdemo", "__init__.py")):
            from kerasconv.cli import UsageError

            raise UsageError(
                "the web demo lives in the repository's apps/ folder, which this installation "
                "lacks; run it from a kerasconv checkout (python -m apps.webdemo)"
            ) from None
        sys.path.insert(0, root)
        for name in [name for name in sys.modules if name == "apps" or name.startswith("apps.")]:
            del sys.modules[name]
        import apps.webdemo as webdemo
    return webdemo


def _add_arguments(parser):
    # The same options as `python -m apps.webdemo` (a test checks they agree), declared here so
    # that building the parser never imports the demo.
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any)")
    parser.add_argument(
        "--model", default="digits", help="digits (default), faces, a .keras file or a SavedModel"
    )
    parser.add_argument(
        "--class-names", default=None, help="comma-separated class names for --model PATH"
    )
    parser.add_argument(
        "--server", default=None, help="TF Serving REST URL, e.g. http://127.0.0.1:8501"
    )
    parser.add_argument("--model-name", default=None, help="the served model's name (--server)")
    parser.add_argument(
        "--preprocess",
        choices=("auto", "digits", "photo"),
        default="auto",
        help="digits: invert light backgrounds and frame the ink like the digits data; "
        "auto: digits for the digits model, photo otherwise",
    )
    parser.add_argument(
        "--cache-dir", default=None, help="where trained built-in models go (out/webdemo/models)"
    )
    parser.add_argument("--max-upload-mb", type=float, default=4.0, help="upload limit in MB")


def register(subparsers):
    parser = subparsers.add_parser(
        "app",
        help="the web demo: tags, saliency and an adversarial image for an uploaded picture",
        description=_DESCRIPTION,
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from kerasconv.cli import UsageError

    webdemo = _import_webdemo()
    try:
        webdemo.run(args)
    except RuntimeError as error:
        raise UsageError(str(error)) from None
