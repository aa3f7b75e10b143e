"""``kerasconv export``: a ``.keras`` classifier to TF Serving's ``base_path/<version>/`` layout."""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a .keras classifier as a SavedModel version for TF Serving",
        description=(
            "Export a .keras image classifier to BASE_PATH/<version>/ (TF Serving's layout) with "
            "the signatures serving_default, predict_images and saliency."
        ),
    )
    parser.add_argument(
        "--model", required=True, help=".keras file or a kerasconv model name (required)"
    )
    parser.add_argument(
        "--base_path",
        "--base-path",
        required=True,
        help="the model's folder, e.g. saved_models/NAME (required)",
    )
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        help="version number (default: %(default)s, the next free one)",
    )
    parser.add_argument(
        "--class_names",
        "--class-names",
        default=None,
        help="comma-separated class names, or a text file with one name per line "
        "(default: %(default)s, the class indices)",
    )
    parser.add_argument(
        "--top_k",
        "--top-k",
        type=int,
        default=5,
        help="classes predict_images returns (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing version; a server that loaded it keeps the old one "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--example_signatures",
        "--example-signatures",
        action="store_true",
        help="also write tf.Example 'classification' and 'regression' signatures for TF "
        "Serving's Classify/Regress/MultiInference (default: %(default)s)",
    )
    parser.set_defaults(func=run)


def _class_names(value):
    import os

    if value is None:
        return None
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    return [name.strip() for name in value.split(",")]


def run(args):
    from kerasconv.cli._common import load_model_arg
    from kerasconv.export import export_model

    model = load_model_arg(args.model)
    path = export_model(
        model,
        args.base_path,
        version=args.version,
        class_names=_class_names(args.class_names),
        top_k=args.top_k,
        overwrite=args.overwrite,
        example_signatures=args.example_signatures,
    )
    print(path)
