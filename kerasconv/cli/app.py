"""``kerasconv app``: the web demo (:mod:`kerasconv.webdemo`) in the browser at http://127.0.0.1:8080.

The options are the demo's own (:func:`kerasconv.webdemo.options.add_arguments`), so ``kerasconv
app`` and ``python -m kerasconv.webdemo`` take the same ones. Building the parser imports
neither NumPy nor TensorFlow.
"""

from __future__ import annotations


def register(subparsers):
    from kerasconv.webdemo.options import DESCRIPTION, add_arguments

    parser = subparsers.add_parser(
        "app",
        help="the web demo: tags, saliency and an adversarial image for an uploaded picture",
        description=DESCRIPTION,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from kerasconv.cli import UsageError
    from kerasconv.webdemo.server import run as serve

    try:
        serve(args)
    except RuntimeError as error:
        raise UsageError(str(error)) from None
