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
    x, y = digits_test[0][:4], digits_test[1][:4]
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


def test_kerasconv_serve_command(served_base, free_port, http):
    rest, port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kerasconv", "serve", "--model_name", MODEL,
         "--model_base_path", str(served_base), "--rest_api_port", str(rest), "--port", str(port)],
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
                status, body = http(f"http://127.0.0.1:{rest}/v1/models/{MODEL}")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, process.stdout.read() if process.poll() is not None else status
        assert body["model_version_status"][0]["state"] == "AVAILABLE"
        client = Client(f"127.0.0.1:{port}", MODEL, protocol="grpc")
        assert client.metadata()["model_spec"]["version"] == "1"
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"REST: http://127.0.0.1:{rest}" in output and f"gRPC: 127.0.0.1:{port}" in output


def test_kerasconv_serve_usage_errors():
    from kerasconv.cli import main

    assert main(["serve", "--model_name", MODEL]) == 2
    assert main(["serve", "--model_config_file", "/nonexistent/models.config"]) == 2
