"""``kerasconv autoencoder train|reconstruct|denoise|inpaint|sample`` end to end."""

import os

import keras

import kerasconv.autoencoders as ae
from kerasconv.cli import main


def test_train_then_every_action(tmp_path, capsys):
    model_path = str(tmp_path / "dense.keras")
    out = str(tmp_path / "figures")
    assert (
        main(
            [
                "autoencoder",
                "train",
                "--kind",
                "dense",
                "--latent-dim",
                "8",
                "--epochs",
                "1",
                "--output",
                model_path,
            ]
        )
        == 0
    )
    assert isinstance(keras.saving.load_model(model_path), ae.Autoencoder)
    text = capsys.readouterr().out
    assert "64 bits per image" in text and "ratio 98.0" in text
    for action, extra, figure in (
        ("reconstruct", [], "reconstruction.png"),
        ("denoise", ["--amount", "0.2"], "denoise.png"),
        ("inpaint", ["--hole", "bottom", "--size", "8", "--image", "digits:5"], "inpaint.png"),
    ):
        assert (
            main(
                ["autoencoder", action, "--model", model_path, "--out", out, "--count", "4", *extra]
            )
            == 0
        )
        assert os.path.getsize(os.path.join(out, figure)) > 1000
    # Sampling needs a VAE: a dense autoencoder is refused with exit code 2 and one line.
    assert main(["autoencoder", "sample", "--model", model_path, "--out", out]) == 2
    assert "not a VAE" in capsys.readouterr().err


def test_vae_train_and_sample(tmp_path):
    model_path = str(tmp_path / "vae.keras")
    out = str(tmp_path / "figures")
    assert (
        main(
            [
                "autoencoder",
                "train",
                "--kind",
                "vae",
                "--latent-dim",
                "2",
                "--epochs",
                "1",
                "--output",
                model_path,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "autoencoder",
                "sample",
                "--model",
                model_path,
                "--out",
                out,
                "--count",
                "9",
                "--grid",
                "5",
            ]
        )
        == 0
    )
    assert os.path.exists(os.path.join(out, "samples.png"))
    assert os.path.exists(os.path.join(out, "manifold.png"))


def test_bad_arguments(tmp_path, capsys):
    assert (
        main(
            [
                "autoencoder",
                "train",
                "--kind",
                "dense",
                "--latent-dim",
                "800",
                "--output",
                str(tmp_path / "x.keras"),
            ]
        )
        == 2
    )
    assert "strictly smaller" in capsys.readouterr().err
    assert main(["autoencoder", "reconstruct", "--model", str(tmp_path / "missing.keras")]) == 2
