"""The Python examples in README.md, docs/*.md and apps/README.md run as written.

One test per page. The blocks of a page run in order in one fresh namespace, in a temporary working
folder, inside a worker process that imports TensorFlow once for the whole module (a process per
page would spend most of its time importing TensorFlow). A page that runs past its time budget
fails and the worker is restarted. Blocks marked ``<!-- slow -->`` (and everything after them on
the page) run only with ``KERASCONV_DOCS_SLOW=1``, which ``make docs-check`` sets; blocks marked
``<!-- not-run: reason -->`` never run. See ``docs_examples.py`` for the convention.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docs_examples import PageError, parse_blocks, runnable

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("docs_examples.py")
SLOW = os.environ.get("KERASCONV_DOCS_SLOW", "") not in ("", "0")
# Seconds per page. The examples are meant to take seconds; the margin covers a loaded 2-core CI
# machine. docs-check runs the slow blocks (training for several epochs) and gets more.
BUDGET = float(os.environ.get("KERASCONV_DOCS_BUDGET", 900 if SLOW else 90))


def _pages():
    pages = [ROOT / "README.md", ROOT / "apps" / "README.md"]
    pages += sorted((ROOT / "docs").glob("*.md"))
    return [p.relative_to(ROOT).as_posix() for p in pages if p.exists()]


PAGES = _pages()


class _Worker:
    """The long-lived process that runs pages (restarted after a page times out)."""

    def __init__(self):
        self.process = None

    def start(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["MPLBACKEND"] = "Agg"
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def run(self, page, blocks, tmp_path, budget):
        if self.process is None or self.process.poll() is not None:
            self.start()
        workdir = tmp_path / "work"
        workdir.mkdir()
        result_path, log_path = tmp_path / "result.json", tmp_path / "output.log"
        request = {
            "page": page,
            "blocks": [dataclasses.asdict(b) for b in blocks],
            "workdir": str(workdir),
            "result": str(result_path),
            "log": str(log_path),
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + budget
        while not result_path.exists():
            if self.process.poll() is not None:
                return {"ok": False, "crashed": self.process.returncode}, _tail(log_path)
            if time.monotonic() > deadline:
                self.stop()
                return {"ok": False, "timeout": budget}, _tail(log_path)
            time.sleep(0.05)
        return json.loads(result_path.read_text()), _tail(log_path)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


def _tail(path, lines=30):
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def worker():
    runner = _Worker()
    yield runner
    if runner.process is not None and runner.process.poll() is None:
        runner.process.stdin.close()
        try:
            runner.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            runner.stop()


def _describe_failure(page, result, output):
    if "timeout" in result:
        head = f"{page}: the examples ran past the page's budget of {result['timeout']:.0f} s"
    elif "crashed" in result:
        head = f"{page}: the worker process died (exit code {result['crashed']})"
    else:
        head = (
            f"{page}, block {result['block']} (opening line {result['block_line']}), "
            f"line {result['line']}: {result['error']}\n    {result['source'].strip()}"
        )
    details = result.get("traceback", "")
    return f"{head}\n\n--- traceback ---\n{details}\n--- output (last lines) ---\n{output}"


def _run(worker, page, tmp_path, slow=SLOW, budget=BUDGET):
    blocks = parse_blocks((ROOT / page).read_text(encoding="utf-8"), page)
    chosen, deferred = runnable(blocks, slow)
    if not chosen:
        return blocks, chosen, deferred, None
    result, output = worker.run(page, chosen, tmp_path, budget)
    if not result["ok"]:
        pytest.fail(_describe_failure(page, result, output), pytrace=False)
    assert result["blocks"] == len(chosen)
    return blocks, chosen, deferred, result


def _has_python(page):
    return bool(parse_blocks((ROOT / page).read_text(encoding="utf-8"), page))


@pytest.mark.parametrize("page", [p for p in PAGES if _has_python(p)])
def test_page_examples_run(page, worker, tmp_path):
    blocks, chosen, deferred, _ = _run(worker, page, tmp_path)
    if not chosen:
        pytest.skip(f"{page}: every example is marked not-run or slow ({deferred} for docs-check)")


# ------------------------------------------------------------- the convention itself


def test_the_pages_are_found_and_follow_the_convention():
    assert {"README.md", "apps/README.md", "docs/models.md", "docs/contributing.md"} <= set(PAGES)
    total = 0
    for page in PAGES:
        blocks = parse_blocks((ROOT / page).read_text(encoding="utf-8"), page)  # raises PageError
        total += len(blocks)
        for block in blocks:
            assert block.code.strip(), f"{page}: block {block.number} is empty"
    assert total >= 40  # the docs hold about fifty examples; a parser that finds none is broken


def test_markers_are_parsed_and_checked():
    page = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            "<!-- not-run: needs a GPU -->",
            "```python",
            "raise SystemExit",
            "```",
            "",
            "<!-- slow -->",
            "",
            "```python",
            "b = a + 1",
            "```",
            "```bash",
            "echo not python",
            "```",
            "```python",
            "c = b",
            "```",
        ]
    )
    blocks = parse_blocks(page)
    assert [(b.number, b.line, b.kind) for b in blocks] == [
        (1, 1, "run"),
        (2, 5, "not-run"),
        (3, 11, "slow"),
        (4, 17, "run"),
    ]
    assert blocks[1].reason == "needs a GPU" and blocks[2].code == "b = a + 1"
    fast, deferred = runnable(blocks, slow=False)
    assert [b.number for b in fast] == [1] and deferred == 2
    full, deferred = runnable(blocks, slow=True)
    assert [b.number for b in full] == [1, 3, 4] and deferred == 0
    for bad in (
        "<!-- not-run -->\n```python\nx\n```",  # no reason
        "<!-- not-run: -->\n```python\nx\n```",
        "<!-- slow: very -->\n```python\nx\n```",
        "<!-- slow -->\ntext\n```python\nx\n```",  # marker on prose
        "<!-- slow -->\n```bash\nls\n```",  # marker on a shell block
        "```python\nx = 1\n",  # never closed
    ):
        with pytest.raises(PageError):
            parse_blocks(bad)


def test_a_failing_example_names_page_block_and_line(worker, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n```python\nimport os\nvalue = 2\n```\n\nText.\n\n"
        "```python\ntotal = value * 3\nprint(total)\nprint(images)\n```\n"
    )
    blocks = parse_blocks(page.read_text(), "page.md")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result, output = worker.run("page.md", blocks, run_dir, budget=60)
    assert not result["ok"]
    assert (result["block"], result["block_line"], result["line"]) == (2, 10, 13)
    assert result["error"] == "NameError: name 'images' is not defined"
    assert result["source"] == "print(images)"
    assert output.strip() == "6"  # the page's own output, up to the failure
    message = _describe_failure("page.md", result, output)
    assert message.startswith("page.md, block 2 (opening line 10), line 13: NameError")


def test_examples_run_in_a_fresh_namespace_and_folder(worker, tmp_path):
    first = parse_blocks("```python\nimport os\nsecret = os.getcwd()\nopen('f.txt', 'w')\n```")
    second = parse_blocks("```python\nprint(secret)\n```")
    for name, blocks in (("one.md", first), ("two.md", second)):
        folder = tmp_path / name
        folder.mkdir()
        result, _ = worker.run(name, blocks, folder, budget=60)
        if name == "one.md":
            assert result == {"ok": True, "blocks": 1}
            assert (folder / "work" / "f.txt").exists()
    assert not result["ok"] and "'secret' is not defined" in result["error"]


def test_a_page_past_its_budget_fails_and_the_worker_restarts(worker, tmp_path):
    blocks = parse_blocks("```python\nimport time\ntime.sleep(30)\n```")
    (tmp_path / "a").mkdir()
    started = time.monotonic()
    result, _ = worker.run("sleepy.md", blocks, tmp_path / "a", budget=1.0)
    assert result == {"ok": False, "timeout": 1.0}
    assert time.monotonic() - started < 20
    (tmp_path / "b").mkdir()
    result, _ = worker.run("quick.md", parse_blocks("```python\nx = 1\n```"), tmp_path / "b", 60)
    assert result == {"ok": True, "blocks": 1}
