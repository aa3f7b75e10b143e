"""The ``kerasconv visualize`` command and the gallery app."""

import importlib.util
import os

import numpy as np
import pytest

from kerasconv.cli import main
from tests._compare import assert_close_nontrivial


@pytest.fixture(scope="module")
def lenet_file(trained_lenet, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "lenet.keras"
    trained_lenet.save(path)
    return str(path)


def test_cli_writes_maps_for_a_test_digit(lenet_file, tmp_path, trained_lenet, digits_32):
    out = tmp_path / "out"
    code = main(
        [
            "visualize",
            "grad_cam",
            "--model",
            lenet_file,
            "--image",
            "digits:3",
            "--out",
            str(out),
            "--layer",
            "c3",
            "--target",
            "2",
        ]
    )
    assert code == 0
    assert (out / "grad_cam.png").stat().st_size > 1000
    from kerasconv import visualize

    expected = visualize.grad_cam(trained_lenet, digits_32[2][3:4], 2, layer="c3")
    assert_close_nontrivial(np.load(out / "grad_cam.npy"), expected, rtol=1e-5, atol=1e-6)
    assert main(["visualize", "filters", "--model", "lenet5", "--out", str(out)]) == 0
    assert np.load(out / "filters.npy").shape == (6, 5, 5, 1)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["saliency", "--image", "digits:99999"], "N must be in"),
        (["saliency", "--image", "no_such_file.png"], "is not a file"),
        (["grad_cam", "--image", "digits:0", "--layer", "nope"], "no layer 'nope'"),
        (["saliency", "--image", "digits:0", "--target", "11"], "class index"),
        (["saliency"], "needs --image"),
    ],
)
def test_cli_bad_arguments_give_one_line(lenet_file, tmp_path, capsys, arguments, message):
    code = main(
        ["visualize", arguments[0], "--model", lenet_file, "--out", str(tmp_path)] + arguments[1:]
    )
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_gallery_smoke_run_writes_a_self_contained_page(tmp_path):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "apps", "visualize_gallery.py")
    spec = importlib.util.spec_from_file_location("visualize_gallery", path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    out = tmp_path / "gallery"
    assert app.main(["--smoke", "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "http" not in page  # no CDN, no remote images
    images = [part.split("'")[0] for part in page.split("<img src='")[1:]]
    assert len(images) >= 14
    for name in images:
        assert (out / name).stat().st_size > 1000
    report = (out / "report.md").read_text()
    assert "test accuracy" in report and "No ImageNet weights" in report
