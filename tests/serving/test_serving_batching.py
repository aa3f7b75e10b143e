"""Server-side batching (issue 20.5): the leader/follower batcher, the "auto" default and the
REST body parser, against a model that records its calls and against the real LeNet-5."""

import json
import threading
import time

import numpy as np
import pytest

from kerasconv.serving.batching import Batcher

MODEL = "lenet5_digits"


class _Recorder:
    """A servable whose ``predict`` returns ``2 * x + 1`` and records every call's batch; the
    first ``hold`` calls wait for ``release`` (so that requests pile up behind them)."""

    name, version = "recorder", 1

    def __init__(self, hold=0, fail_on=None):
        self.batches = []
        self.threads = []
        self.hold = hold
        self.release = threading.Event()
        self.started = threading.Event()
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def predict(self, signature_name, inputs):
        x = inputs["x"]
        with self._lock:
            self.batches.append(x.shape[0])
            self.threads.append(threading.current_thread().name)
            held = len(self.batches) <= self.hold
        if held:
            self.started.set()
            assert self.release.wait(30)
        if self.fail_on is not None and np.any(x == self.fail_on):
            raise ValueError(f"bad value {self.fail_on}")
        return {"y": 2 * x + 1}


def _in_threads(function, arguments):
    results, errors = [None] * len(arguments), [None] * len(arguments)

    def run(index):
        try:
            results[index] = function(*arguments[index])
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors[index] = error

    threads = [
        threading.Thread(target=run, args=(i,), name=f"client-{i}") for i in range(len(arguments))
    ]
    for thread in threads:
        thread.start()
    return threads, results, errors


def _wait_waiting(batcher, count, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lanes = list(batcher._lanes.values())
        if lanes and len(lanes[0].waiting) >= count:
            return
        time.sleep(0.005)
    raise AssertionError(f"{count} requests never queued")


def test_a_lone_request_runs_at_once_in_its_own_thread():
    servable = _Recorder()
    batcher = Batcher(max_batch_size=8, timeout_micros=0)
    x = np.arange(3, dtype="float32").reshape(3, 1)
    start = time.perf_counter()
    out = batcher.predict(servable, "", {"x": x})
    assert time.perf_counter() - start < 1.0
    np.testing.assert_array_equal(out["y"], 2 * x + 1)
    assert servable.batches == [3] and servable.threads == [threading.current_thread().name]
    assert (batcher.calls, batcher.merged) == (1, 0)


def test_requests_waiting_behind_a_running_call_are_merged_into_the_next():
    servable = _Recorder(hold=1)
    batcher = Batcher(max_batch_size=8, timeout_micros=0)
    values = [np.full((1, 2), float(i), "float32") for i in range(6)]
    first, results0, errors0 = _in_threads(
        lambda v: batcher.predict(servable, "", {"x": v}), [(values[0],)]
    )
    assert servable.started.wait(10)
    threads, results, errors = _in_threads(
        lambda v: batcher.predict(servable, "", {"x": v}), [(v,) for v in values[1:]]
    )
    _wait_waiting(batcher, 5)
    servable.release.set()
    for thread in first + threads:
        thread.join(30)
    assert errors0 == [None] and errors == [None] * 5
    # One call for the first request, one merged call for the five that waited.
    assert servable.batches == [1, 5] and (batcher.calls, batcher.merged) == (2, 1)
    for value, result in zip(values, results0 + results):
        np.testing.assert_array_equal(result["y"], 2 * value + 1)
    # The merged call ran in the thread of one of the waiting requests (no batching thread).
    assert servable.threads[1].startswith("client-")


def test_merging_respects_shapes_and_max_batch_size_and_a_bad_request_fails_alone():
    servable = _Recorder(hold=1, fail_on=-1.0)
    batcher = Batcher(max_batch_size=4, timeout_micros=0)
    requests = [np.zeros((1, 2), "float32")]
    requests += [np.full((1, 2), float(i), "float32") for i in (1, 2, 3)]
    requests += [np.full((1, 3), 7.0, "float32")]  # another row shape: never merged with (n, 2)
    requests += [np.full((2, 2), -1.0, "float32")]  # fails the merged call it joins
    requests += [np.full((1, 2), 5.0, "float32")]
    first, _, _ = _in_threads(lambda v: batcher.predict(servable, "", {"x": v}), [(requests[0],)])
    assert servable.started.wait(10)
    threads, results, errors = _in_threads(
        lambda v: batcher.predict(servable, "", {"x": v}), [(v,) for v in requests[1:]]
    )
    _wait_waiting(batcher, 6)
    servable.release.set()
    for thread in first + threads:
        thread.join(30)
    assert [e is None for e in errors] == [True, True, True, True, False, True]
    assert "bad value -1.0" in str(errors[4])
    for value, result, error in zip(requests[1:], results, errors):
        if error is None:
            np.testing.assert_array_equal(result["y"], 2 * value + 1)
    assert max(servable.batches) <= 4
    assert 3 in servable.batches or 4 in servable.batches  # some requests were merged


def test_timeout_mode_waits_for_more_rows():
    servable = _Recorder()
    batcher = Batcher(max_batch_size=4, timeout_micros=2_000_000)
    values = [np.full((1, 1), float(i), "float32") for i in range(4)]
    start = time.perf_counter()
    threads, results, errors = _in_threads(
        lambda v: batcher.predict(servable, "", {"x": v}), [(v,) for v in values]
    )
    for thread in threads:
        thread.join(30)
    # Four rows fill the batch: one call, well before the 2 s timeout.
    assert errors == [None] * 4 and servable.batches == [4]
    assert time.perf_counter() - start < 1.9
    for value, result in zip(values, results):
        np.testing.assert_array_equal(result["y"], 2 * value + 1)


def test_many_clients_every_answer_is_its_own():
    servable = _Recorder()
    batcher = Batcher(max_batch_size=8, timeout_micros=0)
    rng = np.random.default_rng(0)
    work = [rng.standard_normal((int(rng.integers(1, 4)), 2)).astype("float32") for _ in range(400)]
    lock = threading.Lock()
    queue = iter(range(len(work)))
    wrong = []

    def client():
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                return
            out = batcher.predict(servable, "", {"x": work[index]})["y"]
            if not np.array_equal(out, 2 * work[index] + 1):
                wrong.append(index)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert sum(servable.batches) == sum(len(x) for x in work) and max(servable.batches) <= 8


def test_batcher_arguments_are_checked():
    with pytest.raises(ValueError, match="max_batch_size must be >= 1"):
        Batcher(max_batch_size=0)
    with pytest.raises(TypeError, match="max_batch_size must be an integer"):
        Batcher(max_batch_size=2.5)
    with pytest.raises(ValueError, match="timeout_micros must be >= 0"):
        Batcher(timeout_micros=-1)


def test_merged_lenet_rows_equal_one_row_calls_within_float32_rounding(served_base, digits_test):
    """A merged call on the real model gives every request the answer of its own call to within
    float32 rounding (measured on LeNet-5: <= 3e-8 absolute, oneDNN on and off)."""
    from kerasconv.serving.registry import Servable

    servable = Servable(MODEL, 1, served_base / "1")
    images = digits_test[0][:6]
    single = [
        servable.predict("", {"images": images[i : i + 1]})["probabilities"] for i in range(6)
    ]
    assert np.ptp(np.concatenate(single)) > 0.5  # the reference is not constant

    class Held:
        name, version = servable.name, servable.version
        gate, entered, sizes = threading.Event(), threading.Event(), []

        def predict(self, key, inputs):
            self.sizes.append(len(inputs["images"]))
            if len(self.sizes) == 1:
                self.entered.set()
                assert self.gate.wait(30)
            return servable.predict(key, inputs)

    held = Held()
    batcher = Batcher(max_batch_size=8, timeout_micros=0)
    arguments = [(images[i : i + 1],) for i in range(6)]
    first, results0, _ = _in_threads(
        lambda x: batcher.predict(held, "", {"images": x}), arguments[:1]
    )
    assert held.entered.wait(30)
    threads, results, errors = _in_threads(
        lambda x: batcher.predict(held, "", {"images": x}), arguments[1:]
    )
    _wait_waiting(batcher, 5)
    held.gate.set()
    for thread in first + threads:
        thread.join(60)
    assert errors == [None] * 5 and held.sizes == [1, 5]
    for expected, result in zip(single, results0 + results):
        np.testing.assert_allclose(result["probabilities"], expected, rtol=0, atol=1e-6)


def test_server_defaults_to_auto_batching_and_false_turns_it_off(served_base):
    from kerasconv.serving import ModelServer

    server = ModelServer.for_model(
        MODEL, served_base, poll_seconds=0, rest_api_port=0, grpc_port=None
    )
    assert server.enable_batching == "auto" and server.batcher.timeout == 0
    off = ModelServer.for_model(
        MODEL, served_base, poll_seconds=0, rest_api_port=0, grpc_port=None, enable_batching=False
    )
    assert off.batcher is None
    waiting = ModelServer.for_model(
        MODEL, served_base, poll_seconds=0, rest_api_port=0, grpc_port=None,
        enable_batching=True, batch_timeout_micros=500,
    )  # fmt: skip
    assert waiting.batcher.timeout == pytest.approx(5e-4)
    with pytest.raises(ValueError, match="enable_batching must be True, False or 'auto'"):
        ModelServer.for_model(MODEL, served_base, rest_api_port=0, enable_batching="yes")


def test_rest_body_parser_gives_the_standard_librarys_values(served_base):
    """orjson (the fast path) and the standard library give the same float64 for every number;
    what orjson refuses still goes through the standard library (NaN, Infinity, deep nesting)."""
    from kerasconv.serving import server as server_module
    from kerasconv.serving.server import RestApi

    assert server_module.orjson is not None  # declared in setup.cfg
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.random(50_000),
            rng.standard_normal(50_000) * 10.0 ** rng.integers(-300, 300, 50_000),
            rng.random(50_000).astype("float32").astype("float64"),
        ]
    )
    texts = [repr(float(v)) for v in values] + [f"{v:.25g}" for v in values[:50_000]]
    texts += ["5e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "-0.0", "1E5",
              "0.1000000000000000055511151231257827021181583404541015625"]  # fmt: skip
    body = ("{" + '"instances": [' + ",".join(texts) + "]}").encode()
    api = RestApi(registry=None)
    parsed = np.array(api._parse_body(body)["instances"], dtype="float64")
    reference = np.array(json.loads(body)["instances"], dtype="float64")
    assert np.array_equal(parsed.view("int64"), reference.view("int64"))
    fallback = api._parse_body(b'{"instances": [NaN, Infinity, -Infinity, 1e400]}')["instances"]
    assert np.isnan(fallback[0]) and fallback[1:] == [np.inf, -np.inf, np.inf]
    from kerasconv.serving.errors import ServingError

    for bad, message in (
        (b'{"instances": ' + b"[" * 2000 + b"]" * 2000 + b"}", "nested too deeply"),
        (b'{"instances": [1, 2,]}', "JSON Parse error: Expecting value at offset 20"),
        (b"[1, 2]", "the request body is not an object"),
    ):
        with pytest.raises(ServingError, match=message):
            api._parse_body(bad)
