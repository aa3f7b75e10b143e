"""Concurrency (1,000 requests from 16 clients), new versions, version policies and labels."""

import http.client
import json
import shutil
import threading
import time

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from kerasconv.serving import Client, ModelRegistry, ModelServer, load_config_file

MODEL = "lenet5_digits"


def test_1000_requests_from_16_concurrent_clients(server, trained_lenet, digits_test):
    x = digits_test[0][:50]
    expected = np.argmax(trained_lenet.predict(x, verbose=0), -1)
    calls_before = server.batcher.calls
    counter = iter(range(1000))
    lock = threading.Lock()
    errors, answered = [], []

    def client(number):
        use_grpc = number % 4 == 3  # 12 REST clients, 4 gRPC clients
        if use_grpc:
            channel = grpc.insecure_channel(server.grpc_address)
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                image = x[index % len(x)][None]
                if use_grpc:
                    request = predict_pb2.PredictRequest()
                    request.model_spec.name = MODEL
                    request.inputs["images"].CopyFrom(tf.make_tensor_proto(image))
                    response = stub.Predict(request, timeout=60)
                    answer = tf.make_ndarray(response.outputs["probabilities"])
                else:
                    connection.request(
                        "POST",
                        f"/v1/models/{MODEL}:predict",
                        json.dumps({"instances": image.tolist()}),
                    )
                    response = connection.getresponse()
                    payload = json.loads(response.read())
                    if response.status != 200:
                        raise AssertionError(f"HTTP {response.status}: {payload}")
                    answer = np.array(payload["predictions"])
                if answer.shape != (1, 10) or int(np.argmax(answer)) != expected[index % len(x)]:
                    raise AssertionError(f"request {index}: wrong answer {answer}")
                with lock:
                    answered.append(index)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(error))
        finally:
            if use_grpc:
                channel.close()
            else:
                connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.perf_counter() - start
    assert errors == []
    assert sorted(answered) == list(range(1000))
    # Batching merged concurrent single-image requests into fewer model calls.
    calls = server.batcher.calls - calls_before
    assert 0 < calls < 1000, calls
    print(f"1000 requests in {elapsed:.2f} s, {calls} model calls")


def _copy_version(base, source, target):
    staging = base / f".tmp-{target}"
    shutil.copytree(base / str(source), staging)
    staging.rename(base / str(target))  # atomic, like export_model


def _wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_new_version_is_picked_up_without_restart(served_base, tmp_path, digits_test):
    base = tmp_path / MODEL
    shutil.copytree(served_base, base)
    with ModelServer.for_model(
        MODEL, base, poll_seconds=0.1, rest_api_port=0, grpc_port=None, max_num_load_retries=0
    ) as server:
        client = Client(server.rest_url, MODEL)
        assert client.metadata()["model_spec"]["version"] == "1"
        _copy_version(base, 1, 2)
        assert _wait_for(lambda: client.metadata()["model_spec"]["version"] == "2")
        assert _wait_for(lambda: len(client.status()["model_version_status"]) == 2)
        states = {s["version"]: s["state"] for s in client.status()["model_version_status"]}
        assert states == {"2": "AVAILABLE", "1": "END"}
        assert client.predict(digits_test[0][:2]).shape == (2, 10)
        # A broken version is reported and the last good one keeps serving.
        (base / "3").mkdir()
        (base / "3" / "saved_model.pb").write_bytes(b"not a SavedModel")

        def failed():
            entries = client.status()["model_version_status"]
            return any(s["version"] == "3" and s["state"] == "END" for s in entries)

        assert _wait_for(failed)
        broken = [s for s in client.status()["model_version_status"] if s["version"] == "3"][0]
        assert broken["status"]["error_code"] == "UNKNOWN" and broken["status"]["error_message"]
        assert client.metadata()["model_spec"]["version"] == "2"
        assert client.predict(digits_test[0][:1]).shape == (1, 10)


def test_model_config_file_policies_and_labels(served_base, tmp_path, digits_test, http):
    base = tmp_path / "digits"
    shutil.copytree(served_base, base)
    _copy_version(base, 1, 2)
    config = tmp_path / "models.config"
    config.write_text(
        f"""
        model_config_list {{
          config {{
            name: "pinned"
            base_path: "{base}"
            model_platform: "tensorflow"
            model_version_policy {{ specific {{ versions: 1 }} }}
            version_labels {{ key: "stable" value: 1 }}
          }}
          config {{
            name: "every"
            base_path: "{base}"
            model_version_policy {{ all {{}} }}
          }}
        }}
        """
    )
    assert [c.name for c in load_config_file(config).model_config_list.config] == [
        "pinned",
        "every",
    ]
    with ModelServer.from_config_file(
        config, poll_seconds=0, rest_api_port=0, grpc_port=0
    ) as server:
        url = server.rest_url
        assert http(f"{url}/v1/models/pinned/metadata")[1]["model_spec"]["version"] == "1"
        status, body = http(f"{url}/v1/models/pinned/labels/stable:predict", "POST",
                            {"instances": digits_test[0][:1].tolist()})  # fmt: skip
        assert status == 200 and len(body["predictions"][0]) == 10
        versions = http(f"{url}/v1/models/every")[1]["model_version_status"]
        assert sorted((s["version"], s["state"]) for s in versions) == [
            ("1", "AVAILABLE"),
            ("2", "AVAILABLE"),
        ]
        assert http(f"{url}/v1/models/every/metadata")[1]["model_spec"]["version"] == "2"
        assert http(f"{url}/v1/models/every/versions/1/metadata")[1]["model_spec"]["version"] == "1"
        assert (
            http(f"{url}/v1/models/pinned/versions/2:predict", "POST", {"instances": [1]})[0] == 404
        )
        grpc_client = Client(server.grpc_address, "pinned", protocol="grpc", label="stable")
        assert grpc_client.metadata()["model_spec"]["version"] == "1"


def test_registry_rejects_bad_configs(tmp_path):
    import pytest

    bad = tmp_path / "bad.config"
    bad.write_text("model_config_list { config { name: 'x' } }")
    with pytest.raises(ValueError, match="no base_path"):
        ModelRegistry(load_config_file(bad))
    bad.write_text("model_config_list { config { name: 'x' base_path: '/a' } ")
    with pytest.raises(ValueError, match="not a valid ModelServerConfig"):
        load_config_file(bad)
    with pytest.raises(FileNotFoundError):
        load_config_file(tmp_path / "missing.config")
