"""The example app runs in smoke mode and writes its report and figures."""

import importlib.util
import os
import re

APP = os.path.join(os.path.dirname(__file__), "..", "..", "apps", "autoencoders.py")


def test_app_smoke(tmp_path):
    spec = importlib.util.spec_from_file_location("autoencoders_app", APP)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    out = str(tmp_path / "report")
    assert app.main(["--smoke", "--out", out]) == 0
    with open(os.path.join(out, "report.md"), encoding="utf-8") as handle:
        report = handle.read()
    for section in (
        "Reconstruction and the bottleneck",
        "Denoising",
        "In-painting",
        "Compression",
        "Variational autoencoder",
        "linear probe",
    ):
        assert section in report
    for name in (
        "reconstructions",
        "denoising",
        "inpainting",
        "vae_samples",
        "vae_manifold",
        "vae_latent",
        "vae_interpolation",
    ):
        assert os.path.getsize(os.path.join(out, f"autoencoders_{name}.png")) > 2000
    before, after = map(
        float,
        re.search(
            r"before training \*\*(-?[\d.]+)\*\* nats per image, "
            r"after \*\*(-?[\d.]+)\*\*",
            report,
        ).groups(),
    )
    assert after > before  # even three smoke epochs raise the ELBO
    assert "| dense | 103,328 | 16 | 128 | 49.0 |" in report
