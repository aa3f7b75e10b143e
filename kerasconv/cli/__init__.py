"""The ``kerasconv`` command line.

Each sub-command lives in its own module in this package and defines ``register(subparsers)``,
which adds its parser and sets ``func`` (called with the parsed arguments; returns an exit code or
``None``). Modules are found automatically. TensorFlow is imported inside ``func`` only, so
``--help`` stays fast.

Errors the user can fix (a bad argument, a missing file, a ``ValueError``/``TypeError`` from the
library's argument checks) print one line, ``kerasconv: error: ...``, and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One clear line instead of argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    parser = _Parser(
        prog="kerasconv",
        description="Build, train, inspect, attack and serve classic convnets.",
    )
    from kerasconv import __version__

    parser.add_argument("--version", action="version", version=f"kerasconv {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except (UsageError, ValueError, TypeError, FileNotFoundError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"kerasconv {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kerasconv: interrupted", file=sys.stderr)
        return 130
    return 0 if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
