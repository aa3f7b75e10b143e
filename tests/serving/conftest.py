"""Served copies of the session's trained LeNet-5: a folder in TF Serving's layout and servers."""

import json
import socket
import urllib.error
import urllib.request

import pytest

MODEL = "lenet5_digits"
CLASS_NAMES = [f"digit_{i}" for i in range(10)]
# Small, so that an oversized body is cheap to send; a 16-image JSON batch still fits.
MAX_REQUEST_BYTES = 1024 * 1024


@pytest.fixture(scope="session")
def served_base(tmp_path_factory, trained_lenet):
    """``saved_models/lenet5_digits`` with version 1 of ``trained_lenet``."""
    import kerasconv

    base = tmp_path_factory.mktemp("serving") / MODEL
    kerasconv.export.export_model(trained_lenet, base, class_names=CLASS_NAMES)
    return base


@pytest.fixture(scope="session")
def server(served_base):
    """A running ModelServer (REST and gRPC on free 127.0.0.1 ports, batching on)."""
    from kerasconv.serving import ModelServer

    with ModelServer.for_model(
        MODEL,
        served_base,
        poll_seconds=0.2,
        rest_api_port=0,
        grpc_port=0,
        max_request_bytes=MAX_REQUEST_BYTES,
        enable_batching=True,
        max_batch_size=16,
        batch_timeout_micros=1000,
    ) as running:
        yield running


def _http(url, method="GET", body=None, headers=None):
    """``(status, parsed JSON)`` of a plain HTTP request."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http():
    """``http(url, method="GET", body=None, headers=None) -> (status, JSON)``."""
    return _http


@pytest.fixture
def free_port():
    """A function returning a free 127.0.0.1 port."""
    return _free_port


@pytest.fixture(scope="session")
def example_base(tmp_path_factory, trained_lenet):
    """``trained_lenet`` exported with the tf.Example ``classification``/``regression`` signatures."""
    import kerasconv

    base = tmp_path_factory.mktemp("serving_examples") / MODEL
    kerasconv.export.export_model(
        trained_lenet, base, class_names=CLASS_NAMES, top_k=3, example_signatures=True
    )
    return base
