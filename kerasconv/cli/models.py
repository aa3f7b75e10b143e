"""``kerasconv models``: list the model zoo, compare it with the papers, show per-layer costs.

kerasconv models list [PATTERN]      registered names (aliases included), e.g. 'resnet*'
kerasconv models table [PATTERN]     measured parameters and multiply-adds beside the papers'
kerasconv models layers NAME         per-layer parameters and multiply-adds of one model
"""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "models",
        help="list the model zoo and its parameter / multiply-add counts",
        description="List the registered models, compare their measured sizes with the papers, "
        "or show one model's per-layer parameters and multiply-adds.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="registered model names")
    listing.add_argument(
        "pattern",
        nargs="?",
        default=None,
        help="fnmatch pattern, e.g. 'vgg*' (default: every model)",
    )
    listing.add_argument("--no-aliases", action="store_true", help="canonical names only")
    listing.set_defaults(func=_list, needs_tensorflow=False)

    table = actions.add_parser(
        "table", help="every model's parameters and multiply-adds, measured and from the paper"
    )
    table.add_argument(
        "pattern", nargs="?", default=None, help="only models matching this (default: every model)"
    )
    table.add_argument("--out", default=None, help="also write the markdown table to this file")
    table.set_defaults(func=_table)

    layers = actions.add_parser("layers", help="per-layer parameters and multiply-adds")
    layers.add_argument("name", help="registered model name, e.g. alexnet")
    layers.add_argument(
        "--input-shape",
        default=None,
        help="H,W,C (default: the model's canonical input shape)",
    )
    layers.add_argument(
        "--classes", type=int, default=None, help="number of classes (default: the paper's)"
    )
    layers.set_defaults(func=_layers)


def _list(args):
    # From the CLI's copy of the registry's names: listing them needs no TensorFlow.
    from kerasconv.cli._model_names import NAMES, list_names

    for name in list_names(args.pattern, include_aliases=not args.no_aliases):
        target = "" if NAMES[name] == name else f"  (= {NAMES[name]})"
        print(f"{name}{target}")


def _table(args):
    from kerasconv.models import format_summary_table, list_models, summary_table

    names = None
    if args.pattern is not None:
        names = list_models(args.pattern, include_aliases=False)
        if not names:
            raise ValueError(f"no registered model matches {args.pattern!r}.")
    text = format_summary_table(summary_table(names))
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


def _parse_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--input-shape must be H,W,C integers; got {text!r}.") from None
    if len(shape) != 3:
        raise ValueError(f"--input-shape must have three entries H,W,C; got {text!r}.")
    return shape


def _layers(args):
    from kerasconv.models import create, format_layer_table, get_info, layer_table

    get_info(args.name)  # clear error for an unknown name before building anything
    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = _parse_shape(args.input_shape)
    if args.classes is not None:
        kwargs["classes"] = args.classes
    model = create(args.name, **kwargs)
    print(format_layer_table(layer_table(model), title=f"{model.name}: {model.input.shape[1:]}"))
