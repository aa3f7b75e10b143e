"""The ``kerasconv synthesize`` command (issue 6; apps/loss_landscape.py is tested in
tests/apps/test_apps_studies_a.py)."""


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
