"""evaluate_robustness: tables, per-class success, norms and the gradient-masking check."""

import numpy as np
import tensorflow as tf

from kerasconv import attacks
from kerasconv.gradients import logits_function


def test_robustness_report_on_the_natural_lenet(
    trained_lenet, trained_lenet_b, attack_batch, tmp_path
):
    x, y = attack_batch
    report = attacks.evaluate_robustness(
        trained_lenet,
        (x, y),
        attacks={"fgsm": "fgsm", "pgd": ("pgd", {"nb_iter": 8})},
        eps_list=[0.0, 0.1, 0.2],
        transfer_from=trained_lenet_b,
        path=tmp_path / "acc.png",
    )
    assert report.clean_accuracy == 1.0  # the batch holds correctly classified digits
    table = report.table()
    assert table["fgsm"][0] == 1.0 and table["pgd"][0] == 1.0  # eps = 0
    # PGD at 0.2: 0.047-0.234 (sd 0.061) over fixture seeds 0-2, oneDNN on and off (FGSM 0.38-0.55).
    assert table["pgd"][2] < 0.45 and table["pgd"][2] <= table["fgsm"][2]
    assert report.per_class_success["pgd"].shape == (3, 10)
    np.testing.assert_allclose(report.linf["pgd"], [0.0, 0.1, 0.2], atol=1e-5)
    assert not report.gradient_masking["suspected"], report.gradient_masking["flags"]
    markdown = report.markdown()
    assert "| pgd |" in markdown and "eps=0.2" in markdown and "no sign of gradient" in markdown
    assert (tmp_path / "acc.png").stat().st_size > 5000


def test_gradient_masking_is_flagged_for_a_saturated_model(trained_lenet, attack_batch):
    x, y = attack_batch
    # A "defence" that rounds its input: zero gradients everywhere, an obvious masking case.
    logits = logits_function(trained_lenet)

    def model(images):
        return logits(tf.round(images * 4) / 4)

    report = attacks.evaluate_robustness(model, (x[:32], y[:32]), attacks=("fgsm",), eps_list=[0.1])
    assert report.gradient_masking["zero_gradient_share"] == 1.0
    assert report.gradient_masking["suspected"]
    assert any("exactly zero" in flag for flag in report.gradient_masking["flags"])
