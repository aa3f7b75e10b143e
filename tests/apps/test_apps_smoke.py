"""Every example app runs at its smallest setting in the test suite, once.

Most apps are smoke-tested beside their area's tests, where the checks know what the app measures
(``COVERED_BY``); the rest run here: ``main(["--smoke", "--out", tmp])`` must write a ``report.md``
with numbers in it and every figure it links to. The web demo (a server) has its own tests. Every
file in ``apps/`` must be covered one way or the other."""

import importlib
import re

import pytest
from apps_test_helpers import ROOT

APPS = ["gpu_check"]

COVERED_BY = {
    "autoencoders": "tests/autoencoders/test_autoencoders_app.py",
    "transfer_study": "tests/transfer/test_transfer_app.py",
    "visualize_gallery": "tests/visualize/test_visualize_cli_app.py",
    "allconv_study": "tests/apps/test_apps_studies_a.py",
    "batchnorm_study": "tests/apps/test_apps_studies_a.py",
    "loss_landscape": "tests/apps/test_apps_studies_a.py",
    "recipe_study": "tests/apps/test_apps_studies_a.py",
    "robustness": "tests/attacks/test_attacks_cli_app.py",
    "transferability_study": "tests/apps/test_apps_studies_b.py",
}

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?%?")
FIGURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def test_every_app_is_smoke_tested_somewhere():
    modules = {path.stem for path in (ROOT / "apps").glob("*.py") if not path.name.startswith("_")}
    assert modules == set(APPS) | set(COVERED_BY), "apps/*.py and the smoke lists differ"
    for name, test_file in COVERED_BY.items():
        text = (ROOT / test_file).read_text(encoding="utf-8")
        assert name in text and "--smoke" in text, f"{test_file} does not smoke-test {name}"


@pytest.mark.parametrize("name", APPS)
def test_app_smoke_run_writes_a_report(name, tmp_path):
    try:
        app = importlib.import_module(f"apps.{name}")
    except ModuleNotFoundError as error:
        pytest.fail(f"the app apps/{name}.py is missing: {error}")
    assert callable(getattr(app, "main", None)), f"apps.{name} has no main(argv)"
    out = tmp_path / name
    code = app.main(["--smoke", "--out", str(out)])
    # Some apps return their numbers; an integer is an exit status.
    if isinstance(code, int) and not isinstance(code, bool):
        assert code == 0, f"apps.{name}.main returned exit status {code}"
    report = out / "report.md"
    assert report.is_file(), f"apps.{name} wrote no report.md in {out}"
    text = report.read_text(encoding="utf-8")
    assert text.lstrip().startswith("#"), "a report starts with a markdown title"
    numbers = [value for value in NUMBER.findall(text) if value not in ("0", "1")]
    assert len(numbers) >= 3, f"report.md of apps.{name} mentions too few numbers:\n{text[:500]}"
    for figure in FIGURE.findall(text):
        if "://" in figure:
            continue
        path = (out / figure).resolve()
        assert path.is_file() and path.stat().st_size > 0, f"{name}: missing figure {figure}"
