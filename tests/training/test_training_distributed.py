"""Distributed training: MirroredStrategy on two logical CPUs and two real worker processes.

Each case runs in fresh processes, because logical devices and TF_CONFIG must be set before
TensorFlow starts.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")


def _env(**extra):
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def _weights(path):
    data = np.load(path)
    arrays = [data[f"arr_{i}"] for i in range(len([k for k in data.files if k.startswith("arr_")]))]
    return arrays, data["loss"], int(data["replicas"])


def _free_ports(n):
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def test_mirrored_strategy_on_two_devices_matches_one_device(tmp_path):
    single = tmp_path / "single.npz"
    mirrored = tmp_path / "mirrored.npz"
    for mode, out in (("single", single), ("mirrored", mirrored)):
        result = subprocess.run(
            [sys.executable, WORKER, mode, str(out)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    w1, loss1, replicas1 = _weights(single)
    w2, loss2, replicas2 = _weights(mirrored)
    assert (replicas1, replicas2) == (1, 2)
    # Same global batch, gradients all-reduced: the two runs compute the same updates.
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, atol=2e-5)
    np.testing.assert_allclose(loss1, loss2, rtol=1e-4)
    assert loss1[1] < loss1[0]


def test_two_worker_processes_finish_with_identical_weights(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    checkpoint_dir = tmp_path / "checkpoints"
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    WORKER,
                    "multiworker",
                    str(tmp_path / f"w{index}.npz"),
                    str(checkpoint_dir),
                ],
                env=_env(TF_CONFIG=json.dumps(tf_config)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        try:
            _, err = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err[-3000:]
    w0, loss0, replicas0 = _weights(tmp_path / "w0.npz")
    w1, loss1, _ = _weights(tmp_path / "w1.npz")
    assert replicas0 == 2
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loss0, loss1)
    # Only the chief (worker 0) writes checkpoints to the shared folder.
    assert any(name.startswith("ckpt-2") for name in os.listdir(checkpoint_dir))
