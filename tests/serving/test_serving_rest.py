"""The REST API of kerasconv's model server against TF Serving's documented contract."""

import base64
import http.client
import json

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format

MODEL = "lenet5_digits"
NAMES = [f"digit_{i}" for i in range(10)]


def _png(image):
    return tf.io.encode_png(np.round(image * 255).astype(np.uint8)).numpy()


def test_status_json_is_tf_serving_shape(server, http):
    status, body = http(f"{server.rest_url}/v1/models/{MODEL}")
    assert status == 200
    assert body == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert http(f"{server.rest_url}/v1/models/{MODEL}/versions/1") == (200, body)


def test_metadata_json_is_tf_serving_shape(server, served_base, http):
    from tensorflow.core.protobuf import saved_model_pb2

    status, body = http(f"{server.rest_url}/v1/models/{MODEL}/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": MODEL, "signature_name": "", "version": "1"}
    assert list(body["metadata"]) == ["signature_def"]
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "predict_images", "saliency"} <= set(signatures)
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    assert default["inputs"] == {
        "images": {
            "name": "serving_default_images:0",
            "dtype": "DT_FLOAT",
            "tensor_shape": {
                "dim": [{"size": s, "name": ""} for s in ("-1", "32", "32", "1")],
                "unknown_rank": False,
            },
        }
    }
    output = default["outputs"]["probabilities"]
    assert output["dtype"] == "DT_FLOAT" and output["name"].endswith(":0")
    assert [d["size"] for d in output["tensor_shape"]["dim"]] == ["-1", "10"]
    assert signatures["predict_images"]["inputs"]["image_bytes"]["dtype"] == "DT_STRING"
    # Exactly the SignatureDefs stored in the SavedModel, as TF Serving reads them.
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((served_base / "1" / "saved_model.pb").read_bytes())
    for key, signature_def in proto.meta_graphs[0].signature_def.items():
        stored = json_format.MessageToDict(
            signature_def,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )
        assert signatures[key] == stored


def test_predict_row_and_columnar_give_the_keras_answers(server, trained_lenet, digits_test, http):
    x = digits_test[0][:5]
    expected = trained_lenet.predict(x, verbose=0)
    url = f"{server.rest_url}/v1/models/{MODEL}:predict"
    status, body = http(url, "POST", {"instances": x.tolist()})
    assert status == 200 and list(body) == ["predictions"]
    assert np.max(np.abs(np.array(body["predictions"]) - expected)) <= 1e-5
    status, body = http(
        url, "POST", {"signature_name": "serving_default", "inputs": {"images": x.tolist()}}
    )
    assert status == 200 and list(body) == ["outputs"]
    assert np.max(np.abs(np.array(body["outputs"]) - expected)) <= 1e-5
    # Version path and named row instances give the same.
    status, body = http(
        f"{server.rest_url}/v1/models/{MODEL}/versions/1:predict",
        "POST",
        {"instances": [{"images": image} for image in x.tolist()]},
    )
    assert status == 200 and np.max(np.abs(np.array(body["predictions"]) - expected)) <= 1e-5


def test_predict_images_with_b64_and_several_outputs(server, trained_lenet, digits_test, http):
    x = digits_test[0][:3]
    pixels = np.round(x * 255) / 255
    expected = trained_lenet.predict(pixels.astype("float32"), verbose=0)
    files = [{"b64": base64.b64encode(_png(image)).decode()} for image in x]
    url = f"{server.rest_url}/v1/models/{MODEL}:predict"
    status, body = http(url, "POST", {"signature_name": "predict_images", "instances": files})
    assert status == 200
    rows = body["predictions"]
    assert len(rows) == 3 and all(
        set(row) == {"classes", "scores", "probabilities"} for row in rows
    )
    for row, probabilities in zip(rows, expected):
        assert row["classes"][0] == NAMES[int(np.argmax(probabilities))]
        assert len(row["classes"]) == 5 and row["scores"] == sorted(row["scores"], reverse=True)
        assert np.max(np.abs(np.array(row["probabilities"]) - probabilities)) <= 1e-5
    status, body = http(url, "POST", {"signature_name": "predict_images", "inputs": files})
    assert status == 200 and set(body["outputs"]) == {"classes", "scores", "probabilities"}
    assert [c[0] for c in body["outputs"]["classes"]] == [r["classes"][0] for r in rows]
    status, body = http(url, "POST", {"signature_name": "saliency", "instances": x.tolist()})
    assert status == 200
    assert np.array(body["predictions"][0]["saliency"]).shape == (32, 32)
    assert [r["class_index"] for r in body["predictions"]] == np.argmax(expected, -1).tolist()


_ROOT = f"/v1/models/{MODEL}"
_PREDICT = f"{_ROOT}:predict"
_IMAGES = "predict_images"
_BAD_REQUESTS = [
    # (method, path, body, HTTP status, part of the error message)
    ("POST", _PREDICT, b"{not json", 400, "JSON Parse error"),
    ("POST", _PREDICT, b"[1, 2]", 400, "not an object"),
    ("POST", _PREDICT, {"instances": [], "inputs": []}, 400, "only one of"),
    ("POST", _PREDICT, {}, 400, "Missing 'inputs' or 'instances'"),
    ("POST", _PREDICT, {"signature_name": 3, "instances": [1]}, 400, "must be a string"),
    ("POST", _PREDICT, {"instances": [[1.0, 2.0]]}, 400, "expects [-1, 32, 32, 1]"),
    ("POST", _PREDICT, {"instances": [[["a"] * 32] * 32]}, 400, "must hold numbers"),
    ("POST", _PREDICT, {"instances": [[[0.0]], [[0.0], [1.0]]]}, 400, "ragged"),
    ("POST", _PREDICT, {"inputs": {"pixels": [0.0]}}, 400, "does not match signature"),
    ("POST", _PREDICT, {"signature_name": _IMAGES, "instances": [{"b64": "***"}]}, 400, "base64"),
    # Valid base64 of bytes that are no image: TensorFlow's decoder refuses them.
    (
        "POST",
        _PREDICT,
        {"signature_name": _IMAGES, "instances": [{"b64": "bm90IGltYWdl"}]},
        400,
        "Unknown image file format",
    ),
    ("POST", _PREDICT, {"signature_name": "explain", "instances": [1]}, 400, '"explain" not found'),
    ("POST", "/v1/models/nope:predict", {"instances": [1]}, 404, "request: Latest(nope)"),
    ("POST", f"{_ROOT}/versions/99:predict", {"instances": [1]}, 404, f"Specific({MODEL}, 99)"),
    ("POST", f"{_ROOT}/labels/canary:predict", {"instances": [1]}, 400, "version label: canary"),
    ("POST", f"{_ROOT}:classify", {"examples": []}, 400, "Expected classify signature"),
    ("POST", f"{_ROOT}:explain", {}, 400, f"Malformed request: POST {_ROOT}:explain"),
    ("GET", "/v1/models/nope", None, 404, "Could not find any versions of model nope"),
    ("GET", f"{_ROOT}/versions/99", None, 404, f"Could not find version 99 of model {MODEL}"),
    ("GET", "/v1/models/nope/metadata", None, 404, "Servable not found"),
    ("GET", "/v1/models", None, 400, "Missing model name in request."),
    ("DELETE", _ROOT, None, 400, "Malformed request"),
    ("GET", "/v2/models", None, 404, "Not found"),
]


@pytest.mark.parametrize("method,path,body,code,message", _BAD_REQUESTS)
def test_bad_requests_get_tf_serving_errors(server, http, method, path, body, code, message):
    status, answer = http(server.rest_url + path, method, body)
    assert status == code
    assert list(answer) == ["error"] and message in answer["error"]


def test_oversized_body_is_refused_and_the_server_keeps_serving(server, http, digits_test):
    from kerasconv.serving.server import DEFAULT_MAX_REQUEST_BYTES

    limit = server.max_request_bytes
    assert limit < DEFAULT_MAX_REQUEST_BYTES
    body = b'{"instances": [' + b"0.0, " * (limit // 5) + b"0.0]}"
    assert len(body) > limit
    status, answer = http(f"{server.rest_url}/v1/models/{MODEL}:predict", "POST", body)
    assert status == 413 and "exceeds the limit" in answer["error"]
    # Every refusal above left the server answering normally.
    status, answer = http(f"{server.rest_url}/v1/models/{MODEL}:predict", "POST",
                          {"instances": digits_test[0][:1].tolist()})  # fmt: skip
    assert status == 200 and len(answer["predictions"]) == 1


def test_keep_alive_connection_and_json_content_type(server, digits_test):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    try:
        for _ in range(3):  # the same connection answers several requests
            body = json.dumps({"instances": digits_test[0][:2].tolist()})
            connection.request("POST", f"/v1/models/{MODEL}:predict", body)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/json"
            assert len(json.loads(response.read())["predictions"]) == 2
        connection.request("GET", f"/V1/MODELS/{MODEL}")  # routes are case-insensitive
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["model_version_status"]
    finally:
        connection.close()
