"""The web demo's JSON API over plain HTTP (no browser): what it answers must be what the model
computes, bad uploads must get clear errors, and the SavedModel and TF Serving modes must agree
with the in-process one."""

import base64
import io
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from apps_test_helpers import DIGIT_NAMES, ROOT


def _png(image, format_name="PNG"):
    from PIL import Image

    pixels = np.round(np.clip(np.asarray(image), 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format_name)
    return buffer.getvalue()


def _request(url, data=None, method=None):
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _analyze(demo, data, query=""):
    status, _, body = _request(f"{demo.url}/api/analyze{query}", data=data, method="POST")
    return status, json.loads(body)


def _decode(url):
    """A ``data:image/png;base64`` URL as a uint8 array."""
    from PIL import Image

    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def _pixels(image):
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def test_page_info_and_samples(webdemo_server):
    import kerasconv

    status, headers, body = _request(webdemo_server.url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    page = body.decode("utf-8")
    for element in ("file", "method", "tags", "stats", "overlay", "adversarial", "difference"):
        assert f'id="{element}"' in page
    assert 'id="error"' in page
    # Fully offline: the page names no other server.
    assert not re.search(r"https?://", page)

    status, _, body = _request(webdemo_server.url + "/api/info")
    info = json.loads(body)
    assert status == 200
    assert info["model"]["input"] == {"height": 32, "width": 32, "channels": 1}
    assert info["model"]["classes"] == DIGIT_NAMES
    assert info["model"]["explanations"] == ["saliency", "grad_cam"]
    assert info["model"]["where"] == "in process"
    assert info["samples"]["photos"] == list(kerasconv.data.SAMPLE_NAMES)
    assert info["samples"]["digits"] == [f"digit-{i}" for i in range(10)]
    assert info["max_upload_bytes"] == 4 * 1024 * 1024
    assert info["style"] == "digits"

    from PIL import Image

    status, headers, body = _request(webdemo_server.url + "/api/samples/digit-4")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).size == (128, 128)
    status, headers, body = _request(webdemo_server.url + "/api/samples/chelsea?size=64")
    assert status == 200 and max(Image.open(io.BytesIO(body)).size) == 64
    status, _, body = _request(webdemo_server.url + "/api/samples/unicorn")
    assert status == 404 and "unicorn" in json.loads(body)["error"]
    status, _, body = _request(webdemo_server.url + "/api/samples/chelsea?size=9999")
    assert status == 400 and "size" in json.loads(body)["error"]
    status, _, body = _request(webdemo_server.url + "/nowhere")
    assert status == 404 and json.loads(body)["error"] == "Not found: /nowhere"


def test_analysis_is_what_the_model_computes(webdemo_server, trained_lenet, confident_digits):
    import kerasconv
    from apps.webdemo.analysis import AMPLIFICATION, EPSILONS
    from kerasconv.visualize.plot import heatmap_overlay

    label = 5
    x = confident_digits[label]
    data = _png(x)
    status, result = _analyze(webdemo_server, data)
    assert status == 200, result

    # The tags are the model's own probabilities of the uploaded image, in order.
    expected = trained_lenet.predict(x[None], verbose=0)[0]
    order = np.argsort(-expected)[:5]
    assert [tag["name"] for tag in result["tags"]] == [DIGIT_NAMES[i] for i in order]
    np.testing.assert_allclose(
        [tag["probability"] for tag in result["tags"]], expected[order], atol=1e-5
    )
    assert result["prediction"] == str(label)

    stats = result["stats"]
    assert stats["bytes"] == len(data) and stats["size"] == f"{len(data) / 1024:.2f} KB"
    assert (stats["width"], stats["height"], stats["format"]) == (32, 32, "PNG")
    assert 0 < stats["time_ms"] <= stats["total_ms"]
    # A clean white-on-black digit filling the frame is left alone.
    assert result["preprocessing"] == {
        "style": "digits",
        "size": [32, 32, 1],
        "inverted": False,
        "stretched": False,
        "cropped": False,
    }
    np.testing.assert_array_equal(_decode(result["input"]), _pixels(x)[..., 0])

    # The overlay is the saliency map of that image drawn over it.
    saliency = kerasconv.visualize.saliency_map(trained_lenet, x[None])[0]
    overlay = _decode(result["explanation"]["overlay"]).astype(int)
    assert overlay.shape == (32, 32, 3)
    assert np.abs(overlay - _pixels(heatmap_overlay(x, saliency))).max() <= 1

    # The adversarial image is the fast gradient sign image at the smallest eps that flips the
    # prediction (after 8-bit rounding), as kerasconv.attacks computes it.
    adversarial = result["adversarial"]
    x_adv, _ = kerasconv.attacks.fast_gradient_method(
        trained_lenet, x[None], list(EPSILONS), clip_min=0.0, clip_max=1.0
    )
    candidates = np.round(np.asarray(x_adv)[:, 0] * 255) / 255
    labels = np.argmax(trained_lenet.predict(candidates, verbose=0), axis=-1)
    flipped = np.flatnonzero(labels != label)
    chosen = flipped[0] if len(flipped) else len(EPSILONS) - 1
    assert adversarial["eps"] == EPSILONS[chosen]
    assert adversarial["changed"] == bool(len(flipped))
    adversarial_image = _decode(adversarial["image"])
    np.testing.assert_array_equal(adversarial_image, _pixels(candidates[chosen])[..., 0])
    assert adversarial["prediction"] == DIGIT_NAMES[labels[chosen]]
    assert adversarial["tags"][0]["name"] == adversarial["prediction"]
    assert adversarial["linf"] <= adversarial["eps"] + 0.5 / 255 + 1e-6
    # Every pixel moved by eps (or to a bound): the sign method.
    moved = np.abs(adversarial_image.astype(int) - _pixels(x)[..., 0].astype(int))
    at_bound = (adversarial_image == 0) | (adversarial_image == 255)
    step = round(adversarial["eps"] * 255)
    assert np.all((np.abs(moved - step) <= 1) | at_bound | (moved == 0))
    # And the difference panel is that change amplified ten times around grey.
    difference = _decode(adversarial["difference"]).astype(float) / 255
    delta = (adversarial_image.astype(float) - _pixels(x)[..., 0]) / 255
    assert adversarial["amplification"] == AMPLIFICATION == 10.0
    assert np.abs(difference - np.clip(0.5 + 10 * delta, 0, 1)).max() <= 1 / 255 + 1e-6
    assert adversarial["changed"], "a least-confident digit should be flipped by eps <= 0.5"


def test_grad_cam_top_and_bad_options(webdemo_server, confident_digits):
    data = _png(confident_digits[2])
    status, saliency = _analyze(webdemo_server, data, "?method=saliency&top=3")
    assert status == 200 and len(saliency["tags"]) == 3
    status, cam = _analyze(webdemo_server, data, "?method=grad_cam")
    assert status == 200 and cam["explanation"]["method"] == "grad_cam"
    assert cam["tags"][0]["name"] == "2" and len(cam["tags"]) == 5
    assert not np.array_equal(
        _decode(cam["explanation"]["overlay"]), _decode(saliency["explanation"]["overlay"])
    )
    status, error = _analyze(webdemo_server, data, "?method=occlusion")
    assert status == 400 and "saliency, grad_cam" in error["error"]
    for top in ("0", "21", "five"):
        status, error = _analyze(webdemo_server, data, f"?top={top}")
        assert status == 400 and "top must" in error["error"]


def test_a_photographed_dark_digit_is_inverted_and_framed(webdemo_server, confident_digits):
    """The digits rule: dark ink on light paper, small in a wide picture, still reads right."""
    from PIL import Image

    label = 6
    digit = confident_digits[label][..., 0]
    big = np.asarray(
        Image.fromarray(_pixels(digit)).resize((96, 96), Image.Resampling.BILINEAR), float
    )
    rng = np.random.default_rng(0)
    paper = 0.85 + 0.02 * rng.standard_normal((200, 300))
    paper[50:146, 170:266] -= 0.75 * big / 255  # dark strokes
    status, result = _analyze(webdemo_server, _png(paper, "JPEG"))
    assert status == 200, result
    notes = result["preprocessing"]
    assert notes["inverted"] and notes["stretched"] and notes["cropped"]
    assert result["stats"]["width"] == 300 and result["stats"]["height"] == 200
    assert result["tags"][0]["name"] == str(label)
    seen = _decode(result["input"]).astype(float) / 255
    # Framed like the data: the ink spans the full height, the corners are black.
    assert seen[:, 16].max() > 0.5 and seen[0].max() > 0.3 and seen[-1].max() > 0.3
    assert seen[:3, :3].max() < 0.1


def test_digit_rule_on_a_hand_built_image():
    from apps.webdemo.analysis import digit_form, preprocess

    grey = np.full((40, 60), 0.9, dtype=np.float32)
    grey[10:30, 20:30] = 0.1  # a dark 20×10 bar on light paper
    formed, notes = digit_form(grey)
    assert notes == {"inverted": True, "stretched": True, "cropped": True}
    # A 20×20 square around the bar: the bar is white (1), the rest black (0).
    assert formed.shape == (20, 20)
    np.testing.assert_allclose(formed[:, 5:15], 1.0)
    np.testing.assert_allclose(formed[:, :5], 0.0)
    np.testing.assert_allclose(formed[:, 15:], 0.0)
    # A photo-style model keeps the colours and crops the centre to its aspect ratio.
    photo = np.zeros((40, 80, 3), dtype=np.float32)
    photo[:, 20:60] = [1.0, 0.0, 0.0]
    x, notes = preprocess(photo, (8, 8, 3), style="photo")
    assert x.shape == (8, 8, 3) and not any(notes.values())
    np.testing.assert_allclose(x[..., 0], 1.0)
    np.testing.assert_allclose(x[..., 1:], 0.0)
    with pytest.raises(ValueError, match="style must be one of"):
        preprocess(photo, (8, 8, 3), style="sketch")


def _chunked_post(url):
    host, port = url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        return connection.recv(4096).decode("latin-1")


def test_bad_uploads_get_clear_errors_and_the_server_keeps_serving(
    webdemo_server, confident_digits
):
    from PIL import Image

    good = _png(confident_digits[1])
    cases = [
        (b"just some text\n" * 20, 400, "not an image"),
        (b"", 400, "no image"),
        (b"\x89PNG\r\n\x1a\n" + bytes(5 * 1024 * 1024), 413, "too large: 5.00 MB"),
        (good[: len(good) // 2], 400, "damaged"),
        (_png(np.zeros((5000, 6000))), 400, "30,000,000 pixels; the limit is 25,000,000"),
    ]
    tiff = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tiff, format="TIFF")
    cases.append((tiff.getvalue(), 400, "TIFF images are not supported"))
    for data, status, message in cases:
        answer_status, answer = _analyze(webdemo_server, data)
        assert answer_status == status and message in answer["error"], (status, answer)
        assert set(answer) == {"error"}
    assert _chunked_post(webdemo_server.url).startswith("HTTP/1.1 411")

    for format_name in ("PNG", "BMP", "GIF", "JPEG"):
        status, result = _analyze(webdemo_server, _png(confident_digits[1], format_name))
        assert status == 200 and result["stats"]["format"] == format_name
        assert result["tags"][0]["name"] == "1"


@pytest.fixture(scope="module")
def exported_lenet(trained_lenet, tmp_path_factory):
    import kerasconv

    base = tmp_path_factory.mktemp("saved_models") / "lenet5_digits"
    kerasconv.export.export_model(trained_lenet, base, class_names=DIGIT_NAMES)
    return base


def test_saved_model_and_tf_serving_modes_agree_with_in_process(
    webdemo_server, exported_lenet, confident_digits
):
    from apps.webdemo import RemoteBackend, WebDemo, load_backend
    from kerasconv.serving import ModelServer

    data = _png(confident_digits[8])
    status, local = _analyze(webdemo_server, data)
    assert status == 200

    def check_like_local(result):
        assert [t["name"] for t in result["tags"]] == [t["name"] for t in local["tags"]]
        np.testing.assert_allclose(
            [t["probability"] for t in result["tags"]],
            [t["probability"] for t in local["tags"]],
            atol=1e-5,
        )
        # The saliency signature computes Simonyan et al.'s map like kerasconv.visualize.
        difference = _decode(result["explanation"]["overlay"]).astype(int) - _decode(
            local["explanation"]["overlay"]
        )
        assert np.abs(difference).max() <= 2
        np.testing.assert_array_equal(_decode(result["input"]), _decode(local["input"]))

    backend, style, note = load_backend(str(exported_lenet))
    assert (style, backend.class_names, backend.explanations) == (
        "photo",
        DIGIT_NAMES,
        ("saliency",),
    )
    with WebDemo(backend, style="digits", port=0, warm_up=False) as demo:
        status, saved = _analyze(demo, data)
        assert status == 200, saved
        assert "SavedModel" in saved["where"]
        check_like_local(saved)
        # Exact gradients through the SavedModel: the same FGSM image as in process.
        assert saved["adversarial"]["eps"] == local["adversarial"]["eps"]
        assert saved["adversarial"]["prediction"] == local["adversarial"]["prediction"]
        status, error = _analyze(demo, data, "?method=grad_cam")
        assert status == 400 and "offers saliency" in error["error"]

    with ModelServer.for_model(
        "lenet5_digits", exported_lenet, rest_api_port=0, grpc_port=None
    ) as server:
        with pytest.raises(ValueError, match="together with"):
            load_backend(server=server.rest_url)
        with pytest.raises(ValueError, match="cannot use model 'nothing'"):
            RemoteBackend(server.rest_url, "nothing")
        backend = RemoteBackend(server.rest_url, "lenet5_digits")
        assert backend.input_shape == (32, 32, 1)
        with WebDemo(backend, style="digits", port=0, warm_up=False) as demo:
            status, remote = _analyze(demo, data)
        rest_url = server.rest_url
    assert status == 200, remote
    assert remote["where"] == f"TF Serving REST at {rest_url}"
    check_like_local(remote)
    # The server computes the loss gradient: the same exact FGSM image as in process.
    adversarial = remote["adversarial"]
    assert adversarial["eps"] == local["adversarial"]["eps"]
    assert adversarial["prediction"] == local["adversarial"]["prediction"]
    assert adversarial["linf"] <= adversarial["eps"] + 0.5 / 255 + 1e-6
    assert adversarial["tags"][0]["name"] == adversarial["prediction"]
    assert adversarial["changed"] == (adversarial["prediction"] != remote["prediction"])


def test_built_in_model_is_trained_once_and_cached(tmp_path, monkeypatch):
    import kerasconv
    from apps.webdemo import models

    quick = dict(models.BUILT_IN["faces"], epochs=2, minimum_accuracy=0.0)
    monkeypatch.setitem(models.BUILT_IN, "faces", quick)
    model, record = models.train_built_in("faces", tmp_path, verbose=False)
    assert record["class_names"] == ["non_face", "face"] and record["test_images"] == 40
    assert 0.0 <= record["test_accuracy"] <= 1.0 and record["epochs"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.json", "faces.keras"]

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model must not be trained again")

    monkeypatch.setattr(kerasconv.training, "train", no_training)
    backend, style, note = models.load_backend("faces", cache_dir=tmp_path)
    assert style == "photo" and backend.class_names == ["non_face", "face"]
    assert "40 test images" in note
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    np.testing.assert_allclose(
        backend.probabilities(x), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    monkeypatch.undo()

    strict = dict(models.BUILT_IN["faces"], epochs=1, minimum_accuracy=1.01)
    monkeypatch.setitem(models.BUILT_IN, "faces", strict)
    with pytest.raises(RuntimeError, match="below the 101% it must reach"):
        models.train_built_in("faces", tmp_path / "strict", verbose=False)
    assert not (tmp_path / "strict" / "faces.keras").exists()


def test_load_backend_arguments(trained_lenet, tmp_path):
    from apps.webdemo import KerasBackend, load_backend

    path = tmp_path / "mine.keras"
    trained_lenet.save(path)
    names = "zero,one,two,three,four,five,six,seven,eight,nine"
    backend, style, note = load_backend(str(path), class_names=names)
    assert isinstance(backend, KerasBackend) and style == "photo"
    assert backend.class_names[7] == "seven" and note == "Keras model mine.keras"
    with pytest.raises(ValueError, match="10 classes but 3 class names"):
        load_backend(str(path), class_names="a,b,c")
    with pytest.raises(ValueError, match="comma-separated"):
        load_backend(str(path), class_names="a,,b")
    with pytest.raises(FileNotFoundError, match="neither 'digits', 'faces'"):
        load_backend(str(tmp_path / "missing.keras"))
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="expected a .keras file or a SavedModel"):
        load_backend(str(text))
    with pytest.raises(ValueError, match="has its own class names"):
        load_backend("digits", class_names=names)

    # A model without spatial layers offers the saliency map only, and says so.
    import keras

    from apps.webdemo import UploadError, analyze

    dense = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3)], name="dense"
    )
    backend = KerasBackend(dense, ["a", "b", "c"])
    assert backend.explanations == ("saliency",)
    with pytest.raises(UploadError, match="offers saliency"):
        analyze(backend, _png(np.zeros((8, 8, 3))), method="grad_cam")
    result = analyze(backend, _png(np.full((8, 8, 3), 0.5)), method="saliency")
    assert sorted(tag["name"] for tag in result["tags"]) == ["a", "b", "c"]
    assert abs(sum(tag["probability"] for tag in result["tags"]) - 1.0) < 1e-5


def test_command_lines_agree_and_report_errors(tmp_path, capsys):
    import argparse

    from apps.webdemo import add_arguments
    from kerasconv.cli import build_parser, main

    demo_parser = argparse.ArgumentParser()
    add_arguments(demo_parser)
    app_parser = build_parser()._subparsers._group_actions[0].choices["app"]

    def options(parser):
        return {
            tuple(action.option_strings): (action.dest, action.default, action.choices)
            for action in parser._actions
            if action.option_strings and action.dest != "help"
        }

    assert options(app_parser) == options(demo_parser)

    missing = tmp_path / "missing.keras"
    assert main(["app", "--model", str(missing), "--port", "0"]) == 2
    assert "kerasconv app: error:" in capsys.readouterr().err
    assert main(["app", "--server", "http://127.0.0.1:1", "--port", "0"]) == 2
    assert "--model-name" in capsys.readouterr().err

    # `python -m apps.webdemo` and the CLI's import of the demo from outside the checkout.
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "apps.webdemo", "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "--model-name" in done.stdout
    code = "from kerasconv.cli.app import _import_webdemo; print(_import_webdemo().__file__)"
    environment.pop("PYTHONPATH")
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(ROOT / "apps" / "webdemo" / "__init__.py")
