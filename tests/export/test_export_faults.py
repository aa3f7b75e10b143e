"""Fault injection for exports: a killed export's staging folder, overwrites, damaged .keras files."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

from kerasconv.export import export_model, list_versions, remove_stale_staging


def _killed_export(base):
    """A real process that makes its staging folder (export_model's naming) and is SIGKILLed."""
    code = (
        "import os, re, socket, sys\n"
        "host = re.sub(r'[^A-Za-z0-9_.]', '_', socket.gethostname())[:40]\n"
        "staging = os.path.join(sys.argv[1], f'.tmp-2-{host}-{os.getpid()}-abc')\n"
        "os.makedirs(os.path.join(staging, 'model', 'variables'))\n"
        "open(os.path.join(staging, 'model', 'saved_model.pb'), 'wb').write(b'half')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(base)], timeout=60)
    assert result.returncode == -signal.SIGKILL
    (left,) = [p for p in base.iterdir() if p.name.startswith(".tmp-2-")]
    return left


def test_killed_export_staging_is_removed_and_overwrite_warns(exported_lenet, trained_lenet,
                                                               tmp_path):  # fmt: skip
    base_src, _, names = exported_lenet
    base = tmp_path / "lenet"
    shutil.copytree(base_src, base)
    stale = _killed_export(base)
    # A staging folder of a live export (this process) must survive the clean-up.
    live = base / f".tmp-3-x-{os.getpid()}-live"
    live.mkdir()
    assert list_versions(base) == [1]  # hidden folders are no versions
    with pytest.warns(UserWarning, match="keeps serving the old model"):
        path = export_model(trained_lenet, base, version=1, overwrite=True, class_names=names)
    assert not stale.exists() and live.exists()
    assert sorted(os.listdir(path)) == ["assets", "fingerprint.pb", "saved_model.pb", "variables"]
    assert [p.name for p in base.iterdir() if p.name.startswith(".tmp-")] == [live.name]
    assert remove_stale_staging(base, max_age_seconds=0) == [str(live)]  # too old: removed


def test_corrupt_or_truncated_keras_file_is_reported_as_corrupt(trained_lenet, tmp_path, capsys):
    from kerasconv.cli import main

    good = tmp_path / "lenet.keras"
    trained_lenet.save(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"\x00not a zip" * 50)
    for path in (truncated, garbage):
        code = main(["export", "--model", str(path), "--base_path", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1
        assert "is corrupt or truncated" in err[0] and "File not found" not in err[0]
    assert main(["export", "--model", str(tmp_path / "missing.keras"), "--base_path", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
