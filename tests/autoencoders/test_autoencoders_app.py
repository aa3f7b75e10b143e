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
    # Even the smoke run's two VAE epochs raise the ELBO: by 21.3-32.4 nats (sd 4.7) over seeds
    # 0-4, oneDNN on and off (the smoke VAE trained alone, outside the app); 0 is the minimum
    # less 4.5 sd.
    assert after > before
    assert "| dense | 103,328 | 16 | 128 | 49.0 |" in report


def test_interpolation_rows_run_between_the_named_classes(trained_vae, digits_28):
    # The figure's "8 → 3" row must start at an 8 and end at a 3: endpoints are chosen by a rule
    # (each class's most typical test image in code space), not by index.
    import numpy as np

    import kerasconv.autoencoders as ae

    spec = importlib.util.spec_from_file_location("autoencoders_app", APP)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    model = trained_vae[0]
    x, y = np.asarray(digits_28[2]), np.asarray(digits_28[3])
    pairs = app.interpolation_endpoints(model, x, y)
    assert [(int(y[a]), int(y[b])) for a, b in pairs] == list(app.INTERPOLATION_PAIRS)
    codes = ae.encode(model, x)
    assert np.std(codes) > 0
    for pair in pairs:
        for index in pair:
            members = y == y[index]
            distances = np.sum(np.square(codes[members] - np.median(codes[members], 0)), 1)
            assert np.sum(np.square(codes[index] - np.median(codes[members], 0))) == distances.min()
    # A pair with an absent class is left out.
    kept = y != 8
    rest = app.interpolation_endpoints(model, x[kept], y[kept])
    assert [(int(y[kept][a]), int(y[kept][b])) for a, b in rest] == [(0, 6), (1, 7)]
