"""Server-side batching: concurrent predict requests merged into one model call.

Calling a SavedModel signature costs a fixed overhead (Python, the function call, thread hand-offs)
plus a part that grows with the batch. When many clients send one image each, merging their
requests into one batch pays the fixed part once, as TF Serving's ``--enable_batching`` does.

A :class:`Batcher` keeps one lane per (model, version, signature) and runs at most one model call
per lane at a time, in the thread of one of the waiting requests (no worker thread, no hand-off
when a request arrives alone). A request that finds its lane idle leads: it gathers the requests
already waiting and, with ``timeout_micros > 0``, waits for more for at most that long or until
``max_batch_size`` rows; it concatenates the requests whose inputs have its per-row shapes and
dtypes, runs the signature once, splits every output by rows and hands the lane to the next
waiting request. Requests that arrive while a call runs wait for it and go into the next one. A
merged call that fails is retried request by request, so one bad request cannot fail its
neighbours.

``timeout_micros=0`` (the server's default mode, ``ModelServer(enable_batching="auto")``) never
waits: a request that arrives alone runs at once, on its own, exactly as without batching; only
requests that are already waiting while the model is busy are merged. A merged call gives each
row the answer of a one-row call to within float32 rounding (the kernels sum in a different order
for another batch size: measured up to 3e-8 absolute, 3e-7 relative, on LeNet-5 and ResNet-20
probabilities), the same property TF Serving's batching has.
"""

from __future__ import annotations

import collections
import threading
import time

import numpy as np


class _Pending:
    __slots__ = ("inputs", "rows", "key", "result", "error", "lead", "_ready")

    def __init__(self, inputs, rows):
        self.inputs = inputs
        self.rows = rows
        self.key = _merge_key(inputs)
        self.result = None
        self.error = None
        self.lead = False
        # A plain lock, held until the request is answered or handed the lane: cheaper to wait on
        # than an Event (no Python-level condition variable).
        self._ready = threading.Lock()
        self._ready.acquire()

    def wake(self):
        self._ready.release()

    def wait(self):
        self._ready.acquire()


class _Lane:
    __slots__ = ("lock", "arrived", "waiting", "busy")

    def __init__(self):
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.waiting = collections.deque()
        self.busy = False


def _batch_rows(inputs):
    """Rows of a request when every input has the same leading dimension, else ``None``."""
    rows = {value.shape[0] if value.ndim else None for value in inputs.values()}
    if len(rows) != 1 or None in rows:
        return None
    return rows.pop()


def _merge_key(inputs):
    return tuple(sorted((name, value.shape[1:], value.dtype.str) for name, value in inputs.items()))


class Batcher:
    """Merge concurrent ``servable.predict`` calls (see the module docstring).

    Args:
        max_batch_size: most rows in one model call (requests of this size or more run alone).
        timeout_micros: how long the first request of a batch waits for more; 0: never wait,
            merge only the requests already waiting.
    """

    def __init__(self, max_batch_size=32, timeout_micros=2000):
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
            raise TypeError("max_batch_size must be an integer.")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1; got {max_batch_size}.")
        if (
            isinstance(timeout_micros, bool)
            or not isinstance(timeout_micros, (int, float))
            or timeout_micros < 0
        ):
            raise ValueError(f"timeout_micros must be >= 0; got {timeout_micros!r}.")
        self.max_batch_size = max_batch_size
        self.timeout = timeout_micros / 1e6
        self._lanes = {}
        self._lock = threading.Lock()
        self._closed = False
        self.calls = 0  # model calls made (for tests and the benchmark)
        self.merged = 0  # of which merged two or more requests

    def predict(self, servable, signature_name, inputs):
        rows = _batch_rows(inputs)
        if rows is None or rows >= self.max_batch_size or self._closed:
            self.calls += 1
            return servable.predict(signature_name, inputs)
        key = (servable.name, servable.version, id(servable), signature_name)
        lane = self._lanes.get(key)
        if lane is None:
            with self._lock:
                lane = self._lanes.setdefault(key, _Lane())
        item = _Pending(inputs, rows)
        with lane.lock:
            lane.waiting.append(item)
            if lane.busy:
                lane.arrived.notify()
                follower = True
            else:
                lane.busy = True
                follower = False
        if follower:
            item.wait()
            if not item.lead:
                return self._answer(item)
        group = [item]
        try:
            group = self._gather(lane, item)
            self._run(servable, signature_name, group)
        except BaseException as error:  # noqa: BLE001 - never leave a request waiting
            for pending in group:
                if pending.result is None and pending.error is None:
                    pending.error = error
            self._wake(group)
            raise
        finally:
            self._hand_over(lane)
        return self._answer(item)

    @staticmethod
    def _answer(item):
        if item.error is not None:
            raise item.error
        return item.result

    def _gather(self, lane, first):
        """``first`` and the waiting requests that merge with it (taken off the lane)."""
        with lane.lock:
            if self.timeout > 0:
                deadline = time.monotonic() + self.timeout
                while self._rows_ready(lane, first) < self.max_batch_size:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    lane.arrived.wait(left)
            group, rows, keep = [first], first.rows, collections.deque()
            for item in lane.waiting:
                if item is first:
                    continue
                if item.key == first.key and rows + item.rows <= self.max_batch_size:
                    group.append(item)
                    rows += item.rows
                else:
                    keep.append(item)
            lane.waiting = keep
        return group

    def _rows_ready(self, lane, first):
        return sum(item.rows for item in lane.waiting if item.key == first.key)

    @staticmethod
    def _hand_over(lane):
        """Give the lane to the first request still waiting, or mark it idle."""
        with lane.lock:
            if lane.waiting:
                nxt = lane.waiting[0]
                nxt.lead = True
                nxt.wake()
            else:
                lane.busy = False

    def _run(self, servable, signature_name, group):
        """Answer every request of ``group``; the leader (``group[0]``, the calling thread) is
        answered, the others are also woken."""
        if len(group) == 1:
            self._run_one(servable, signature_name, group[0])
            return
        total = sum(item.rows for item in group)
        try:
            merged = {
                name: np.concatenate([item.inputs[name] for item in group])
                for name in group[0].inputs
            }
            self.calls += 1
            self.merged += 1
            outputs = servable.predict(signature_name, merged)
            if any(value.ndim == 0 or value.shape[0] != total for value in outputs.values()):
                raise ValueError("outputs are not batch-major")
        except Exception:  # noqa: BLE001 - fall back to one call per request
            for item in group:
                self._run_one(servable, signature_name, item)
            self._wake(group)
            return
        start = 0
        for item in group:
            item.result = {
                name: value[start : start + item.rows] for name, value in outputs.items()
            }
            start += item.rows
        self._wake(group)

    @staticmethod
    def _wake(group):
        # group[0] is the leading request, which is running this code; the others wait.
        for item in group[1:]:
            item.wake()

    def _run_one(self, servable, signature_name, item):
        try:
            self.calls += 1
            item.result = servable.predict(signature_name, item.inputs)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting request
            item.error = error

    def close(self):
        """Stop merging: later requests run one by one (requests in flight are answered)."""
        self._closed = True


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
