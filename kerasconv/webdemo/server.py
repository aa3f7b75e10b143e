"""The web demo's HTTP server: Python's ``ThreadingHTTPServer``, one page, a small JSON API.

Routes (all on 127.0.0.1 by default; nothing is fetched from anywhere else, and the page's
Content-Security-Policy forbids it):

``GET /``
    the page (HTML, CSS and JavaScript in one file, ``page.html``).
``GET /api/info``
    the model: name, where it runs, input size, class names, explanations, samples, upload limit.
``GET /api/samples/NAME[?size=N]``
    a sample picture: a photograph (JPEG), a real Fashion-MNIST test image ``fashion-0`` …
    ``fashion-9`` (28×28 PNG, the first test image of each class) or a real test digit
    ``digit-0`` … ``digit-9`` (PNG); ``size`` gives a thumbnail.
``POST /api/analyze?method=saliency|grad_cam&top=5``
    the raw image file as the body; answers :func:`kerasconv.webdemo.analysis.analyze`'s JSON, or
    ``{"error": message}`` with 400 (not an image, damaged, too many pixels), 413 (over the
    upload limit) or 411 (no Content-Length). The server keeps serving after any of them.
"""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kerasconv.webdemo.analysis import UploadError, analyze, too_large_message
from kerasconv.webdemo.options import DESCRIPTION, MAX_UPLOAD_BYTES, add_arguments

logger = logging.getLogger("kerasconv.webdemo")

PAGE = Path(__file__).with_name("page.html")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; connect-src 'self'"
)


def _encode(image, format_name):
    import numpy as np
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buffer = io.BytesIO()
    picture = Image.fromarray(pixels)
    if format_name == "JPEG":
        picture.save(buffer, format="JPEG", quality=90)
    else:
        picture.save(buffer, format="PNG")
    return buffer.getvalue()


class Samples:
    """The sample pictures: the bundled photographs, and the first test image of each class of
    Fashion-MNIST (at its own 28×28) and of the digits (at 128×128)."""

    def __init__(self):
        import kerasconv

        self.photos = list(kerasconv.data.SAMPLE_NAMES)
        self.fashion = [f"fashion-{label}" for label in range(10)]
        self.digits = [f"digit-{label}" for label in range(10)]
        self._cache = {}
        self._lock = threading.Lock()

    @property
    def names(self):
        return self.photos + self.fashion + self.digits

    def captions(self):
        """``{name: caption}``: the class name of each dataset sample, the photograph's name."""
        import kerasconv

        fashion = kerasconv.data.class_names("fashion_mnist")
        captions = {name: name.replace("_", " ") for name in self.photos}
        captions.update({f"fashion-{i}": fashion[i] for i in range(10)})
        captions.update({f"digit-{i}": str(i) for i in range(10)})
        return captions

    def first_of(self, style):
        """The sample to warm a model up with: the first of its own data, else a photograph."""
        return {"fashion": self.fashion, "digits": self.digits}.get(style, self.photos)[0]

    def _build(self, name):

        import kerasconv

        if name in self.photos:
            return "image/jpeg", _encode(kerasconv.data.sample_image(name), "JPEG")
        dataset, label = name.split("-", 1)
        return "image/png", _encode(self._firsts(dataset)[int(label)], "PNG")

    def _firsts(self, dataset):
        """The first test image of each class (a rule, not an index), decoded once per dataset."""
        import numpy as np

        import kerasconv

        key = ("firsts", dataset)
        if key not in self._cache:
            if dataset == "fashion":
                x, y = kerasconv.data.load_arrays("fashion_mnist", "test")
            else:
                x, y = kerasconv.data.load_arrays("digits", "test", image_size=128)
            self._cache[key] = [x[int(np.flatnonzero(y == label)[0])] for label in range(10)]
        return self._cache[key]

    def get(self, name, size=None):
        """``(content_type, bytes)`` of a sample (a ``size``-pixel PNG thumbnail if asked)."""
        if name not in self.names:
            raise KeyError(name)
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._build(name)
            content_type, data = self._cache[name]
            if size is None:
                return content_type, data
            key = (name, size)
            if key not in self._cache:
                from PIL import Image

                picture = Image.open(io.BytesIO(data))
                picture.thumbnail((size, size))
                buffer = io.BytesIO()
                picture.save(buffer, format="PNG")
                self._cache[key] = ("image/png", buffer.getvalue())
            return self._cache[key]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kerasconv-webdemo"
    timeout = 60

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status, content_type, data, close=False, cache=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        if not cache:
            self.send_header("Cache-Control", "no-store")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status, payload, close=False):
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self._send(status, "application/json", data, close=close)

    def do_GET(self):  # noqa: N802 - http.server's naming
        demo = self.server.demo
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", demo.page())
        elif url.path == "/api/info":
            self._json(200, demo.info())
        elif url.path.startswith("/api/samples/"):
            name = urllib.parse.unquote(url.path[len("/api/samples/") :])
            try:
                size = int(query["size"][0]) if "size" in query else None
                if size is not None and not 8 <= size <= 512:
                    raise ValueError
            except ValueError:
                self._json(400, {"error": "size must be an integer from 8 to 512."})
                return
            try:
                content_type, data = demo.samples.get(name, size)
            except KeyError:
                self._json(404, {"error": f"No sample named {name!r}."})
                return
            self._send(200, content_type, data, cache=True)
        elif url.path == "/favicon.ico":
            self._send(204, "image/x-icon", b"")
        else:
            self._json(404, {"error": f"Not found: {url.path}"})

    def do_POST(self):  # noqa: N802
        demo = self.server.demo
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/api/analyze":
            self._json(404, {"error": f"Not found: POST {url.path}"}, close=True)
            return
        body = self._read_body(demo.max_upload_bytes)
        if body is None:
            return
        query = urllib.parse.parse_qs(url.query)
        status, payload = demo.handle_analyze(
            body, query.get("method", ["saliency"])[0], query.get("top", ["5"])[0]
        )
        self._json(status, payload)

    def _read_body(self, limit):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._json(411, {"error": "Send the file with a Content-Length header."}, close=True)
            return None
        text = self.headers.get("Content-Length")
        try:
            length = int(text) if text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._json(411, {"error": "Send the file with a Content-Length header."}, close=True)
            return None
        if length > limit:
            # Read a moderately large body so that the browser sees the answer, then hang up.
            remaining = length if length <= 16 * limit else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            self._json(413, {"error": too_large_message(length, limit)}, close=True)
            return None
        return self.rfile.read(length)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A browser that leaves the page closes its connections: not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def bind(host, port):
    """The demo's HTTP server listening on ``host:port``, or a one-line ``RuntimeError``."""
    try:
        return _HTTPServer((host, port), _Handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise RuntimeError(
                f"port {port} on {host} is in use (another web demo?); pick another with "
                "--port N, or --port 0 for any free one"
            ) from None
        raise RuntimeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


class WebDemo:
    """The web demo around one backend; a context manager that serves in a background thread.

    Args:
        backend: an :mod:`kerasconv.webdemo.backends` backend.
        style: ``"fashion"``, ``"digits"`` or ``"photo"`` preprocessing (see :mod:`kerasconv.webdemo.analysis`).
        host, port: where to listen (port 0 picks a free one).
        note: one line about the model for the page.
        max_upload_bytes: the upload limit (4 MB).
        warm_up: classify one sample before serving, so the first visitor does not wait for
            TensorFlow to trace its functions.

    Example:
        >>> with WebDemo(backend, port=0) as demo:  # doctest: +SKIP
        ...     print(demo.url)
    """

    def __init__(
        self,
        backend,
        style="photo",
        host="127.0.0.1",
        port=8080,
        note="",
        max_upload_bytes=MAX_UPLOAD_BYTES,
        warm_up=True,
    ):
        self.backend = backend
        self.style = style
        self.host = host
        self.port = int(port)
        self.note = note
        self.max_upload_bytes = int(max_upload_bytes)
        self.warm_up = warm_up
        self.samples = Samples()
        self._lock = threading.Lock()
        self._http = None
        self._thread = None

    def page(self):
        return PAGE.read_bytes()

    def info(self):
        return {
            "model": self.backend.describe(),
            "note": self.note,
            "style": self.style,
            "samples": {
                "photos": self.samples.photos,
                "fashion": self.samples.fashion,
                "digits": self.samples.digits,
            },
            "captions": self.samples.captions(),
            "max_upload_bytes": self.max_upload_bytes,
        }

    def handle_analyze(self, body, method="saliency", top="5"):
        """``(http status, json payload)`` for one upload; never raises."""
        try:
            top = int(top)
        except ValueError:
            return 400, {"error": f"top must be an integer; got {top!r}."}
        if not 1 <= top <= 20:
            return 400, {"error": f"top must be in [1, 20]; got {top}."}
        try:
            # One analysis at a time: TensorFlow uses every core for each anyway.
            with self._lock:
                return 200, analyze(
                    self.backend, body, method, top, self.style, self.max_upload_bytes
                )
        except UploadError as error:
            return error.status, {"error": str(error)}
        except Exception as error:  # noqa: BLE001 - report, keep serving
            logger.exception("analysis failed")
            return 500, {"error": f"The analysis failed: {type(error).__name__}: {error}"}

    @property
    def url(self):
        if self._http is None:
            raise RuntimeError("the web demo is not running; call start() first")
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        """Listen (a clear ``RuntimeError`` when the port is taken), warm up, then serve."""
        if self._http is not None:
            return self
        http = bind(self.host, self.port)
        try:
            if self.warm_up:
                sample = self.samples.get(self.samples.first_of(self.style))[1]
                status, payload = self.handle_analyze(sample)
                if status != 200:
                    raise RuntimeError(f"the warm-up analysis failed: {payload['error']}")
        except BaseException:
            http.server_close()
            raise
        self._http = http
        self._http.demo = self
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="webdemo-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join(timeout=10)
            self._http = None
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run(args, block=True):
    """Build the demo from parsed options and serve until interrupted (``block``).

    The port is checked before the model is loaded (or trained), so a busy port fails at once.
    """
    from kerasconv.webdemo.models import load_backend

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in [0, 65535]; got {args.port}")
    if args.max_upload_mb <= 0:
        raise ValueError(f"--max-upload-mb must be positive; got {args.max_upload_mb}")
    if args.port:
        bind(args.host, args.port).server_close()
    backend, style, note = load_backend(
        args.model, args.class_names, args.server, args.model_name, args.cache_dir, args.quick
    )
    if args.preprocess != "auto":
        style = args.preprocess
    demo = WebDemo(
        backend,
        style=style,
        host=args.host,
        port=args.port,
        note=note,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
    )
    demo.start()
    print(f"kerasconv web demo: {demo.url}  ({note}; {backend.where})", flush=True)
    if not block:
        return demo
    stop = threading.Event()
    try:
        import signal

        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    except ValueError:  # not the main thread
        pass
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    return demo


def main(argv=None):
    """``python -m kerasconv.webdemo``: the same options and errors as ``kerasconv app``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(prog="python -m kerasconv.webdemo", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as error:
        print(f"webdemo: error: {error}", file=sys.stderr)
        return 2
    return 0
