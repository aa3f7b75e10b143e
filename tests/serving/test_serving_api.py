"""The rest of TF Serving's API (Classify, Regress, MultiInference), its flags, clear failures,
and the conformance table of docs/serving.md (every row names the tests that check it)."""

import base64
import re
import socket
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    inference_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from kerasconv.serving import ModelServer

MODEL = "lenet5_digits"
NAMES = [f"digit_{i}" for i in range(10)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example_server(example_base):
    with ModelServer.for_model(
        MODEL, example_base, poll_seconds=0, rest_api_port=0, grpc_port=0
    ) as running:
        yield running


@pytest.fixture(scope="module")
def digits(trained_lenet, digits_test):
    """Four test digits as PNG files and the Keras model's probabilities for their pixels."""
    x = digits_test[0][:4]
    pixels = np.round(x * 255).astype(np.uint8)
    files = [tf.io.encode_png(image).numpy() for image in pixels]
    expected = trained_lenet.predict((pixels / 255).astype("float32"), verbose=0)
    assert np.ptp(expected) > 0.5  # a real, confident reference
    return files, expected


def _example(png):
    feature = tf.train.Feature(bytes_list=tf.train.BytesList(value=[png]))
    return tf.train.Example(features=tf.train.Features(feature={"image/encoded": feature}))


def _top3(probabilities):
    order = np.argsort(-probabilities, axis=-1)[:, :3]
    return order, np.take_along_axis(probabilities, order, axis=-1)


def test_rest_classify_and_regress(example_server, digits, http):
    files, expected = digits
    order, top = _top3(expected)
    examples = [{"image/encoded": {"b64": base64.b64encode(f).decode()}} for f in files]
    url = f"{example_server.rest_url}/v1/models/{MODEL}"
    status, body = http(
        f"{url}:classify", "POST", {"signature_name": "classification", "examples": examples}
    )
    assert status == 200 and list(body) == ["result"] and len(body["result"]) == 4
    for pairs, classes, scores in zip(body["result"], order, top):
        assert [label for label, _ in pairs] == [NAMES[c] for c in classes]
        assert np.max(np.abs(np.array([score for _, score in pairs]) - scores)) <= 1e-5
    status, body = http(
        f"{url}/versions/1:regress", "POST", {"signature_name": "regression", "examples": examples}
    )
    assert status == 200 and np.max(np.abs(np.array(body["result"]) - top[:, 0])) <= 1e-5
    # Context features are merged into every example; an example's own features win.
    status, body = http(
        f"{url}:classify",
        "POST",
        {"signature_name": "classification", "context": examples[0], "examples": [{}, examples[1]]},
    )
    assert status == 200
    assert [r[0][0] for r in body["result"]] == [NAMES[order[0, 0]], NAMES[order[1, 0]]]
    # Wrong method, wrong feature types: TF Serving's 400s.
    status, body = http(f"{url}:regress", "POST", {"signature_name": "classification",
                                                   "examples": examples})  # fmt: skip
    assert status == 400 and "Expected regress signature method_name" in body["error"]
    status, body = http(
        f"{url}:classify",
        "POST",
        {"signature_name": "classification", "examples": [{"a": [1, "x"]}]},
    )
    assert status == 400 and "only numbers or only strings" in body["error"]


def test_grpc_classify_regress_and_multi_inference(example_server, digits):
    files, expected = digits
    order, top = _top3(expected)
    with grpc.insecure_channel(example_server.grpc_address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = classification_pb2.ClassificationRequest()
        request.model_spec.name = MODEL
        request.model_spec.signature_name = "classification"
        for png in files:
            request.input.example_list.examples.add().CopyFrom(_example(png))
        response = stub.Classify(request, timeout=30)
        assert response.model_spec.version.value == 1
        labels = [[c.label for c in item.classes] for item in response.result.classifications]
        assert labels == [[NAMES[c] for c in row] for row in order]
        scores = [[c.score for c in item.classes] for item in response.result.classifications]
        assert np.max(np.abs(np.array(scores) - top)) <= 1e-5

        regress = regression_pb2.RegressionRequest()
        regress.model_spec.name = MODEL
        regress.model_spec.signature_name = "regression"
        regress.input.CopyFrom(request.input)
        values = [r.value for r in stub.Regress(regress, timeout=30).result.regressions]
        assert np.max(np.abs(np.array(values) - top[:, 0])) <= 1e-5

        multi = inference_pb2.MultiInferenceRequest()
        multi.input.CopyFrom(request.input)
        for signature, method in (("classification", "classify"), ("regression", "regress")):
            task = multi.tasks.add()
            task.model_spec.name = MODEL
            task.model_spec.signature_name = signature
            task.method_name = f"tensorflow/serving/{method}"
        results = stub.MultiInference(multi, timeout=30).results
        assert [r.model_spec.signature_name for r in results] == ["classification", "regression"]
        first = results[0].classification_result.classifications
        assert [c.classes[0].label for c in first] == [NAMES[row[0]] for row in order]
        assert [r.value for r in results[1].regression_result.regressions] == values

        multi.tasks[1].model_spec.signature_name = "classification"
        with pytest.raises(grpc.RpcError) as error:
            stub.MultiInference(multi, timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Duplicate evaluation of signature: classification" in error.value.details()
        multi.tasks[1].model_spec.name = "other"
        with pytest.raises(grpc.RpcError) as error:
            stub.MultiInference(multi, timeout=30)
        assert "same model name" in error.value.details()
        request.model_spec.signature_name = "serving_default"
        with pytest.raises(grpc.RpcError) as error:
            stub.Classify(request, timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Expected classify signature method_name" in error.value.details()


def test_tf_serving_flag_spellings_and_defaults(tmp_path):
    from kerasconv.cli import build_parser
    from kerasconv.serving.batching import load_batching_parameters

    parse = build_parser().parse_args
    args = parse(["serve", "--model_base_path=/m"])
    assert args.model_name == "default"  # tensorflow_model_server's default name
    assert (args.port, args.max_num_load_retries, args.load_retry_interval_micros) == (
        8500,
        5,
        60_000_000,
    )
    # kerasconv's one default that differs from TF Serving's false: merge requests that are
    # already waiting, never wait (docs/serving.md, "Latency under concurrency").
    assert args.enable_batching == "auto" and args.rest_api_timeout_in_ms == 30000
    batching = tmp_path / "batching.config"
    batching.write_text(
        "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 500 }\n"
        "num_batch_threads { value: 4 }  # threads\nallowed_batch_sizes: 8\n"
    )
    args = parse(["serve", "--model_base_path=/m", "--enable_batching=true",
                  f"--batching_parameters_file={batching}", "--rest_api_timeout_in_ms=250",
                  "--model_config_file_poll_wait_seconds=2"])  # fmt: skip
    assert args.enable_batching is True and args.rest_api_timeout_in_ms == 250
    assert parse(["serve", "--enable_batching"]).enable_batching is True
    assert parse(["serve", "--enable_batching=false"]).enable_batching is False
    assert parse(["serve", "--enable_batching=AUTO"]).enable_batching == "auto"
    with pytest.raises(SystemExit):
        parse(["serve", "--enable_batching=sometimes"])
    assert load_batching_parameters(args.batching_parameters_file) == {
        "max_batch_size": 8,
        "batch_timeout_micros": 500,
        "ignored": ["num_batch_threads", "allowed_batch_sizes"],
    }
    batching.write_text("max_batch_size { value: 8 }\nbogus_field { value: 1 }\n")
    with pytest.raises(ValueError, match="unknown BatchingParameters field 'bogus_field'"):
        load_batching_parameters(batching)


def test_serve_help_shows_every_default(capsys):
    from kerasconv.cli import build_parser

    for command in ("serve", "export"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        options = re.findall(r"^  (--\w+)", text, flags=re.MULTILINE)
        assert len(options) >= (20 if command == "serve" else 7)
        blocks = re.split(r"\n  (?=--)", text.split("options:", 1)[1])[1:]
        for block in blocks:
            if block.startswith("--help"):
                continue
            assert "default" in block or "required" in block, block


def test_busy_port_is_one_line_and_exit_2(served_base, capsys):
    from kerasconv.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["serve", f"--model_base_path={served_base}", f"--rest_api_port={port}",
                     "--port=0", "--file_system_poll_wait_seconds=0"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"cannot listen for REST on 127.0.0.1:{port}" in err[0]
    assert "in use" in err[0].lower()


def test_predict_images_with_non_image_bytes_gives_the_cause(server, http):
    body = {"signature_name": "predict_images", "instances": [{"b64": "bm90IGFuIGltYWdl"}]}
    status, answer = http(f"{server.rest_url}/v1/models/{MODEL}:predict", "POST", body)
    assert status == 400
    assert answer["error"].startswith("Unknown image file format")
    assert "Graph execution error" not in answer["error"]


def _table_rows():
    text = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
    section = text.split("## Conformance with TF Serving", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    # Cells split on unescaped pipes (a cell may hold "\\|").
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])] for row in rows[1:]]


def test_every_conformance_row_names_existing_tests():
    rows = _table_rows()
    assert len(rows) >= 20
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("serving", "export")
        for path in (ROOT / "tests" / folder).glob("test_*.py")
    )
    defined = set(re.findall(r"^def (test_\w+)", sources, flags=re.MULTILINE))
    for feature, tf_serving, kerasconv_cell, tests in rows:
        names = re.findall(r"`(test_\w+)`", tests)
        assert names, f"row {feature!r} names no test"
        missing = [name for name in names if name not in defined]
        assert not missing, f"row {feature!r}: no such tests {missing}"
        assert tf_serving and kerasconv_cell
