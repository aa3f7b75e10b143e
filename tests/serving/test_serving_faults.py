"""Fault injection: rollbacks past a corrupt version, non-atomic copies, missing base paths.

Everything runs on 127.0.0.1 with short poll periods and retry intervals, bounded by timeouts.
"""

import json
import shutil
import threading
import time
import urllib.error
import urllib.request

import numpy as np

from kerasconv.serving import Client, ModelRegistry, ModelServer, load_config_file

MODEL = "lenet5_digits"


def copy_version(base, source, target):
    """Copy version ``source`` to ``target`` atomically (staged, then renamed, like export_model)."""
    staging = base / f".tmp-copy-{target}"
    shutil.copytree(base / str(source), staging)
    staging.rename(base / str(target))


def wait_for(predicate, seconds=30.0):
    """Poll ``predicate`` every 50 ms until it is true (returns True) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _states(client):
    return {s["version"]: s["state"] for s in client.status()["model_version_status"]}


def _corrupt(base, version):
    (base / str(version)).mkdir()
    (base / str(version) / "saved_model.pb").write_bytes(b"not a SavedModel")


def test_rollback_past_a_corrupt_version_keeps_serving(served_base, tmp_path, digits_test):
    # Versions 1 (good), 2 (corrupt), 3 (serving). Deleting 3 must not leave the model dark:
    # 3 serves while 2 is retried, then the policy falls back to 1, and only then 3 goes.
    base = tmp_path / MODEL
    base.mkdir()
    shutil.copytree(served_base / "1", base / "1")
    _corrupt(base, 2)
    copy_version(base, 1, 3)
    body = json.dumps({"instances": digits_test[0][:1].tolist()}).encode()
    with ModelServer.for_model(
        MODEL,
        base,
        poll_seconds=0.05,
        rest_api_port=0,
        grpc_port=None,
        max_num_load_retries=2,
        load_retry_interval_micros=150_000,
    ) as server:
        client = Client(server.rest_url, MODEL)
        assert client.metadata()["model_spec"]["version"] == "3"
        outcomes, versions, stop = [], [], threading.Event()

        def hammer():
            request = urllib.request.Request(f"{server.rest_url}/v1/models/{MODEL}:predict", body)
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        outcomes.append(response.status)
                except urllib.error.HTTPError as error:
                    outcomes.append(error.code)
                versions.append(client.metadata()["model_spec"]["version"])

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            time.sleep(0.2)
            shutil.rmtree(base / "3")
            # Version 2 is tried 3 times (2 retries, 150 ms apart) before version 1 is loaded.
            assert wait_for(lambda: _states(client).get("1") == "AVAILABLE", 60)
            assert wait_for(lambda: _states(client).get("3") == "END", 30)
            time.sleep(0.2)
        finally:
            stop.set()
            thread.join(60)
        assert len(outcomes) >= 10
        assert set(outcomes) == {200}, [code for code in outcomes if code != 200][:5]
        # Served 3 until 1 was ready, then 1; never nothing.
        assert versions[0] == "3" and versions[-1] == "1" and set(versions) == {"1", "3"}
        status = {s["version"]: s for s in client.status()["model_version_status"]}
        assert status["2"]["state"] == "END" and status["2"]["status"]["error_code"] == "UNKNOWN"
        assert status["2"]["status"]["error_message"]


def test_last_version_stays_loaded_when_every_folder_is_gone(served_base, tmp_path, digits_test):
    base = tmp_path / MODEL
    base.mkdir()
    shutil.copytree(served_base / "1", base / "1")
    registry = ModelRegistry.for_model(MODEL, base, poll_seconds=0, max_num_load_retries=0)
    registry.start()
    shutil.rmtree(base / "1")
    registry.poll()
    # Nothing else is wanted, so nothing can be ready: the loaded version keeps serving.
    assert registry.get(MODEL).version == 1
    assert registry.status(MODEL)[0][:2] == (1, "AVAILABLE")
    probabilities = registry.get(MODEL).predict("", {"images": digits_test[0][:2]})
    assert probabilities["probabilities"].shape == (2, 10)


def _copy_without_variables(source, target):
    target.mkdir()
    for item in source.iterdir():
        if item.name == "variables":
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        else:
            shutil.copy2(item, target / item.name)


def test_non_atomic_copy_is_served_once_complete(served_base, tmp_path, digits_test):
    base = tmp_path / MODEL
    base.mkdir()
    shutil.copytree(served_base / "1", base / "1")
    with ModelServer.for_model(
        MODEL,
        base,
        poll_seconds=0.05,
        rest_api_port=0,
        grpc_port=None,
        max_num_load_retries=1000,
        load_retry_interval_micros=100_000,
    ) as server:
        client = Client(server.rest_url, MODEL)
        # saved_model.pb first, variables/ later: the first loads fail and are retried.
        _copy_without_variables(served_base / "1", base / "2")

        def retrying():
            entries = client.status()["model_version_status"]
            return any(
                s["version"] == "2" and "retrying" in s["status"]["error_message"] for s in entries
            )

        assert wait_for(retrying, 30)
        assert client.metadata()["model_spec"]["version"] == "1"  # 1 serves meanwhile
        shutil.copytree(served_base / "1" / "variables", base / "2" / "variables")
        assert wait_for(lambda: client.metadata()["model_spec"]["version"] == "2", 30)
        assert client.predict(digits_test[0][:2]).shape == (2, 10)


def test_version_that_used_up_its_retries_loads_when_its_folder_changes(served_base, tmp_path):
    base = tmp_path / MODEL
    base.mkdir()
    shutil.copytree(served_base / "1", base / "1")
    _copy_without_variables(served_base / "1", base / "2")
    registry = ModelRegistry.for_model(MODEL, base, poll_seconds=0, max_num_load_retries=0)
    registry.start()
    state = {v: (s, code) for v, s, code, _ in registry.status(MODEL)}
    assert state[2] == ("END", "UNKNOWN") and state[1] == ("AVAILABLE", "OK")
    registry.poll()  # no retries left and nothing changed: not tried again
    assert registry.get(MODEL).version == 1
    shutil.copytree(served_base / "1" / "variables", base / "2" / "variables")
    registry.poll()
    assert registry.get(MODEL).version == 2
    assert {v: s for v, s, _, _ in registry.status(MODEL)} == {1: "END", 2: "AVAILABLE"}


def test_missing_base_path_is_reported_and_polled(served_base, tmp_path):
    base = tmp_path / "later" / MODEL
    registry = ModelRegistry.for_model(MODEL, base, poll_seconds=0.05)
    try:
        registry.start()
        assert "does not exist" in registry.problems()[MODEL]
        assert str(base) in registry.problems()[MODEL]
        base.parent.mkdir()
        shutil.copytree(served_base, base)  # appears later: picked up by polling
        assert wait_for(lambda: not registry.problems(), 30)
        assert wait_for(lambda: MODEL in registry.model_names and _loaded(registry), 30)
    finally:
        registry.stop()


def _loaded(registry):
    try:
        return registry.get(MODEL).version == 1
    except Exception:  # noqa: BLE001 - not loaded yet
        return False


def test_model_config_file_is_polled_for_changes(tmp_path, served_base):
    config = tmp_path / "models.config"
    entry = 'config {{ name: "{}" base_path: "{}" }}'
    config.write_text(f"model_config_list {{ {entry.format('a', served_base)} }}")
    registry = ModelRegistry(load_config_file(config), poll_seconds=0)
    registry.start()
    try:
        registry.watch_config_file(config, 0.05)
        assert registry.model_names == ["a"]
        time.sleep(0.1)
        both = entry.format("a", served_base) + " " + entry.format("b", served_base)
        config.write_text(f"model_config_list {{ {both} }}")
        assert wait_for(lambda: registry.model_names == ["a", "b"], 30)
        assert wait_for(lambda: _version_of(registry, "b") == 1, 30)
        config.write_text("model_config_list { not valid")  # logged, the config in force stays
        time.sleep(0.3)
        assert registry.model_names == ["a", "b"]
    finally:
        registry.stop()


def _version_of(registry, name):
    try:
        return registry.get(name).version
    except Exception:  # noqa: BLE001 - not loaded yet
        return None


def test_registry_retry_arguments_are_checked(served_base):
    import pytest

    with pytest.raises(ValueError, match="max_num_load_retries"):
        ModelRegistry.for_model(MODEL, served_base, max_num_load_retries=-1)
    with pytest.raises(TypeError, match="load_retry_interval_micros"):
        ModelRegistry.for_model(MODEL, served_base, load_retry_interval_micros="60s")
    assert np.isfinite(ModelRegistry.for_model(MODEL, served_base).load_retry_interval)
