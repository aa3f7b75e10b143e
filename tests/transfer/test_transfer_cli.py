"""``kerasconv transfer ...`` end to end on a saved model, and its one-line errors."""

import json

import pytest

from kerasconv.cli import main


@pytest.fixture(scope="module")
def saved_source(source_lenet, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "lenet_digits04.keras"
    source_lenet.save(path)
    return str(path)


def test_probe_and_fewshot_write_tables(saved_source, tmp_path, capsys):
    out = tmp_path / "probe"
    code = main(
        [
            "transfer",
            "probe",
            "--model",
            saved_source,
            "--classes",
            "5-9",
            "--layers",
            "input,s4",
            "--methods",
            "svm",
            "--repeats",
            "2",
            "--train-size",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| SVM (s4) | 400 |" in printed
    results = json.loads((out / "results.json").read_text())
    # Measured 0.763-0.906 (sd 0.047) over fixture seeds 0-4, oneDNN on and off: 0.6 is the
    # minimum less 3.5 sd.
    assert 0.6 < results["accuracy (%)"]["svm(s4)"]["mean"] <= 1.0
    assert (out / "probes.png").stat().st_size > 1000
    code = main(
        [
            "transfer",
            "fewshot",
            "--model",
            saved_source,
            "--classes",
            "5-9",
            "--layers",
            "s4",
            "--shots",
            "1,5",
            "--episodes",
            "3",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| s4 |" in printed and "chance: 20.0%" in printed


def test_finetune_ablate_and_invariance(saved_source, tmp_path, capsys):
    out = tmp_path / "finetune"
    code = main(
        [
            "transfer",
            "finetune",
            "--model",
            saved_source,
            "--classes",
            "5-9",
            "--per-class",
            "3",
            "--epochs",
            "2",
            "--at",
            "s4",
            "--no-scratch",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "| fine-tuned |" in capsys.readouterr().out
    import keras

    tuned = keras.saving.load_model(out / "finetuned.keras", compile=False)
    assert tuned.output.shape == (None, 5)
    code = main(
        [
            "transfer",
            "ablate",
            "--model",
            "lenet5",
            "--remove",
            "f6;c5,f6",
            "--epochs",
            "1",
            "--per-class",
            "5",
            "--classes",
            "0-4",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    # 5 classes: C1 156 + C3 2,416 + C5 48,120 + F6 10,164 + output 425 = 61,281; without F6 the
    # output reads C5's 120 units (605 weights): 51,297, so 9,984 fewer.
    assert "| full model | — | 5 | 61,281 |" in printed
    assert "| f6 | f6 | 4 | 51,297 | 9,984 |" in printed
    out = tmp_path / "invariance"
    code = main(
        [
            "transfer",
            "invariance",
            "--model",
            saved_source,
            "--classes",
            "0-4",
            "--images",
            "2",
            "--transform",
            "rotation",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "### rotation" in capsys.readouterr().out
    assert (out / "invariance.png").exists()


def test_errors_are_one_line_with_exit_code_2(saved_source, capsys):
    assert main(["transfer", "probe", "--model", "no_such.keras"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["transfer", "probe", "--model", saved_source, "--layers", "c9"]) == 2
    assert "no layer 'c9'" in capsys.readouterr().err
    assert main(["transfer", "fewshot", "--model", saved_source, "--classes", "9-5"]) == 2
    assert "class range" in capsys.readouterr().err
