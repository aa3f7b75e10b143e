"""A local model server that speaks TensorFlow Serving's REST and gRPC APIs.

The real ``tensorflow_model_server`` serves ``saved_models/NAME/<version>/`` folders; this server
serves the same folders with the same wire contract, for development, tests and small deployments:

REST (``--rest_api_port``, default 8501)
    ``GET /v1/models/NAME[/versions/V | /labels/L]`` → model version status;
    ``GET …/metadata`` → the SignatureDefs; ``POST …:predict`` with ``instances`` (row format →
    ``predictions``) or ``inputs`` (columnar → ``outputs``), ``{"b64": …}`` binary values;
    ``POST …:classify`` / ``:regress`` with ``examples`` (tf.Example signatures);
    errors as ``{"error": message}`` with TF Serving's HTTP status codes.
gRPC (``--port``, default 8500)
    ``tensorflow.serving.PredictionService`` (``Predict``, ``GetModelMetadata``, ``Classify``,
    ``Regress``, ``MultiInference``) and
    ``tensorflow.serving.ModelService`` (``GetModelStatus``, ``HandleReloadConfigRequest``) on the
    official ``tensorflow-serving-api`` stubs (:mod:`kerasconv.serving.grpc_server`).

The server binds to 127.0.0.1 unless told otherwise, refuses bodies over ``max_request_bytes``
(413) and serves requests concurrently (one thread per connection; TensorFlow runs concurrent
calls in parallel). Concurrent predict requests for the same signature are merged into one model
call (:mod:`kerasconv.serving.batching`): by default only those already waiting while the model is
busy (``enable_batching="auto"``), with ``enable_batching=True`` also waiting up to
``batch_timeout_micros`` for more, as TF Serving's ``--enable_batching`` does.

Example:
    >>> from kerasconv.serving import ModelServer
    >>> with ModelServer.for_model("lenet5_digits", "saved_models/lenet5_digits",
    ...                            rest_api_port=0, grpc_port=0) as server:
    ...     print(server.rest_url)
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:  # a declared dependency; without it the standard library parses the same values, slower
    import orjson
except ImportError:  # pragma: no cover - only in an environment that skipped it
    orjson = None

from kerasconv.serving import inference, protos
from kerasconv.serving.errors import ServingError, invalid_argument
from kerasconv.serving.registry import ModelRegistry, load_config_file, single_model_config
from kerasconv.serving.tensors import (
    DEFAULT_LIMITS,
    RequestLimits,
    arrays_to_response,
    json_float_constant,
    request_to_arrays,
)

logger = logging.getLogger("kerasconv.serving")

DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
# tensorflow_model_server's --rest_api_timeout_in_ms default.
DEFAULT_REST_API_TIMEOUT_MS = 30000
# After a 413 the rest of an oversized body is read and dropped for at most this long (so that a
# client that is still sending can read the answer instead of a connection reset).
_DRAIN_SECONDS = 2.0
_DRAIN_BYTES = 64 * 1024 * 1024

# TF Serving's routes (http_rest_api_util.cc), case-insensitive like the originals.
_PREDICT_PATH = re.compile(
    r"(?i)/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)"
)
_STATUS_PATH = re.compile(
    r"(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?"
)
_API_PATH = re.compile(r"(?i)/v1/.*")


class RestApi:
    """TF Serving's REST handler logic (``http_rest_api_handler.cc``), independent of the HTTP
    plumbing (easy to test).

    Args:
        registry: the models.
        predictor: ``predictor(servable, signature_key, inputs) -> outputs`` (batching hook).
        limits: the per-request caps (:class:`kerasconv.serving.tensors.RequestLimits`).
        timeout_ms: ``--rest_api_timeout_in_ms``: an inference request that takes longer is
            answered 504 (``DEADLINE_EXCEEDED``); 0 or ``None``: no deadline.
    """

    def __init__(self, registry, predictor=None, limits=None, timeout_ms=None):
        self.registry = registry
        self.predictor = predictor or _direct_predict
        self.limits = limits or DEFAULT_LIMITS
        self.timeout = timeout_ms / 1000 if timeout_ms else None

    def handle(self, method, path, body):
        """``(http_status, json_object)`` for one request."""
        start = time.monotonic()
        try:
            answer = self._dispatch(method, path, body)
            elapsed = time.monotonic() - start
            if method == "POST" and self.timeout is not None and elapsed > self.timeout:
                raise ServingError(
                    "DEADLINE_EXCEEDED",
                    f"Deadline exceeded: the request took {1000 * elapsed:.0f} ms, more than "
                    f"--rest_api_timeout_in_ms={1000 * self.timeout:.0f}",
                )
            return 200, answer
        except ServingError as error:
            return error.http_status, {"error": error.message}
        except Exception as error:  # noqa: BLE001 - report, keep serving
            logger.exception("Internal error on %s %s", method, path)
            return 500, {"error": f"Internal error: {error}"}

    def _dispatch(self, method, path, body):
        path = urllib.parse.urlsplit(path).path
        malformed = invalid_argument(f"Malformed request: {method} {path}")
        if method == "POST":
            match = _PREDICT_PATH.fullmatch(path)
            if not match:
                raise malformed
            name, version, label, verb = match.groups()
            name, version, label = _decode(name, version, label)
            verb = verb.lower()
            if verb != "predict":
                return self._classify_or_regress(name, version, label, verb, body)
            return self._predict(name, version, label, body)
        if method == "GET":
            match = _STATUS_PATH.fullmatch(path)
            if not match:
                raise malformed
            name, version, label, metadata = match.groups()
            if not name:
                raise invalid_argument("Missing model name in request.")
            name, version, label = _decode(name, version, label)
            if metadata:
                response = protos.model_metadata(self.registry, name, version, label)
                return protos.metadata_json(response)
            # Like TF Serving's GetModelStatus, a version label does not narrow the answer: the
            # status of every version is returned.
            return protos.status_json(protos.model_status(self.registry, name, version))
        raise malformed

    def _parse_body(self, body):
        # The common case goes through orjson, 2-3x faster than the standard library on a body of
        # numbers and with the same float64 values (both round correctly; checked on 200,000
        # numbers in tests/serving/test_serving_batching.py). Under 16 concurrent clients the
        # standard library's parse held the GIL for ~0.25 ms of every request's ~1.2 ms of CPU
        # (docs/serving.md). orjson follows RFC 8259 strictly, like TF Serving's rapidjson, so
        # what it refuses -- NaN and Infinity (which TF Serving accepts), numbers out of double
        # range, nesting deeper than 1024, invalid JSON -- goes to the standard library below,
        # which accepts it or words the error as before. (One difference: an integer beyond 64
        # bits becomes a double, as in rapidjson, where the standard library keeps a Python int.)
        if orjson is not None:
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_argument("JSON Parse error: the body is not valid UTF-8") from None
        try:
            parsed = json.loads(text, parse_constant=json_float_constant)
        except json.JSONDecodeError as error:
            raise invalid_argument(f"JSON Parse error: {error.msg} at offset {error.pos}") from None
        except RecursionError:
            raise invalid_argument("JSON Parse error: the body is nested too deeply") from None
        if not isinstance(parsed, dict):
            raise invalid_argument("JSON Value: the request body is not an object")
        return parsed

    def _predict(self, name, version, label, body):
        request = self._parse_body(body)
        signature_name = request.get("signature_name", "")
        if not isinstance(signature_name, str):
            raise invalid_argument("'signature_name' key must be a string value.")
        servable = self.registry.get(name, version, label)
        key, _, specs = servable.signature(signature_name)
        # The boolean scan of every value is skipped when the body has no JSON literal for one.
        booleans = b"true" in body or b"false" in body
        fmt, inputs = request_to_arrays(request, specs, key, self.limits, booleans)
        outputs = self.predictor(servable, key, inputs)
        return arrays_to_response(outputs, fmt)

    def _classify_or_regress(self, name, version, label, verb, body):
        request = self._parse_body(body)
        signature_name = request.get("signature_name", "")
        if not isinstance(signature_name, str):
            raise invalid_argument("'signature_name' key must be a string value.")
        servable = self.registry.get(name, version, label)
        key, _, _ = servable.signature(signature_name)
        inference.check_method(servable, key, inference.METHOD_BY_VERB[verb], verb)
        serialized = inference.examples_from_json(request)
        if verb == "classify":
            _, classes, scores = inference.classify(servable, key, serialized, self.limits)
            return inference.classification_json(classes, scores)
        _, values = inference.regress(servable, key, serialized, self.limits)
        return inference.regression_json(values)


def _direct_predict(servable, signature_name, inputs):
    return servable.predict(signature_name, inputs)


def _decode(name, version, label):
    name = urllib.parse.unquote(name)
    label = urllib.parse.unquote(label) if label else None
    return name, int(version) if version is not None else None, label


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kerasconv-serving"
    # Idle keep-alive connections and slow clients give their thread back after this.
    timeout = 60
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        logger.debug("%s - %s", self.address_string(), format % args)

    def _reply(self, status, payload, close=False):
        data = json.dumps(payload, indent=None, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method):
        path = self.path
        if not _API_PATH.fullmatch(urllib.parse.urlsplit(path).path):
            self._reply(404, {"error": f"Not found: {method} {urllib.parse.urlsplit(path).path}"})
            return
        body = b""
        if method == "POST":
            body = self._read_body()
            if body is None:
                return
        with self.server.slots:
            status, payload = self.server.api.handle(method, path, body)
        self._reply(status, payload)

    def _read_body(self):
        limit = self.server.max_request_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._reply(411, {"error": "Send the body with a Content-Length header."}, close=True)
            return None
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else 0
        except ValueError:
            length = -1
        if length < 0:
            self._reply(400, {"error": f"Invalid Content-Length: {length_text!r}"}, close=True)
            return None
        if length > limit:
            # Answered at once, from the header alone: nothing of the body is awaited first.
            self._reply(
                413,
                {"error": f"Request body of {length} bytes exceeds the limit of {limit} bytes."},
                close=True,
            )
            self._drain(length)
            return None
        return self.rfile.read(length)

    def _drain(self, length):
        """Read and drop what a client is still sending (bounded in bytes and time), so that it
        gets to read the 413 instead of a connection reset; then the connection closes."""
        deadline = time.monotonic() + _DRAIN_SECONDS
        remaining = min(length, _DRAIN_BYTES)
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while remaining > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                chunk = self.rfile.read1(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self):  # noqa: N802
        self._serve("POST")

    def do_PUT(self):  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self):  # noqa: N802
        self._serve("DELETE")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class PortInUseError(OSError):
    """A port the server should listen on is taken (``kerasconv serve`` reports it in one line)."""


_REGISTRY_OPTIONS = ("max_num_load_retries", "load_retry_interval_micros")


class _GcFreeze:
    """Python's cyclic garbage collector, kept off the objects of loaded models.

    The cause of the REST latency tail under concurrency (issue 20.5): every JSON request makes
    thousands of container objects, which trigger collections; a full (generation 2) collection
    walks every object in the process -- about 0.4 M once TensorFlow, Keras and a model are loaded
    -- and holds the GIL while it does, stalling every request in flight (measured: 14 full
    collections in 1,000 REST requests from 16 clients, 10-20% of the requests delayed by
    100 ms and more). ``gc.freeze()`` after the models are loaded moves those objects to a
    permanent generation that collections skip; it is redone whenever a version is loaded or
    unloaded (unfreeze, collect once, freeze) so unloaded models are still freed. One count for
    all servers in the process: the last ``stop`` unfreezes.
    """

    _users = 0
    _lock = threading.Lock()

    @classmethod
    def acquire(cls):
        with cls._lock:
            cls._users += 1
            cls._refreeze()

    @classmethod
    def refresh(cls):
        with cls._lock:
            if cls._users:
                cls._refreeze()

    @classmethod
    def release(cls):
        with cls._lock:
            cls._users -= 1
            if cls._users == 0:
                gc.unfreeze()

    @staticmethod
    def _refreeze():
        gc.unfreeze()
        gc.collect()
        gc.freeze()


class ModelServer:
    """REST and gRPC front ends over one :class:`ModelRegistry`.

    Args:
        registry: the models to serve.
        host: the interface to bind (``"127.0.0.1"``; ``"0.0.0.0"`` exposes the server).
        rest_api_port: REST port; 0 picks a free port; ``None`` disables REST.
        grpc_port: gRPC port; 0 picks a free port; ``None`` disables gRPC.
        max_request_bytes: largest accepted request body (REST) / message (gRPC).
        enable_batching: ``"auto"`` (the default; TF Serving's is off): merge the predict
            requests that wait while the model is busy into its next call, never wait for more
            (a lone request runs at once, alone); ``True``: TF Serving's batching, the first
            request of a batch waits up to ``batch_timeout_micros`` for more; ``False``: one model
            call per request. The cause of REST's median latency under 16 concurrent clients
            (issue 20.5): one signature call per request costs ~0.8 ms of CPU however small the
            batch (docs/serving.md).
        max_batch_size, batch_timeout_micros: batching parameters (TF Serving's names).
        grpc_max_threads: gRPC worker threads.
        max_request_elements, max_request_batch_size: per-request caps on the elements of each
            input tensor and on its rows; larger requests get INVALID_ARGUMENT (400) before
            anything of their size is allocated.
        rest_api_timeout_in_ms: an inference request answered later than this gets 504
            (``DEADLINE_EXCEEDED``); ``None`` or 0: no deadline.
        rest_api_num_threads: REST requests handled at the same time (more wait their turn).
        freeze_gc: keep Python's garbage collector off the loaded models (see ``_GcFreeze``): a
            process-wide setting while the server runs, which removes the latency tail that full
            collections cause under concurrent REST load.
    """

    def __init__(
        self,
        registry,
        host="127.0.0.1",
        rest_api_port=8501,
        grpc_port=8500,
        max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
        enable_batching="auto",
        max_batch_size=32,
        batch_timeout_micros=2000,
        grpc_max_threads=16,
        max_request_elements=DEFAULT_LIMITS.max_elements,
        max_request_batch_size=DEFAULT_LIMITS.max_batch_size,
        rest_api_timeout_in_ms=DEFAULT_REST_API_TIMEOUT_MS,
        rest_api_num_threads=64,
        freeze_gc=True,
    ):
        if not isinstance(registry, ModelRegistry):
            raise TypeError(f"registry must be a ModelRegistry; got {type(registry).__name__}.")
        for label, port in (("rest_api_port", rest_api_port), ("grpc_port", grpc_port)):
            if port is not None and (
                isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
            ):
                raise ValueError(f"{label} must be in [0, 65535] or None; got {port!r}.")
        if rest_api_port is None and grpc_port is None:
            raise ValueError("enable at least one of rest_api_port and grpc_port.")
        if isinstance(max_request_bytes, bool) or not isinstance(max_request_bytes, int):
            raise TypeError("max_request_bytes must be an integer.")
        if max_request_bytes < 1024:
            raise ValueError(f"max_request_bytes must be >= 1024; got {max_request_bytes}.")
        if rest_api_timeout_in_ms is not None and (
            isinstance(rest_api_timeout_in_ms, bool)
            or not isinstance(rest_api_timeout_in_ms, (int, float))
            or rest_api_timeout_in_ms < 0
        ):
            raise ValueError(
                f"rest_api_timeout_in_ms must be a number >= 0 or None; got "
                f"{rest_api_timeout_in_ms!r}."
            )
        if (
            isinstance(rest_api_num_threads, bool)
            or not isinstance(rest_api_num_threads, int)
            or rest_api_num_threads < 1
        ):
            raise ValueError(f"rest_api_num_threads must be >= 1; got {rest_api_num_threads!r}.")
        self.registry = registry
        self.host = host
        self._rest_port = rest_api_port
        self._grpc_port = grpc_port
        self.max_request_bytes = max_request_bytes
        self.grpc_max_threads = grpc_max_threads
        self.limits = RequestLimits(max_request_elements, max_request_batch_size)
        self.rest_api_num_threads = rest_api_num_threads
        self.freeze_gc = bool(freeze_gc)
        self.batcher = None
        if enable_batching not in (True, False, "auto"):
            raise ValueError(
                f"enable_batching must be True, False or 'auto'; got {enable_batching!r}."
            )
        self.enable_batching = enable_batching
        if enable_batching:
            from kerasconv.serving.batching import Batcher

            self.batcher = Batcher(
                max_batch_size=max_batch_size,
                timeout_micros=0 if enable_batching == "auto" else batch_timeout_micros,
            )
        self.api = RestApi(
            registry, predictor=self._predict, limits=self.limits, timeout_ms=rest_api_timeout_in_ms
        )
        self._http = None
        self._http_thread = None
        self._grpc = None
        self._started = False
        self._frozen = False

    @classmethod
    def for_model(cls, model_name, model_base_path, poll_seconds=1.0, **kwargs):
        """A server for one model folder (``--model_name``/``--model_base_path``).

        ``max_num_load_retries`` and ``load_retry_interval_micros`` go to the registry; the other
        keyword arguments to the server.
        """
        options = {key: kwargs.pop(key) for key in _REGISTRY_OPTIONS if key in kwargs}
        registry = ModelRegistry(
            single_model_config(model_name, model_base_path), poll_seconds, **options
        )
        return cls(registry, **kwargs)

    @classmethod
    def from_config_file(cls, path, poll_seconds=1.0, **kwargs):
        """A server for the models of a TF Serving ``--model_config_file``."""
        options = {key: kwargs.pop(key) for key in _REGISTRY_OPTIONS if key in kwargs}
        return cls(ModelRegistry(load_config_file(path), poll_seconds, **options), **kwargs)

    def _predict(self, servable, signature_name, inputs):
        if self.batcher is not None:
            return self.batcher.predict(servable, signature_name, inputs)
        return servable.predict(signature_name, inputs)

    def start(self):
        """Load the models, start polling and open the ports.

        Raises :class:`PortInUseError` (an ``OSError``) when a port is taken.
        """
        if self._started:
            return self
        try:
            # The ports are bound before any model is loaded, so a taken port fails at once.
            if self._grpc_port is not None:
                from kerasconv.serving.grpc_server import create_grpc_server

                try:
                    self._grpc, port = create_grpc_server(
                        self.registry,
                        self.host,
                        self._grpc_port,
                        self.max_request_bytes,
                        self.grpc_max_threads,
                        predictor=self._predict,
                        limits=self.limits,
                    )
                except (OSError, RuntimeError) as error:
                    raise PortInUseError(
                        errno.EADDRINUSE,
                        f"cannot listen for gRPC on {self.host}:{self._grpc_port} (--port): the "
                        f"port is in use or not available ({error})",
                    ) from None
                self._grpc_port = port
            if self._rest_port is not None:
                try:
                    self._http = _HTTPServer((self.host, self._rest_port), _Handler)
                except OSError as error:
                    raise PortInUseError(
                        error.errno or errno.EADDRINUSE,
                        f"cannot listen for REST on {self.host}:{self._rest_port} "
                        f"(--rest_api_port): {error.strerror or error}",
                    ) from None
                self._http.api = self.api
                self._http.max_request_bytes = self.max_request_bytes
                self._http.slots = threading.BoundedSemaphore(self.rest_api_num_threads)
            self.registry.start()
            # gRPC first: once REST answers, both front ends are up.
            if self._grpc is not None:
                self._grpc.start()
            if self._http is not None:
                self._http_thread = threading.Thread(
                    target=self._http.serve_forever,
                    kwargs={"poll_interval": 0.2},
                    name="kerasconv-rest",
                    daemon=True,
                )
                self._http_thread.start()
        except BaseException:
            self.stop()
            raise
        if self.freeze_gc:
            self.registry.on_change.append(_GcFreeze.refresh)
            _GcFreeze.acquire()
            self._frozen = True
        self._started = True
        return self

    def stop(self):
        """Close the ports and stop polling (in-flight requests finish)."""
        if self._http is not None:
            if self._http_thread is not None:
                self._http.shutdown()
                self._http_thread = None
            self._http.server_close()
            self._http = None
        if self._grpc is not None:
            self._grpc.stop(grace=1).wait()
            self._grpc = None
        if self.batcher is not None:
            self.batcher.close()
        self.registry.stop()
        if self._frozen:
            if _GcFreeze.refresh in self.registry.on_change:
                self.registry.on_change.remove(_GcFreeze.refresh)
            _GcFreeze.release()
            self._frozen = False
        self._started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def rest_port(self):
        """The bound REST port (useful with port 0)."""
        return self._http.server_address[1] if self._http is not None else None

    @property
    def grpc_port(self):
        return self._grpc_port if self._grpc is not None else None

    @property
    def rest_url(self):
        return f"http://{_host_for_url(self.host)}:{self.rest_port}" if self._http else None

    @property
    def grpc_address(self):
        return f"{_host_for_url(self.host)}:{self.grpc_port}" if self._grpc else None


def _host_for_url(host):
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
