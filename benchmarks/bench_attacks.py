"""Attack benchmark: kerasconv against CleverHans 4.0.0 (TF2) and ART, side by side, in one process.

Rows (untrained, seeded weights; random inputs in [0, 1]):

* FGSM L∞, LeNet-5 (tanh), batch 32 and a 6-conv CIFAR-size net, batch 128, ``y=None``;
* PGD-40 L∞, LeNet-5, batch 32: CleverHans eager, CleverHans's own loop wrapped in one
  ``tf.function``, and ART's ``ProjectedGradientDescent`` (TensorFlow v2 estimator);
* PGD-10 L∞, the 6-conv net, batch 128: the same three peers.

The PGD rows run without a random start on both sides (CleverHans's TF2 default) and with the
model's own predictions as labels (``y=None``), so that results are comparable: next to each ratio
the table gives the largest L∞ difference between kerasconv's and the peer's adversarial images
and the share of pixels that differ by more than 1e-6.

Timing: the contenders of a row are timed interleaved (one call of each in turn, ``ROUNDS``
times, after two warm-up calls each), and the minimum is kept, so that a busy machine slows
every contender alike; ratios are peer time / kerasconv time (> 1: kerasconv is faster).

Memory: each (attack, image count) runs in a fresh subprocess; after a warm-up call on 16 images
the process's peak resident memory (``VmHWM``) is reset to its current RSS (``/proc/self/clear_refs``),
and the row reports the peak during the call minus the RSS before it, next to the size of the
returned arrays, for 512 and 4,096 images (``batch_size`` left at its default). (The peak RSS
since the process started, ``ru_maxrss``, is dominated by importing TensorFlow and tracing, and
showed no growth at all.)

Every speed row is timed in ``PROCESSES`` fresh processes, one after the other, and reported as
the median with the range of its ratio (ratios vary more between processes than within one).

``run(quick=False)`` returns ``{"title", "rows", "markdown", "notes"}``; ``python -m
benchmarks.bench_attacks [--quick] [--speed-only | --memory-only]`` prints the tables. CleverHans and ART are the ``bench`` extra
(``pip install -e .[bench]``); without them the peer rows say so and only kerasconv is timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

ROUNDS = 7
# Fresh processes per speed row: the ratios vary more between processes than within one (by up
# to ~15%; oneDNN's layout pass, for one, decides per process, see docs/attacks.md), so one
# process's ratio is not the machine's.
PROCESSES = 3
MARKER = "SPEED_ROWS "
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _peers():
    found = {}
    try:
        from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method
        from cleverhans.tf2.attacks.projected_gradient_descent import projected_gradient_descent

        found["cleverhans"] = (fast_gradient_method, projected_gradient_descent)
    except ImportError:
        pass
    try:
        from art.attacks.evasion import ProjectedGradientDescent
        from art.estimators.classification import TensorFlowV2Classifier

        found["art"] = (ProjectedGradientDescent, TensorFlowV2Classifier)
    except ImportError:
        pass
    return found


def six_conv_net(seed=0):
    """A 6-conv CIFAR-size classifier (32×32×3, logits), seeded."""
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((32, 32, 3))]
    for block, width in enumerate((32, 64, 128)):
        layers.append(keras.layers.Conv2D(width, 3, padding="same", activation="relu"))
        layers.append(keras.layers.Conv2D(width, 3, padding="same", activation="relu"))
        if block < 2:
            layers.append(keras.layers.MaxPooling2D())
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
    return keras.Sequential(layers, name="six_conv")


def _lenet(seed=0):
    import keras

    import kerasconv

    keras.utils.set_random_seed(seed)
    return kerasconv.models.create("lenet5", classifier_activation=None)


def _interleaved(contenders, rounds):
    """Minimum seconds per contender, timed in turn."""
    for fn in contenders.values():
        fn()
        fn()
    best = {name: float("inf") for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


KERNEL_KINDS = {
    "conv forward": lambda op: "Conv2D" in op and "Backprop" not in op,
    "conv backward (input)": lambda op: "Conv2DBackpropInput" in op,
    "conv backward (filter)": lambda op: "Conv2DBackpropFilter" in op,
    "graph function calls": lambda op: op == "PartitionedCallOp",
}


def _kernel_counts(fn):
    """How many conv kernels (forward, backward to the input, backward to the filters) and
    non-inlined graph-function calls one call of ``fn`` runs, read from TensorFlow's profiler
    (op events are named ``name:OpType`` in graphs, ``EagerLocalExecute: OpType`` eagerly).
    None when the profiler's protobuf is not importable."""
    import collections
    import glob
    import shutil
    import tempfile

    import tensorflow as tf

    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError:
        return None
    folder = tempfile.mkdtemp(prefix="kerasconv_profile_")
    try:
        tf.profiler.experimental.start(folder)
        try:
            fn()
        finally:
            tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        for path in glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True):
            with open(path, "rb") as handle:
                space.MergeFromString(handle.read())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ops = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if name.startswith("EagerLocalExecute: "):
                    ops[name[len("EagerLocalExecute: ") :]] += 1
                elif name == "PartitionedCallOp":
                    ops[name] += 1
                elif ":" in name:
                    ops[name.rsplit(":", 1)[1]] += 1
    return {
        kind: sum(count for op, count in ops.items() if test(op))
        for kind, test in KERNEL_KINDS.items()
    }


def _difference(ours, theirs):
    diff = np.abs(np.asarray(ours, "float64") - np.asarray(theirs, "float64"))
    return float(diff.max()), float(np.mean(diff > 1e-6))


def _speed_rows(quick, work=False):
    import tensorflow as tf

    import kerasconv

    attacks = kerasconv.attacks
    peers = _peers()
    rounds = 3 if quick else ROUNDS
    rng = np.random.default_rng(0)
    rows = []
    settings = [
        ("LeNet-5", _lenet(), rng.random((32, 32, 32, 1), dtype=np.float32), 0.1, 0.01, 40),
        (
            "6-conv",
            six_conv_net(),
            rng.random((32 if quick else 128, 32, 32, 3), dtype=np.float32),
            8 / 255,
            2 / 255,
            10,
        ),
    ]
    ch_fgm, ch_pgd = peers.get("cleverhans", (None, None))
    for net, model, x, eps, eps_iter, nb_iter in settings:
        batch = len(x)
        xt = tf.constant(x)

        def ours_fgsm(model=model, x=x, eps=eps):
            return attacks.fast_gradient_method(model, x, eps, clip_min=0, clip_max=1).x_adv

        def ours_pgd(model=model, x=x, eps=eps, eps_iter=eps_iter, nb_iter=nb_iter):
            return attacks.projected_gradient_descent(
                model,
                x,
                eps,
                eps_iter=eps_iter,
                nb_iter=nb_iter,
                clip_min=0,
                clip_max=1,
                rand_init=False,
            ).x_adv

        fgsm = {"kerasconv": ours_fgsm}
        pgd = {"kerasconv": ours_pgd}
        if "cleverhans" in peers:
            fgsm["CleverHans"] = lambda model=model, xt=xt, eps=eps: ch_fgm(
                model, xt, eps, np.inf, clip_min=0.0, clip_max=1.0
            ).numpy()

            def ch_fgsm_predicted(model=model, xt=xt, eps=eps):
                # kerasconv's result also holds the predictions on x_adv (the success mask):
                # the same outputs from CleverHans cost one more forward pass.
                x_adv = ch_fgm(model, xt, eps, np.inf, clip_min=0.0, clip_max=1.0)
                np.argmax(model(x_adv, training=False).numpy(), axis=-1)
                return x_adv.numpy()

            fgsm["CleverHans + predictions on x_adv"] = ch_fgsm_predicted

            def ch_eager(model=model, xt=xt, eps=eps, eps_iter=eps_iter, nb_iter=nb_iter):
                return ch_pgd(
                    model, xt, eps, eps_iter, nb_iter, np.inf, clip_min=0.0, clip_max=1.0
                ).numpy()

            compiled = tf.function(
                lambda x, model=model, eps=eps, eps_iter=eps_iter, nb_iter=nb_iter: ch_pgd(
                    model, x, eps, eps_iter, nb_iter, np.inf, clip_min=0.0, clip_max=1.0
                )
            )
            pgd["CleverHans (eager)"] = ch_eager
            pgd["CleverHans in tf.function"] = lambda xt=xt, f=compiled: f(xt).numpy()
        if "art" in peers:
            art_pgd, art_classifier = peers["art"]
            import keras

            estimator = art_classifier(
                model,
                nb_classes=10,
                input_shape=tuple(x.shape[1:]),
                loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                clip_values=(0.0, 1.0),
            )
            art_attack = art_pgd(
                estimator,
                norm=np.inf,
                eps=eps,
                eps_step=eps_iter,
                max_iter=nb_iter,
                num_random_init=0,
                batch_size=batch,
                verbose=False,
            )
            pgd["ART"] = lambda x=x, a=art_attack: a.generate(x)
        for label, contenders, what in (
            (f"FGSM, {net}, batch {batch}", fgsm, "fgsm"),
            (f"PGD-{nb_iter}, {net}, batch {batch}", pgd, "pgd"),
        ):
            outputs = {name: fn() for name, fn in contenders.items()}
            times = _interleaved(contenders, rounds)
            # After the timing (the profiler slows what it watches): the kernels of one call.
            counted = {name: _kernel_counts(fn) for name, fn in contenders.items()} if work else {}
            ours = times["kerasconv"]
            rows.append(
                {
                    "row": label,
                    "contender": "kerasconv",
                    "ms": 1000 * ours,
                    "ratio": None,
                    "kernels": counted.get("kerasconv"),
                }
            )
            for name in contenders:
                if name == "kerasconv":
                    continue
                largest, share = _difference(outputs["kerasconv"], outputs[name])
                rows.append(
                    {
                        "row": label,
                        "contender": name,
                        "ms": 1000 * times[name],
                        "ratio": times[name] / ours,
                        "max_linf_difference": largest,
                        "share_of_pixels_differing": share,
                        "kernels": counted.get(name),
                    }
                )
            for r in rows[-len(contenders) :]:
                print("  ", json.dumps(r), flush=True)
            missing = [p for p in ("cleverhans", "art") if p not in peers]
            if missing and what == "pgd":
                rows.append({"row": label, "contender": f"{', '.join(missing)}: not installed"})
    return rows


_MEMORY_CHILD = r"""
import json, resource, sys
import numpy as np
import kerasconv
attack, count = sys.argv[1], int(sys.argv[2])
import keras
keras.utils.set_random_seed(0)
model = kerasconv.models.create("lenet5", classifier_activation=None)
rng = np.random.default_rng(0)
def call(x):
    a = kerasconv.attacks
    if attack == "fgsm":
        return a.fast_gradient_method(model, x, [0.05, 0.1, 0.2, 0.3], clip_min=0, clip_max=1)
    if attack == "pgd":
        return a.projected_gradient_descent(model, x, 0.1, eps_iter=0.02, nb_iter=5, clip_min=0,
                                            clip_max=1, seed=0)
    return a.one_pixel_attack(model, x, population=100, max_iter=1)
def status_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)
call(rng.random((16, 32, 32, 1), dtype=np.float32))
x = rng.random((count, 32, 32, 1), dtype=np.float32)
try:
    # Reset the peak (VmHWM) to the current RSS (Linux >= 4.0): the peak of the call itself,
    # not the process's earlier high-water mark (importing TensorFlow, tracing the warm-up).
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status_kb("VmRSS")
    result = call(x)
    after = status_kb("VmHWM")
    how = "VmHWM reset"
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = call(x)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    how = "ru_maxrss"
arrays = sum(v.nbytes for v in vars(result).values() if isinstance(v, np.ndarray))
print(json.dumps({"growth_mb": (after - before) / 1024, "results_mb": arrays / 2**20,
                  "input_mb": x.nbytes / 2**20, "method": how}))
"""


def _speed_rows_in_processes(quick, processes):
    """``_speed_rows`` in ``processes`` fresh processes, one after the other; per (row,
    contender): the median milliseconds, the median ratio and its range, the largest
    difference from kerasconv's images seen in any process."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    runs = []
    for index in range(processes):
        print(f"  speed rows, process {index + 1} of {processes}", flush=True)
        command = [sys.executable, "-m", "benchmarks.bench_attacks", "--speed-json"]
        command += ["--work"] if index == 0 else []  # kernel counts do not vary: once
        done = subprocess.run(
            command + (["--quick"] if quick else []),
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
        if done.returncode or not lines:
            raise RuntimeError(f"attack speed rows failed: {done.stderr[-500:]}")
        runs.append(json.loads(lines[-1][len(MARKER) :]))
    rows = []
    for position, first in enumerate(runs[0]):
        same = [run[position] for run in runs]
        if "ms" not in first:
            rows.append(first)
            continue
        row = dict(first, processes=len(runs), ms=float(np.median([r["ms"] for r in same])))
        if first["ratio"] is not None:
            ratios = [r["ratio"] for r in same]
            row.update(
                ratio=float(np.median(ratios)),
                ratio_min=float(min(ratios)),
                ratio_max=float(max(ratios)),
                max_linf_difference=max(r["max_linf_difference"] for r in same),
                share_of_pixels_differing=max(r["share_of_pixels_differing"] for r in same),
            )
        rows.append(row)
    return rows


def _memory_rows(quick):
    counts = (512, 1024) if quick else (512, 4096)
    rows = []
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for attack, label in (
        ("fgsm", "FGSM, 4 eps"),
        ("pgd", "PGD-5"),
        ("one_pixel", "one-pixel, population 100, 1 generation"),
    ):
        for count in counts:
            done = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, attack, str(count)],
                capture_output=True,
                text=True,
                env=env,
                timeout=900,
            )
            if done.returncode:
                rows.append({"attack": label, "images": count, "error": done.stderr[-300:]})
                continue
            rows.append(
                {"attack": label, "images": count, **json.loads(done.stdout.split("\n")[-2])}
            )
            print("  ", json.dumps(rows[-1]), flush=True)
    return rows


def run(quick=False, speed=True, memory=True, processes=None):
    peers = _peers()
    processes = (1 if quick else PROCESSES) if processes is None else processes
    speed = _speed_rows_in_processes(quick, processes) if speed else []
    memory = _memory_rows(quick) if memory else []
    lines = [
        f"| row | contender | ms per call (median of {processes} processes) "
        f"| peer / kerasconv: median (range over {processes} processes) "
        "| max L∞ difference | pixels differing |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in speed:
        if "ms" not in r:
            lines.append(f"| {r['row']} | {r['contender']} | | | | |")
            continue
        ratio = ""
        if r["ratio"] is not None:
            ratio = f"{r['ratio']:.2f}× ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})"
        diff = "" if r["ratio"] is None else f"{r['max_linf_difference']:.2g}"
        share = "" if r["ratio"] is None else f"{100 * r['share_of_pixels_differing']:.3f}%"
        lines.append(
            f"| {r['row']} | {r['contender']} | {r['ms']:.1f} | {ratio} | {diff} | {share} |"
        )
    counted = [r for r in speed if r.get("kernels")]
    if counted:
        lines += [
            "",
            "| row | contender | " + " | ".join(KERNEL_KINDS) + " |",
            "|---|---|" + "---:|" * len(KERNEL_KINDS),
        ]
        lines += [
            f"| {r['row']} | {r['contender']} | "
            + " | ".join(str(r["kernels"][kind]) for kind in KERNEL_KINDS)
            + " |"
            for r in counted
        ]
    lines += [
        "",
        "| attack (LeNet-5, 32×32×1) | images | peak memory growth | returned arrays | input |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in memory:
        if "error" in r:
            lines.append(f"| {r['attack']} | {r['images']} | failed: {r['error']!r} | | |")
        else:
            lines.append(
                f"| {r['attack']} | {r['images']} | {r['growth_mb']:.0f} MB | "
                f"{r['results_mb']:.0f} MB | {r['input_mb']:.0f} MB |"
            )
    notes = [
        "Contenders of a row are timed interleaved in one process (minimum of "
        f"{3 if quick else ROUNDS} calls after warm-up): a busy machine slows them alike. "
        f"Every row is timed in {processes} fresh process(es) one after the other: the ratios "
        "vary more between processes than within one.",
        "PGD rows: no random start on either side, labels = the model's predictions (y=None).",
        "Kernels: one call of each contender under TensorFlow's profiler (after the timing, in "
        "the first process): convolution kernels run forward, backward to the input and "
        "backward to the filters, and non-inlined graph-function calls (kerasconv's steps).",
        "Memory: one fresh process per row; after a warm-up call on 16 images the peak RSS "
        "(VmHWM) is reset to the current RSS, and the row is the peak during the call minus the "
        "RSS before it (it includes the returned arrays and the chunks' working memory).",
    ]
    missing = [
        package
        for key, package in (
            ("cleverhans", "cleverhans"),
            ("art", "adversarial-robustness-toolbox"),
        )
        if key not in peers
    ]
    if missing:
        notes.append(
            f"NOT INSTALLED: {', '.join(missing)} (pip install -e .[bench]); their rows are missing."
        )
    return {
        "title": "Attacks: kerasconv vs CleverHans and ART",
        "rows": {"speed": speed, "memory": memory},
        "markdown": "\n".join(lines),
        "notes": notes,
    }


if __name__ == "__main__":
    if "--speed-json" in sys.argv:  # one process's speed rows (see _speed_rows_in_processes)
        found = _speed_rows("--quick" in sys.argv, work="--work" in sys.argv)
        print(MARKER + json.dumps(found), flush=True)
        sys.exit(0)
    result = run(
        quick="--quick" in sys.argv,
        speed="--memory-only" not in sys.argv,
        memory="--speed-only" not in sys.argv,
    )
    print(result["markdown"])
    for note in result["notes"]:
        print("-", note)
