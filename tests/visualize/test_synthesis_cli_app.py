"""The ``kerasconv synthesize`` command and apps/loss_landscape.py (issue 6)."""

import importlib.util
import os

import numpy as np


def test_synthesize_cli_writes_pngs(trained_lenet, tmp_path, capsys):
    from kerasconv.cli import main

    model_path = tmp_path / "lenet.keras"
    trained_lenet.save(model_path)
    out = tmp_path / "maximize"
    code = main(
        [
            "synthesize",
            "maximize",
            "--model",
            str(model_path),
            "--targets",
            "1",
            "7",
            "--steps",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "maximize.png").stat().st_size > 1000
    out = tmp_path / "invert"
    code = main(
        [
            "synthesize",
            "invert",
            "--model",
            str(model_path),
            "--images",
            "digits:0-1",
            "--layers",
            "c1",
            "--steps",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "invert.png").stat().st_size > 1000
    # A user error is one line and exit code 2.
    code = main(
        [
            "synthesize",
            "dream",
            "--model",
            str(model_path),
            "--image",
            "no_such_image",
            "--layers",
            "c3",
            "--out",
            str(tmp_path / "dream"),
        ]
    )
    assert code == 2
    assert "no_such_image" in capsys.readouterr().err
    code = main(["synthesize", "maximize", "--model", str(tmp_path / "missing.keras")])
    assert code == 2


def test_loss_landscape_app_smoke(tmp_path):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "apps", "loss_landscape.py")
    spec = importlib.util.spec_from_file_location("loss_landscape_app", path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    out = tmp_path / "landscape"
    assert app.main(["--smoke", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "ResNet-8" in report and "plain net-8" in report
    assert (out / "surfaces.png").stat().st_size > 5000
    assert (out / "interpolation.png").stat().st_size > 1000
    data = np.load(out / "surfaces.npz")
    for name in ("ResNet-8", "plain net-8"):
        loss = data[f"{name}_loss"]
        assert loss.shape == (3, 3)
        # The trained weights sit at the centre of the plane.
        assert loss[1, 1] <= loss.mean()
