"""Bounded resources per request: size caps before allocation, 413 from the header, bad JSON."""

import json
import resource
import socket
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from kerasconv.serving import ModelServer
from kerasconv.serving.server import RestApi

MODEL = "lenet5_digits"


@pytest.fixture(scope="module")
def small_caps(served_base):
    """A server capped at 2,500 elements per input and 4 rows per request."""
    with ModelServer.for_model(
        MODEL,
        served_base,
        poll_seconds=0,
        rest_api_port=0,
        grpc_port=0,
        max_request_elements=2500,
        max_request_batch_size=4,
    ) as running:
        yield running


def _tiny_proto(shape):
    """A TensorProto of one float value that claims ``shape`` (about 120 bytes on the wire)."""
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[0.5])
    for size in shape:
        proto.tensor_shape.dim.add().size = size
    return proto


def _grpc_predict(address, proto):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["images"].CopyFrom(proto)
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            stub.Predict(request, timeout=30)
        except grpc.RpcError as error:
            return error.code(), error.details(), request.ByteSize()
    return grpc.StatusCode.OK, "", request.ByteSize()


def test_tiny_grpc_proto_claiming_a_huge_shape_is_refused_before_allocation(server):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.monotonic()
    code, details, size = _grpc_predict(server.grpc_address, _tiny_proto([32768, 32, 32, 1]))
    assert size < 200  # the whole request is a few bytes...
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "batch of 32768 rows" in details
    code, details, _ = _grpc_predict(server.grpc_address, _tiny_proto([1, 8192, 8192, 1]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "67108864 elements" in details
    assert time.monotonic() - start < 10
    # ...and expanding it would have taken 4.3 GB (32768*32*32 float32) and 268 MB.
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, grown_mb


def test_caps_are_configurable_and_checked_on_both_protocols(small_caps, digits_test, http):
    x = digits_test[0]
    code, details, _ = _grpc_predict(small_caps.grpc_address, tf.make_tensor_proto(x[:3]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "3072 elements" in details
    code, details, _ = _grpc_predict(small_caps.grpc_address, tf.make_tensor_proto(x[:5, :8, :8]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "--max_request_batch_size" in details
    code, _, _ = _grpc_predict(small_caps.grpc_address, tf.make_tensor_proto(x[:2]))
    assert code == grpc.StatusCode.OK  # 2048 elements, 2 rows: within both caps
    url = f"{small_caps.rest_url}/v1/models/{MODEL}:predict"
    status, body = http(url, "POST", {"instances": x[:3].tolist()})
    assert status == 400 and "--max_request_elements" in body["error"]
    status, body = http(url, "POST", {"inputs": {"images": x[:2].tolist()}})
    assert status == 200 and len(body["outputs"]) == 2


def _raw_http(port, head, timeout=10):
    """Send raw bytes; return (seconds to the first answer line, the answer's first line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.monotonic()
        sock.sendall(head)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return time.monotonic() - start, data.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("extra", [1, 10**12])
def test_content_length_over_the_limit_is_answered_413_without_the_body(server, extra, http):
    claimed = server.max_request_bytes + extra
    head = (
        f"POST /v1/models/{MODEL}:predict HTTP/1.1\r\nHost: x\r\nContent-Length: {claimed}\r\n\r\n"
    ).encode()
    seconds, line = _raw_http(server.rest_port, head)
    assert line.startswith("HTTP/1.1 413"), line
    assert seconds < 1.5, seconds  # no wait for a body that never comes
    assert http(f"{server.rest_url}/v1/models/{MODEL}")[0] == 200


def test_deep_json_and_booleans_get_400(server, http):
    url = f"{server.rest_url}/v1/models/{MODEL}:predict"
    deep = b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = http(url, "POST", deep)
    assert status == 400 and "nested too deeply" in body["error"]
    status, body = http(url, "POST", b'{"instances": ' + b"[" * 40 + b"]" * 40 + b"}")
    assert status == 400 and "nested more than 32 levels" in body["error"]
    row = [[0.0]] * 32
    for value in (True, False):
        instance = [row] * 31 + [[[value]] + [[0.0]] * 31]
        status, body = http(url, "POST", {"instances": [instance]})
        assert status == 400 and "got boolean values" in body["error"]
    status, body = http(url, "POST", {"instances": [[row] * 32]})
    assert status == 200  # the same request with numbers only


def test_rest_api_timeout_answers_deadline_exceeded(server, digits_test):
    body = json.dumps({"instances": digits_test[0][:8].tolist()}).encode()
    path = f"/v1/models/{MODEL}:predict"
    status, answer = RestApi(server.registry, timeout_ms=1e-3).handle("POST", path, body)
    assert status == 504 and "--rest_api_timeout_in_ms" in answer["error"]
    status, answer = RestApi(server.registry, timeout_ms=60_000).handle("POST", path, body)
    assert status == 200 and np.array(answer["predictions"]).shape == (8, 10)
