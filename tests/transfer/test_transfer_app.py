"""apps/transfer_study.py --smoke writes the whole report."""

import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_transfer_study_smoke(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "transfer_study", ROOT / "apps" / "transfer_study.py"
    )
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    assert app.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    for heading in (
        "## 1. Tapping off features",
        "## 2. Few-shot",
        "## 3. Fine-tuning",
        "## 4. How important is depth",
        "## 5. Translation, scale and rotation",
    ):
        assert heading in report
    assert "| SVM (f6) | 84 |" in report
    assert "| top fully connected layer | f6 | 4 | 51,902 | 9,804 |" in report
    for figure in ("probes_seen", "probes_new", "finetune", "invariance"):
        assert (tmp_path / "figures" / f"{figure}.png").stat().st_size > 5000
    results = json.loads((tmp_path / "results.json").read_text())
    # The smoke run's source LeNet-5 (4 epochs on digits 0-4) measured 0.83-0.98 (sd 0.06) over
    # seeds 0-4, oneDNN on and off (its training alone, outside the app): 0.5 is the minimum less
    # 5 sd, and 2.5 times the 0.2 chance.
    assert results["smoke"] and results["source_accuracy"] > 0.5
    assert [row["parameters"] for row in results["ablation"]] == [
        61_706,
        51_902,
        6_582,
        109_930,
        3_106,
    ]
