"""Server-side batching: concurrent predict requests merged into one model call.

Calling a SavedModel signature costs a fixed overhead (Python, the function call, thread hand-offs)
plus a part that grows with the batch. When many clients send one image each, merging their
requests into one batch pays the fixed part once, as TF Serving's ``--enable_batching`` does.

A :class:`Batcher` keeps one queue and one worker thread per (model, version, signature). The worker
takes the first waiting request, then gathers more for at most ``timeout_micros`` or until
``max_batch_size`` rows, concatenates requests whose inputs have the same per-row shapes and
dtypes, runs the signature once and splits every output by rows. A merged call that fails is
retried request by request, so one bad request cannot fail its neighbours.
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np


class _Pending:
    __slots__ = ("inputs", "rows", "result", "error", "done")

    def __init__(self, inputs, rows):
        self.inputs = inputs
        self.rows = rows
        self.result = None
        self.error = None
        self.done = threading.Event()


def _batch_rows(inputs):
    """Rows of a request when every input has the same leading dimension, else ``None``."""
    rows = {value.shape[0] if value.ndim else None for value in inputs.values()}
    if len(rows) != 1 or None in rows:
        return None
    return rows.pop()


def _merge_key(inputs):
    return tuple(sorted((name, value.shape[1:], value.dtype.str) for name, value in inputs.items()))


class Batcher:
    """Merge concurrent ``servable.predict`` calls (see the module docstring)."""

    def __init__(self, max_batch_size=32, timeout_micros=2000):
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
            raise TypeError("max_batch_size must be an integer.")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1; got {max_batch_size}.")
        if not isinstance(timeout_micros, (int, float)) or timeout_micros < 0:
            raise ValueError(f"timeout_micros must be >= 0; got {timeout_micros!r}.")
        self.max_batch_size = max_batch_size
        self.timeout = timeout_micros / 1e6
        self._queues = {}
        self._lock = threading.Lock()
        self._closed = False
        self.calls = 0  # model calls made (for tests and the benchmark)

    def predict(self, servable, signature_name, inputs):
        rows = _batch_rows(inputs)
        if rows is None or rows >= self.max_batch_size or self._closed:
            return servable.predict(signature_name, inputs)
        key = (servable.name, servable.version, id(servable), signature_name)
        with self._lock:
            work = self._queues.get(key)
            if work is None:
                work = queue.SimpleQueue()
                self._queues[key] = work
                threading.Thread(
                    target=self._worker,
                    args=(servable, signature_name, work),
                    name=f"kerasconv-batch-{servable.name}-{servable.version}",
                    daemon=True,
                ).start()
        pending = _Pending(inputs, rows)
        work.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _worker(self, servable, signature_name, work):
        carry = []
        while True:
            first = carry.pop(0) if carry else work.get()
            if first is None:
                return
            group = [first]
            rows = first.rows
            key = _merge_key(first.inputs)
            deadline = time.monotonic() + self.timeout
            while rows < self.max_batch_size:
                remaining = deadline - time.monotonic()
                try:
                    item = carry.pop(0) if carry else work.get(timeout=max(remaining, 0))
                except queue.Empty:
                    break
                if item is None:
                    work.put(None)
                    break
                if _merge_key(item.inputs) == key and rows + item.rows <= self.max_batch_size:
                    group.append(item)
                    rows += item.rows
                else:
                    carry.append(item)
                    break
            self._run(servable, signature_name, group)

    def _run(self, servable, signature_name, group):
        if len(group) == 1:
            self._run_one(servable, signature_name, group[0])
            return
        merged = {
            name: np.concatenate([item.inputs[name] for item in group]) for name in group[0].inputs
        }
        total = sum(item.rows for item in group)
        try:
            self.calls += 1
            outputs = servable.predict(signature_name, merged)
            if any(value.ndim == 0 or value.shape[0] != total for value in outputs.values()):
                raise ValueError("outputs are not batch-major")
        except Exception:  # noqa: BLE001 - fall back to one call per request
            for item in group:
                self._run_one(servable, signature_name, item)
            return
        start = 0
        for item in group:
            item.result = {
                name: value[start : start + item.rows] for name, value in outputs.items()
            }
            start += item.rows
            item.done.set()

    def _run_one(self, servable, signature_name, item):
        try:
            self.calls += 1
            item.result = servable.predict(signature_name, item.inputs)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting request
            item.error = error
        item.done.set()

    def close(self):
        """Stop the worker threads (requests already queued are answered first)."""
        self._closed = True
        with self._lock:
            for work in self._queues.values():
                work.put(None)
            self._queues.clear()


# BatchingParameters fields (tensorflow_serving/servables/tensorflow/session_bundle_config.proto)
# as they appear in a --batching_parameters_file; the ones kerasconv's batcher uses come first.
_USED_BATCHING_FIELDS = ("max_batch_size", "batch_timeout_micros")
_KNOWN_BATCHING_FIELDS = _USED_BATCHING_FIELDS + (
    "num_batch_threads",
    "max_enqueued_batches",
    "thread_pool_name",
    "allowed_batch_sizes",
    "pad_variable_length_inputs",
    "enable_large_batch_splitting",
    "max_execution_batch_size",
)


def load_batching_parameters(path):
    """``{"max_batch_size": …, "batch_timeout_micros": …}`` from TF Serving's batching file.

    The file is a text ``BatchingParameters`` proto, e.g.::

        max_batch_size { value: 32 }
        batch_timeout_micros { value: 2000 }
        num_batch_threads { value: 4 }

    Fields kerasconv's one-thread-per-signature batcher has no use for (``num_batch_threads``,
    ``allowed_batch_sizes``…) are accepted and reported in ``"ignored"``; unknown fields are an
    error, as they are for TF Serving's parser.
    """
    import re
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"batching parameters file {str(path)!r} does not exist")
    text = re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8"))
    pattern = re.compile(
        r"\s*(\w+)\s*(?:\{\s*value\s*:\s*([^\s}]+)\s*\}|:\s*([^\s{}]+))\s*", re.MULTILINE
    )
    position, result, ignored = 0, {}, []
    while position < len(text):
        match = pattern.match(text, position)
        if match is None:
            if text[position:].strip():
                raise ValueError(
                    f"{str(path)!r} is not a valid BatchingParameters text proto near "
                    f"{text[position : position + 40].strip()!r}"
                )
            break
        position = match.end()
        field, value = match.group(1), match.group(2) or match.group(3)
        if field not in _KNOWN_BATCHING_FIELDS:
            raise ValueError(f"{str(path)!r}: unknown BatchingParameters field {field!r}")
        if field in _USED_BATCHING_FIELDS:
            try:
                result[field] = int(value)
            except ValueError:
                raise ValueError(
                    f"{str(path)!r}: {field} must be an integer; got {value!r}"
                ) from None
        elif field not in ignored:
            ignored.append(field)
    result["ignored"] = ignored
    return result
