"""kerasconv.serving.Client over REST and gRPC, and the ``kerasconv serve`` command."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from kerasconv.serving import Client, ServingError

MODEL = "lenet5_digits"


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_client_gets_the_keras_answers(server, trained_lenet, digits_test, protocol):
    address = server.rest_url if protocol == "rest" else server.grpc_address
    # The first correctly classified test image of each class 0-3 (a rule, not the first four
    # images: on fixture seed 2 one of those flips after the PNG round trip, 0.75 accuracy).
    predictions = np.argmax(trained_lenet.predict(digits_test[0], verbose=0), -1)
    chosen = [np.flatnonzero((digits_test[1] == c) & (predictions == c))[0] for c in range(4)]
    x, y = digits_test[0][chosen], digits_test[1][chosen]
    with Client(address, MODEL, protocol=protocol) as client:
        probabilities = client.predict(x)
        assert probabilities.dtype == np.float32 and probabilities.shape == (4, 10)
        assert np.max(np.abs(probabilities - trained_lenet.predict(x, verbose=0))) <= 1e-5
        import tensorflow as tf

        files = [tf.io.encode_png(np.round(i * 255).astype(np.uint8)).numpy() for i in x]
        top = client.predict_images(files)
        assert top["classes"].dtype.kind == "U"
        assert top["classes"][:, 0].tolist() == [
            f"digit_{int(i)}" for i in np.argmax(probabilities, -1)
        ]
        # 4 of 4 through PNG over fixture seeds 0-2, oneDNN on and off: one flip is allowed.
        assert np.mean(np.argmax(top["probabilities"], -1) == y) >= 0.75
        saliency = client.saliency(x[:2])
        assert saliency["saliency"].shape == (2, 32, 32)
        assert client.status()["model_version_status"][0]["state"] == "AVAILABLE"
        assert client.metadata()["model_spec"] == {
            "name": MODEL,
            "signature_name": "",
            "version": "1",
        }
        with pytest.raises(ServingError) as error:
            client.predict(x[:, :8])
        assert error.value.code == "INVALID_ARGUMENT" and error.value.http_status == 400


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_client_reports_unknown_models(server, protocol):
    address = server.rest_url if protocol == "rest" else server.grpc_address
    with Client(address, "nope", protocol=protocol) as client:
        with pytest.raises(ServingError) as error:
            client.status()
        assert error.value.code == "NOT_FOUND"
        assert error.value.message == "Could not find any versions of model nope"


def test_client_and_server_argument_checks(served_base):
    from kerasconv.serving import ModelServer

    with pytest.raises(ValueError, match="protocol"):
        Client("127.0.0.1:1", MODEL, protocol="soap")
    with pytest.raises(ValueError, match="version or label"):
        Client("127.0.0.1:1", MODEL, version=1, label="stable")
    with pytest.raises(ValueError, match="rest_api_port"):
        ModelServer.for_model(MODEL, served_base, rest_api_port=70000)
    with pytest.raises(ValueError, match="at least one"):
        ModelServer.for_model(MODEL, served_base, rest_api_port=None, grpc_port=None)
    with pytest.raises(ServingError) as error:
        Client("127.0.0.1:9", MODEL, timeout=2).status()
    assert error.value.code == "UNAVAILABLE"


def test_kerasconv_serve_command(served_base, free_port, http, tmp_path):
    # tensorflow_model_server's spellings; no --model_name: the model is called "default".
    rest, port = free_port(), free_port()
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 1000 }\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "kerasconv", "serve", f"--model_base_path={served_base}",
         f"--rest_api_port={rest}", f"--port={port}", "--enable_batching=true",
         f"--batching_parameters_file={batching}", "--rest_api_timeout_in_ms=60000",
         "--max_num_load_retries=0", "--load_retry_interval_micros=100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = http(f"http://127.0.0.1:{rest}/v1/models/default")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, process.stdout.read() if process.poll() is not None else status
        assert body["model_version_status"][0]["state"] == "AVAILABLE"
        client = Client(f"127.0.0.1:{port}", "default", protocol="grpc")
        assert client.metadata()["model_spec"]["version"] == "1"
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"REST: http://127.0.0.1:{rest}" in output and f"gRPC: 127.0.0.1:{port}" in output


def test_kerasconv_serve_usage_errors(capsys):
    from kerasconv.cli import main

    assert main(["serve", "--model_name", MODEL]) == 2
    assert main(["serve", "--model_config_file", "/nonexistent/models.config"]) == 2
    assert main(["serve", "--model_base_path=/m", "--batching_parameters_file=/b"]) == 2
    assert "needs --enable_batching=true" in capsys.readouterr().err
    assert main(["serve", "--model_base_path=/m", "--enable_batching=auto",
                 "--batching_parameters_file=/b"]) == 2  # fmt: skip
    assert "needs --enable_batching=true" in capsys.readouterr().err
    assert main(["serve", "--model_base_path=/m", "--port=0", "--rest_api_port=0"]) == 2


def test_kerasconv_serve_reports_a_missing_base_path(tmp_path):
    from kerasconv.cli.serve import model_lines
    from kerasconv.serving import ModelRegistry

    missing = tmp_path / "not_yet"
    registry = ModelRegistry.for_model("default", missing, poll_seconds=0)
    registry.start()
    assert model_lines(registry, 0.2) == [
        f"model default: base path '{missing}' does not exist; polling every 0.2 s"
    ]
    missing.mkdir()
    registry.poll()
    assert model_lines(registry, 0) == [f"model default: no version folders under '{missing}' yet"]
