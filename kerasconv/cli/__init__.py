"""The ``kerasconv`` command line.

Each sub-command lives in its own module in this package and defines ``register(subparsers)``,
which adds its parser and sets ``func`` (called with the parsed arguments; returns an exit code or
``None``). Modules are found automatically. Building the parser imports no TensorFlow, so
``--help`` stays fast; ``main`` imports it (quietly) just before calling ``func``.

Errors the user can fix (a bad argument, a missing file, a ``ValueError``/``TypeError`` from the
library's argument checks) print one line, ``kerasconv: error: ...``, and exit with code 2.

Conventions every sub-command follows: every option has help text, and ``--help`` shows each
option's default (added centrally by ``_HelpFormatter``); TensorFlow's C++ log level is set before
TensorFlow is imported, and its start-up lines are kept off the terminal (``quiet_tensorflow``), so an
error is one line; a sub-command that does not need TensorFlow says so with
``set_defaults(needs_tensorflow=False)`` and runs without importing it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
import tempfile


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""


class _HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: ...)`` to an option's help unless the help already speaks of its default.

    Like ``argparse.ArgumentDefaultsHelpFormatter``, but silent for ``None`` and ``False`` defaults
    (an option that is off or unset) and for help texts that already describe the default.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "default" in text.lower():
            return text
        # Identity, not equality: a default of 0 is worth showing, False (a flag) is not.
        if any(action.default is v for v in (None, False, argparse.SUPPRESS)) or action.required:
            return text
        if not action.option_strings and action.nargs not in (
            argparse.OPTIONAL,
            argparse.ZERO_OR_MORE,
        ):
            return text
        default = action.default
        if isinstance(default, (list, tuple)):
            return text + " (default: " + " ".join(str(v) for v in default) + ")"
        return text + " (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

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


# Absl's start-up lines ("I0000 00:00:... port.cc:153] oneDNN custom operations are on ...") are
# written before TensorFlow reads TF_CPP_MIN_LOG_LEVEL (TF 2.19+), so the level alone does not hide
# them: the import runs with the process's stderr captured, and only lines at or above the level
# (and anything that is not an absl log line, such as a Python warning) are written back.
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ [^\s\]]+:\d+\] ")
_TF_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+: ([IWEF]) ")
_ABSL_BANNER = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_PYTHON_WARNING = re.compile(r"^\S.*:\d+: [A-Z]\w*(Warning|Error)\b")
# Logged at error level by TensorFlow's device discovery on every machine without a GPU driver,
# where it is expected; a real failure surfaces as a Python exception.
_EXPECTED_ERRORS = ("failed call to cuInit",)
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def filter_tensorflow_log(text, level):
    """The lines of ``text`` that TensorFlow's C++ log ``level`` (0-3) lets through.

    A line that continues a log message (no header of its own) shares that message's fate.
    """
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        header = _ABSL_LINE.match(line) or _TF_LINE.match(line)
        if header:
            keep = _SEVERITY[header.group(1)] >= level
            if keep and level >= 2 and any(expected in line for expected in _EXPECTED_ERRORS):
                keep = False
        elif _PYTHON_WARNING.match(line):
            keep = True
        elif line.startswith(_ABSL_BANNER):
            keep = level <= 0
            if not keep:
                continue
        if keep:
            kept.append(line)
    return "".join(kept)


def quiet_tensorflow(default_level="2"):
    """Import TensorFlow with its C++ log level set (``TF_CPP_MIN_LOG_LEVEL``, default 2: errors).

    A level the user set in the environment wins. The physical devices are discovered here, with
    the import, so their start-up lines are filtered as well (on a machine without a GPU driver
    that includes an expected "failed call to cuInit" error line). Does nothing when TensorFlow is
    already imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", default_level)
    if "tensorflow" in sys.modules:
        return
    try:
        level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        level = 0
    if level <= 0:
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            sys.stderr.write(filter_tensorflow_log(capture.read().decode(errors="replace"), level))
            sys.stderr.flush()


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_tensorflow", True):
            quiet_tensorflow()
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
