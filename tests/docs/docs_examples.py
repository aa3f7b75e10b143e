"""Extract the Python examples of the Markdown pages and run them, one page at a time.

The convention (see docs/contributing.md):

* every fenced block opened with three backticks and ``python`` is an example; the blocks of one
  page run in order, in one namespace, so a block may use what earlier blocks on that page defined;
* a block whose preceding non-blank line is ``<!-- not-run: REASON -->`` is skipped (the reason is
  required);
* a block whose preceding non-blank line is ``<!-- slow -->`` runs only under ``make docs-check``.
  Later blocks usually build on it, so the ordinary test run stops a page at its first slow block.

This file is both the parser (imported by the test) and the worker process (``python
docs_examples.py``): the worker imports TensorFlow once and runs each requested page in a fresh
namespace and a fresh working directory, so the examples' files land in a temporary folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import traceback

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(not-run|slow)\b\s*(:?)\s*(.*?)\s*-->\s*$")


class PageError(ValueError):
    """A page breaks the convention (a marker without a reason, a marker on nothing, ...)."""


@dataclasses.dataclass(frozen=True)
class Block:
    """One ``python`` block: its 1-based number on the page, the line of its opening fence, its code
    and its marker (``"run"``, ``"slow"`` or ``"not-run"``) with the reason for ``not-run``."""

    number: int
    line: int
    code: str
    kind: str = "run"
    reason: str = ""


def parse_blocks(text, page="page"):
    """Every ``python`` block of a Markdown page, in order, with its marker."""
    lines = text.split("\n")
    blocks = []
    pending = None  # (kind, reason, line) of a marker waiting for its block
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line)
        if marker:
            if pending is not None:
                raise PageError(f"{page}:{pending[2]}: marker is not followed by a python block")
            kind, colon, reason = marker.groups()
            if kind == "not-run" and not (colon and reason):
                raise PageError(f"{page}:{index + 1}: write the reason: <!-- not-run: why -->")
            if kind == "slow" and (colon or reason):
                raise PageError(f"{page}:{index + 1}: the slow marker takes no text: <!-- slow -->")
            pending = (kind, reason, index + 1)
            index += 1
            continue
        fence = FENCE.match(line)
        if fence:
            language = fence.group(2)
            start = index
            index += 1
            body = []
            while index < len(lines) and not re.match(r"^\s*```\s*$", lines[index]):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise PageError(f"{page}:{start + 1}: code block is never closed")
            if language in ("python", "py", "python3"):
                kind, reason = ("run", "") if pending is None else pending[:2]
                indent = len(fence.group(1))
                code = "\n".join(b[indent:] if b[:indent].isspace() else b for b in body)
                blocks.append(Block(len(blocks) + 1, start + 1, code, kind, reason))
            elif pending is not None:
                raise PageError(f"{page}:{pending[2]}: marker precedes a {language!r} block")
            pending = None
            index += 1
            continue
        if pending is not None and line.strip():
            raise PageError(f"{page}:{pending[2]}: marker is not followed by a python block")
        index += 1
    if pending is not None:
        raise PageError(f"{page}:{pending[2]}: marker is not followed by a python block")
    return blocks


def runnable(blocks, slow):
    """``(to_run, deferred)``: the blocks a run executes, and how many it leaves to docs-check.

    With ``slow=False`` a page stops at its first slow block: later blocks may need its results.
    """
    chosen = []
    for position, block in enumerate(blocks):
        if block.kind == "not-run":
            continue
        if block.kind == "slow" and not slow:
            rest = [b for b in blocks[position:] if b.kind != "not-run"]
            return chosen, len(rest)
        chosen.append(block)
    return chosen, 0


# ---------------------------------------------------------------------------- worker process


def _reset_frameworks():
    """Undo what one page may have changed in the libraries' global state."""
    if "keras" in sys.modules:
        import keras

        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


def run_page(page, blocks, workdir):
    """Run ``blocks`` in one fresh namespace inside ``workdir``; returns a JSON-able result."""
    namespace = {"__name__": "__main__"}
    os.chdir(workdir)
    for block in blocks:
        filename = f"<{page} block {block.number}>"
        try:
            exec(compile(block.code, filename, "exec"), namespace)  # noqa: S102 - the docs' code
        except BaseException as error:  # noqa: BLE001 - report whatever the example raised
            frames = [
                f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename
            ]
            offset = frames[-1].lineno if frames else 1
            if isinstance(error, SyntaxError) and error.filename == filename:
                offset = error.lineno or 1
            return {
                "ok": False,
                "block": block.number,
                "block_line": block.line,
                "line": block.line + offset,
                "source": block.code.split("\n")[offset - 1] if offset else "",
                "error": f"{type(error).__name__}: {error}".strip().split("\n")[0],
                "traceback": "".join(traceback.format_exception(error)),
            }
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    return {"ok": True, "blocks": len(blocks)}


def _serve():
    """Read one JSON request per line on stdin, run that page, write the result to its file.

    The page's own output goes to the request's log file (file descriptors 1 and 2 are redirected),
    so the examples may print freely.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    for request_line in sys.stdin:
        request = json.loads(request_line)
        blocks = [Block(**b) for b in request["blocks"]]
        saved = os.dup(1), os.dup(2)
        with open(request["log"], "w") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                result = run_page(request["page"], blocks, request["workdir"])
                _reset_frameworks()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        partial = request["result"] + ".part"
        with open(partial, "w") as handle:
            json.dump(result, handle)
        os.replace(partial, request["result"])


if __name__ == "__main__":
    _serve()
