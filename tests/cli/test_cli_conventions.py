"""CLI conventions: help and defaults for every option, quiet TensorFlow start-up, clear errors for
impossible requests, printed output paths, progress for long jobs, a TensorFlow-free model list."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kerasconv.cli import build_parser, filter_tensorflow_log, main

ROOT = Path(__file__).resolve().parents[2]

# Sub-commands whose files other areas own. Every option now has help; an omission fails.
OTHERS_MISSING_HELP = set()
OTHERS = {"attack", "demo", "serve", "export", "app"}


def _options(parser, path=()):
    """``(command path, action, parser)`` for every option and positional of every sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, path + (name,))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield path, action, parser


def _help_entry(help_text, action):
    """The lines of ``--help`` that describe ``action``."""
    lines = help_text.splitlines()
    name = action.option_strings[0] if action.option_strings else action.metavar or action.dest
    body = lines.index("options:") if "options:" in lines else 0  # after the usage lines
    pattern = re.compile(r"^  " + re.escape(name) + r"( |,|$)")
    starts = [i for i, line in enumerate(lines) if i > body and pattern.match(line)]
    if not starts and not action.option_strings:  # positionals come before "options:"
        starts = [i for i, line in enumerate(lines) if pattern.match(line)]
    assert starts, f"{name} is not in the help text"
    entry = [lines[starts[0]]]
    for line in lines[starts[0] + 1 :]:
        if not line.startswith(" " * 6) or line.strip().startswith("-"):
            break
        entry.append(line)
    return " ".join(" ".join(entry).split())


def test_every_option_has_help_and_its_default_is_shown():
    options = list(_options(build_parser()))
    assert len(options) > 150  # every sub-command was found
    missing = {
        (path[0], action.option_strings[0] if action.option_strings else action.dest)
        for path, action, _ in options
        if not (action.help and action.help.strip())
    }
    ours = {item for item in missing if item[0] not in OTHERS}
    assert not ours, f"options without help: {sorted(ours)}"
    assert missing <= OTHERS_MISSING_HELP, sorted(missing - OTHERS_MISSING_HELP)

    shown = 0
    for path, action, parser in options:
        default = action.default
        if not action.help or any(default is v for v in (None, False, argparse.SUPPRESS)):
            continue
        if action.required:
            continue
        entry = _help_entry(parser.format_help(), action)
        assert "default" in entry.lower(), f"{' '.join(path)} {action.option_strings}: {entry}"
        if "(default: " in entry and "%(default)" not in action.help:
            # Added by the formatter: the shown value must be the real one.
            value = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            assert f"(default: {value})" in entry, entry
        shown += 1
    assert shown >= 90  # about a hundred options have a default worth showing


def test_the_formatter_shows_zero_but_not_unset_flags():
    parser = argparse.ArgumentParser(formatter_class=type(build_parser()._get_formatter()))
    parser.add_argument("--seed", type=int, default=0, help="seed")
    parser.add_argument("--flag", action="store_true", help="a switch")
    parser.add_argument("--dir", default=None, help="a folder")
    parser.add_argument("--rate", type=float, default=0.5, help="rate (default: half)")
    text = " ".join(parser.format_help().split())
    assert "seed (default: 0)" in text
    assert "a switch --dir" in text and "a folder --rate" in text  # nothing added to those
    assert "rate (default: half)" in text and "(default: 0.5)" not in text


def test_models_list_needs_no_tensorflow():
    code = (
        "import sys\n"
        "from kerasconv.cli import main\n"
        "code = main(['models', 'list', 'vgg1*'])\n"
        "print('loaded:', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "loaded: []"
    assert lines[:-1] == [
        "vgg11  (= vgg_a)",
        "vgg11_bn  (= vgg_a_bn)",
        "vgg13  (= vgg_b)",
        "vgg13_bn  (= vgg_b_bn)",
        "vgg16  (= vgg_d)",
        "vgg16_bn  (= vgg_d_bn)",
        "vgg19  (= vgg_e)",
        "vgg19_bn  (= vgg_e_bn)",
    ]
    assert result.stderr == ""


def test_the_cli_name_table_is_the_registry():
    from kerasconv.cli import _model_names
    from kerasconv.models import list_models

    live = _model_names.registry_names()
    assert live == _model_names.NAMES, (
        "kerasconv/cli/_model_names.py is out of date: run `python -m kerasconv.cli._model_names`"
    )
    assert len(live) >= 50
    for pattern in (None, "resnet*", "*autoencoder*"):
        for aliases in (True, False):
            assert _model_names.list_names(pattern, aliases) == list_models(pattern, aliases)


TF_START = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796053598.746748    7888 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796053598.748927    7888 cudart_stub.cc:31] Could not find cuda drivers.\n"
    "I0000 00:00:1796053598.9    7888 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
    "W0000 00:00:1796053599.1    7888 some.cc:1] a warning\n"
    "2025-09-17 14:44:05.176998: E external/cuda_fft.cc:467] Unable to register cuFFT factory\n"
    "E0000 00:00:1796054665.216965   27783 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n"
    "/usr/lib/python3/foo.py:3: UserWarning: something Python said\n"
)


def test_tensorflow_log_filter_keeps_what_the_level_lets_through():
    assert filter_tensorflow_log(TF_START, 0) == TF_START
    assert filter_tensorflow_log(TF_START, 1).splitlines() == [
        "W0000 00:00:1796053599.1    7888 some.cc:1] a warning",
        "2025-09-17 14:44:05.176998: E external/cuda_fft.cc:467] Unable to register cuFFT factory",
        "E0000 00:00:1796054665.216965   27783 cuda_platform.cc:52] failed call to cuInit: INTERNAL",
        "/usr/lib/python3/foo.py:3: UserWarning: something Python said",
    ]
    # Level 2 (errors): no GPU driver is expected, not an error; the Python warning is kept.
    assert filter_tensorflow_log(TF_START, 2).splitlines() == [
        "2025-09-17 14:44:05.176998: E external/cuda_fft.cc:467] Unable to register cuFFT factory",
        "/usr/lib/python3/foo.py:3: UserWarning: something Python said",
    ]
    assert len(filter_tensorflow_log(TF_START, 3).splitlines()) == 1


def test_an_error_is_one_line_without_tensorflow_start_up_logs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kerasconv",
            "predict",
            "--model",
            "no.keras",
            "--image",
            "digits:0",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "kerasconv predict: error: model file 'no.keras' does not exist"
    ]


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def test_predict_refuses_a_non_positive_top(capsys):
    assert _exit_code(["predict", "--model", "m.keras", "--image", "digits:0", "--top", "-3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "kerasconv predict: error: --top must be a positive number of classes; got -3"


@pytest.fixture(scope="module")
def two_class_lenet(tmp_path_factory):
    import keras

    import kerasconv

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("models") / "two_classes.keras"
    kerasconv.models.LeNet5(classes=2).save(path)
    return str(path)


def test_evaluate_refuses_a_dataset_with_other_classes(two_class_lenet, capsys):
    assert _exit_code(["evaluate", "--model", two_class_lenet, "--data", "digits"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "predicts 2 classes but 'digits' has 10" in err[0]


def test_synthesize_maximize_prints_the_png_path(two_class_lenet, tmp_path, capsys):
    out = tmp_path / "maximize"
    argv = ["synthesize", "maximize", "--model", two_class_lenet, "--targets", "1"]
    assert main(argv + ["--steps", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == f"wrote {out / 'maximize.png'}"
    assert (out / "maximize.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_transfer_ablate_shows_progress_on_stderr(capsys):
    argv = ["transfer", "ablate", "--model", "lenet5", "--remove", "f6", "--epochs", "2"]
    assert main(argv + ["--per-class", "3", "--classes", "0-1"]) == 0
    captured = capsys.readouterr()
    # Two trainings (full model, without f6) of two epochs each: a bar that counts to 4.
    counts = [int(n) for n in re.findall(r"(\d+)/4", captured.err)]
    assert counts and counts[-1] == 4 and counts == sorted(counts)
    assert "loss" in captured.err
    assert "| f6 | f6 |" in captured.out and "/4" not in captured.out
    accuracies = re.findall(r"\| (\d+\.\d) \|", captured.out)
    assert len(accuracies) == 2 and all(0 <= float(a) <= 100 for a in accuracies)
