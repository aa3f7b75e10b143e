"""``.ci/run``: ``make test``, then the suite again with oneDNN off; each run's pytest summary is
printed, and a run that collected no tests (pytest exit status 5) or printed no summary fails."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "run"


def _check_run(command):
    """Runs ``check_run`` from .ci/run on a fake test command; returns (exit status, output)."""
    result = subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}"; check_run "fake" bash -c \'{command}\''],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("command", "ok", "message"),
    [
        ('echo "12 passed, 1 skipped in 3.2s"', True, "pytest summary: 12 passed, 1 skipped"),
        ('echo "======= 7 passed in 0.5s ======="', True, "pytest summary: ======= 7 passed"),
        ('echo "no tests ran in 0.01s"; exit 5', False, "no tests were collected"),
        # make reports its own status (2) when pytest collected nothing
        ('echo "no tests ran in 0.01s"; exit 2', False, "no tests were collected"),
        ('echo "1 failed, 3 passed in 2.0s"; exit 1', False, "the test suite failed"),
        ("echo all good", False, "no 'N passed' summary line"),
        ('echo "3 deselected in 0.1s"', False, "no 'N passed' summary line"),
    ],
)
def test_check_run_judges_the_pytest_run(command, ok, message):
    status, out, err = _check_run(command)
    assert (status == 0) is ok, (out, err)
    assert message in out + err
    assert "=== fake: exit status" in out  # the summary line is always printed


def _executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_ci_runs_make_test_then_the_suite_with_onednn_off(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / ".ci" / "run")
    calls = tmp_path / "calls.txt"
    record = f'echo "$0 $* ONEDNN=${{TF_ENABLE_ONEDNN_OPTS:-unset}}" >> "{calls}"\n'
    _executable(tmp_path / "bin" / "make", "#!/bin/bash\n" + record + 'echo "5 passed in 1s"\n')
    _executable(repo / ".venv" / "bin" / "python", "#!/bin/bash\n" + record + 'echo "5 passed"\n')
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    result = subprocess.run(
        [str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("make test ONEDNN=unset")
    assert lines[1].endswith("python -m pytest -q -rfE --durations=15 ONEDNN=0")
    assert result.stdout.count("pytest summary: 5 passed") == 2

    # A second run that collects nothing fails CI even though make test passed.
    _executable(repo / ".venv" / "bin" / "python", "#!/bin/bash\necho 'no tests ran'\nexit 5\n")
    result = subprocess.run(
        [str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    assert "no tests were collected (suite with TF_ENABLE_ONEDNN_OPTS=0)" in result.stderr
