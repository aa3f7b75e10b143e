"""Issue 17's studies, part A: recipe quality, all-conv table, batch norm, residual learning.

Each app's smoke setting runs once (Fashion-MNIST subsets, tiny widths, one or two epochs: far too
short to learn anything, so no direction is asserted on its accuracies); the numbers the reports
are built from are checked against independent computations (accuracy against NumPy, windowed
training error against hand counts, steps to a target, sharpness on a known grid)."""

import json
import re

import numpy as np
import pytest

from apps import _fashion_study as fs
from apps import allconv_study, batchnorm_study, loss_landscape, recipe_study


def _table_rows(report, first_cell):
    return [line for line in report.splitlines() if line.startswith(f"| {first_cell}")]


def test_recipe_study_smoke(tmp_path):
    # The zero-filled translations here; the other studies' smoke runs keep the default (reflect).
    assert recipe_study.main(["--smoke", "--fill", "zeros", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "results.json").read_text())
    results = saved["results"]
    assert saved["settings"]["fill"] == "zeros" and "whole pixels, zero fill" in report
    assert list(results) == ["lenet5", "bn_cnn", "resnet20"]
    for name, runs in results.items():
        (entry,) = runs
        # The reported accuracy is the last evaluation on the whole (smoke) test set.
        assert entry["accuracy"] == entry["curve"][-1]
        assert 0.0 <= entry["accuracy"] <= 1.0 and len(entry["curve"]) == 1
        row = _table_rows(report, recipe_study.LABELS[name])
        assert len(row) == 1 and f"{100 * entry['accuracy']:.2f}%" in row[0]
        assert f"≥ {recipe_study.GOALS[name]}%" in row[0]
    assert results["lenet5"][0]["params"] == 61_706  # LeNet-5 (modern), the registry's count
    assert "91.6%" in report and "93.4%" in report and "94.9%" in report
    assert "Setting **smoke**" in report and "load average" in report
    assert (tmp_path / "recipe_curves.png").stat().st_size > 5000


def test_batchnorm_study_smoke(tmp_path):
    assert batchnorm_study.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    settings = batchnorm_study.SETTINGS["smoke"]
    total = settings["train"] // settings["batch"]  # one epoch
    assert list(results) == list(batchnorm_study.RUNS)
    for label, (entry,) in results.items():
        assert entry["steps"] == list(range(settings["every"], total + 1, settings["every"]))
        accuracies = np.asarray(entry["accuracy"])
        assert np.all((accuracies >= 0) & (accuracies <= 1))
        # Accuracies on 256 test images are multiples of 1/256.
        np.testing.assert_allclose(accuracies * 256, np.round(accuracies * 256), atol=1e-9)
        assert entry["steps_to_target"] == batchnorm_study.steps_to_reach(
            entry["steps"], entry["accuracy"]
        )
        assert len(_table_rows(report, f"{label} |")) == 1
    assert (tmp_path / "batchnorm_accuracy_vs_steps.png").stat().st_size > 5000


def test_allconv_study_smoke(tmp_path):
    assert allconv_study.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert list(results) == list(allconv_study.VARIANTS)
    params = {v: runs[0]["params"] for v, runs in results.items()}
    # Strided-CNN-C has Model C's layers, All-CNN-C ConvPool-CNN-C's (only strides differ).
    assert params["model_c"] == params["strided_cnn_c"] < params["convpool_cnn_c"]
    assert params["convpool_cnn_c"] == params["all_cnn_c"]
    for variant, (entry,) in results.items():
        assert entry["error"] == pytest.approx(100 * (1 - entry["curve"][-1]))
        row = _table_rows(report, f"{allconv_study.LABELS[variant]} |")
        assert len(row) == 1 and f"| {entry['error']:.2f} |" in row[0]
        assert f"{allconv_study.PAPER_ERROR[variant]:.2f}" in row[0]
    assert "≈ 1.37 M" in report and "≈ 0.95 M" in report
    # Without --fill: Keras's reflected borders, recorded as the runs before --fill recorded them.
    assert "borders reflected" in report
    assert "fill" not in json.loads((tmp_path / "results.json").read_text())["settings"]
    assert (tmp_path / "allconv_curves.png").stat().st_size > 5000


def test_allconv_study_models_subset(tmp_path):
    argv = ["--smoke", "--models", "all_cnn_c,model_c", "--out", str(tmp_path)]
    assert allconv_study.main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert list(results) == ["all_cnn_c", "model_c"]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert len(_table_rows(report, "All-CNN-C |")) == 1
    assert not _table_rows(report, "Strided-CNN-C |")


def test_allconv_study_merge_joins_runs_of_other_nets_and_seeds(tmp_path, capsys):
    first, second, merged = tmp_path / "a", tmp_path / "b", tmp_path / "ab"
    common = ["--smoke", "--models"]
    assert allconv_study.main(common + ["all_cnn_c", "--seeds", "0", "--out", str(first)]) == 0
    argv = common + ["all_cnn_c,model_c", "--seeds", "1", "--out", str(second)]
    assert allconv_study.main(argv) == 0
    assert allconv_study.main(["--merge", str(second), str(first), "--out", str(merged)]) == 0
    runs = {
        folder: json.loads((folder / "results.json").read_text())["results"]
        for folder in (first, second, merged)
    }
    # The study's order of nets, each net's runs by seed, every run kept as it was saved.
    assert list(runs[merged]) == ["model_c", "all_cnn_c"]
    assert runs[merged]["model_c"] == runs[second]["model_c"]
    assert runs[merged]["all_cnn_c"] == runs[first]["all_cnn_c"] + runs[second]["all_cnn_c"]
    errors = [entry["error"] for entry in runs[merged]["all_cnn_c"]]
    report = (merged / "report.md").read_text(encoding="utf-8")
    (row,) = _table_rows(report, "All-CNN-C |")
    assert f"| 0, 1 | {np.mean(errors):.2f} ± {np.std(errors, ddof=1):.2f} |" in row
    (row,) = _table_rows(report, "Model C |")
    assert f"| 1 | {runs[second]['model_c'][0]['error']:.2f} |" in row
    assert 'over each row\'s seeds (column "seeds")' in report
    assert "merged from 2 earlier runs" in report
    capsys.readouterr()
    # The same (net, seed) twice, a folder without results and another setting: one line, exit 2.
    quick = tmp_path / "quick"
    quick.mkdir()
    saved = json.loads((first / "results.json").read_text())
    saved["setting"], saved["settings"]["epochs"] = "quick", 3
    (quick / "results.json").write_text(json.dumps(saved))
    other = tmp_path / "recipe"  # a run of another study: its nets are not this study's
    other.mkdir()
    saved = json.loads((first / "results.json").read_text())
    saved["results"] = {"lenet5": saved["results"]["all_cnn_c"]}
    (other / "results.json").write_text(json.dumps(saved))
    for folders, message in (
        ([first, first], "all_cnn_c with seed 0 appears twice"),
        ([first, tmp_path / "missing"], "cannot read"),
        ([first, quick], "other settings"),
        ([first, other], "holds 'lenet5', not one of this study's nets"),
    ):
        with pytest.raises(SystemExit) as raised:
            allconv_study.main(["--merge", *map(str, folders), "--out", str(tmp_path / "x")])
        assert raised.value.code == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and message in error[0]


def test_loss_landscape_smoke(tmp_path):
    assert loss_landscape.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert set(results) == {"plain-8", "plain-14", "ResNet-8", "ResNet-14"}
    settings = loss_landscape.SETTINGS["smoke"]
    steps_per_epoch = -(-settings["train"] // settings["batch"])
    for entry in (runs[0] for runs in results.values()):
        assert entry["steps"][-1] <= settings["epochs"] * steps_per_epoch
        assert all(step % settings["every"] == 0 for step in entry["steps"])
        assert all(0.0 <= error <= 1.0 for error in entry["train_error"])
    assert results["plain-14"][0]["params"] == results["ResNet-14"][0]["params"]
    data = np.load(tmp_path / "surfaces.npz")
    for name in ("plain-14", "ResNet-14"):
        loss = data[f"{name}_loss"]
        assert loss.shape == (3, 3) and np.ptp(loss) > 0
        # The trained weights sit at the centre of the plane: a step of one filter norm in any
        # direction raises the loss.
        assert loss[1, 1] < loss.mean()
        assert results[name][0]["centre_loss"] == pytest.approx(float(loss[1, 1]), rel=1e-6)
    # The measured order is written out for both pairs.
    assert len(re.findall(r"final training error is \*\*(above|below)\*\*", report)) == 1
    assert len(re.findall(r"'s is \*\*(above|below)\*\*", report)) == 1
    for figure in ("training_error.png", "surfaces.png", "interpolation.png"):
        assert (tmp_path / figure).stat().st_size > 5000


def test_seconds_per_step_and_the_estimate_line():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    x = np.zeros((5, 4), "float32")
    seconds = fs.seconds_per_step(model, x, np.arange(5) % 3, batch_size=8, steps=3)
    assert 0.0 < seconds < 5.0
    assert model.optimizer.momentum == 0.9  # the recipe's optimizer was used
    line = fs.estimate_line("study (full)", 5400, ["a 10 s/epoch", "b 20 s/epoch"])
    assert line.startswith("study (full): estimated 90 min (a 10 s/epoch; b 20 s/epoch)")
    assert "load average" in line
    assert fs.format_minutes(45) == "45 s"


# --- the pieces the reports are computed from --------------------------------------------


def test_steps_to_reach_is_the_first_step_at_or_above_the_target():
    steps, accuracies = [10, 20, 30, 40], [0.5, 0.849, 0.85, 0.9]
    assert batchnorm_study.steps_to_reach(steps, accuracies) == 30
    assert batchnorm_study.steps_to_reach(steps, accuracies, target=0.95) is None


def test_accuracy_function_matches_numpy():
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(4, "softmax")]
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 6, 6, 1)).astype("float32")
    predicted = model.predict(x, verbose=0).argmax(-1)
    assert len(set(predicted)) > 1  # the reference is not constant
    y = np.where(np.arange(23) % 3 == 0, predicted, (predicted + 1) % 4).astype("int32")
    accuracy = batchnorm_study.accuracy_function(model, batch_size=5)  # 5 batches, the last of 3
    assert float(accuracy(x, y)) == pytest.approx(np.mean(predicted == y), abs=1e-12)
    assert float(accuracy(x, y)) == pytest.approx(8 / 23, abs=1e-12)


def test_training_error_windows_from_running_epoch_accuracy():
    # 10 images, batch 4 (the last batch holds 2), windows of 2 steps across epochs.
    callback = loss_landscape._training_error_callback(every=2, batch_size=4, train_size=10)
    correct_per_batch = [[4, 1, 2], [3, 3, 0]]  # two epochs
    for epoch, batches in enumerate(correct_per_batch):
        callback.on_epoch_begin(epoch)
        correct = seen = 0
        for index, hits in enumerate(batches):
            correct += hits
            seen += min(4, 10 - 4 * index)
            callback.on_train_batch_end(index, {"accuracy": correct / seen})
    # Windows: steps 1-2 (5/8 right), 3-4 (2 of 2 + 3 of 4 = 5/6), 5-6 (3 + 0 of 6).
    assert callback.steps == [2, 4, 6]
    np.testing.assert_allclose(callback.errors, [1 - 5 / 8, 1 - 5 / 6, 1 - 3 / 6], atol=1e-12)


def test_sharpness_is_ring_mean_minus_centre():
    loss = np.arange(9, dtype="float64").reshape(3, 3)
    assert loss_landscape.sharpness({"loss": loss}) == pytest.approx(
        np.mean([0, 1, 2, 3, 5, 6, 7, 8]) - 4
    )


def test_mean_std_and_plus_minus():
    assert fs.mean_std([0.9, 0.92]) == pytest.approx((0.91, np.std([0.9, 0.92], ddof=1)))
    assert fs.pm([0.9, 0.92], 100, 1, "%") == "91.0 ± 1.4%"
    assert fs.pm([0.9123], 100, 2, "%") == "91.23%"
    assert fs.spread_sentence("Errors", [0]) == (
        "Errors are from one run (seed 0): no spread measured."
    )
    assert fs.spread_sentence("Errors", [0, 1]).endswith("over seeds 0, 1.")
    # Rows with the same seeds read as one list.
    assert fs.spread_sentence("Errors", {"a": [0, 1], "b": [0, 1]}).endswith("over seeds 0, 1.")


@pytest.mark.parametrize(
    "app, argv, message",
    [
        (recipe_study, ["--models", "lenet5,vgg99"], "--models takes"),
        (recipe_study, ["--epochs", "0"], "--epochs must be >= 1"),
        (recipe_study, ["--fill", "black"], "invalid choice: 'black'"),
        (batchnorm_study, ["--seeds", "0,x"], "--seeds must be distinct"),
        (allconv_study, ["--seeds", "1,1"], "--seeds must be distinct"),
        (allconv_study, ["--models", "all_cnn_c,all_cnn_c"], "--models takes distinct"),
        (allconv_study, ["--models", "all_cnn_d"], "--models takes distinct"),
        (loss_landscape, ["--width", "0"], "--width must be >= 1"),
        (loss_landscape, ["--full", "--smoke"], "not allowed with"),
        (recipe_study, ["--merge", "a", "--estimate"], "--estimate and --merge exclude"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(app, argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        app.main(argv + ["--out", "unused"])
    assert raised.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert message in error[-1]
