"""``make bench``: kerasconv's benchmark suite; writes ``docs/benchmarks.md``.

Every number is the median of repeated timed runs after warm-up steps, measured in one process on
the machine named at the top of the report. Sections:

1. training images/s for LeNet-5, All-CNN-C, CIFAR ResNet-56, ResNet-50 and VGG-16, side by side with
   keras.applications ResNet50 and VGG16 built the same way in the same run;
2. the achieved FLOP/s of the VGG-16 and ResNet-50 training steps against the machine's measured
   dense matmul peak;
3. attack throughput (FGSM and PGD-40 on LeNet-5, batch 32; PGD-10 on a CIFAR ResNet, batch 128) and
   visualizer throughput (saliency, SmoothGrad, Grad-CAM, integrated gradients);
4. serving latency and throughput (``benchmarks/bench_serving.py``);
5. the input pipeline: LeNet-5 on Fashion-MNIST through ``kerasconv.training.train`` vs plain
   ``model.fit`` on arrays (``benchmarks/bench_data.py``).

Usage: ``python -m benchmarks.run [--quick] [--out docs/benchmarks.md] [--only SECTION ...]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def machine_description():
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
            memory = f", {kib / 2**20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; "
        f"{'GPUs: ' + ', '.join(g.name for g in gpus) if gpus else 'no GPU'}; "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


def median_time(function, repeats, warmup=1):
    """Median wall time of ``function()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(quick):
    """The machine's dense float32 matmul rate (FLOP/s): the physical limit for conv training here."""
    import tensorflow as tf

    n = 1024 if quick else 2048
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))

    @tf.function
    def product():
        return tf.reduce_sum(tf.matmul(a, b))

    seconds = median_time(lambda: product().numpy(), repeats=5 if quick else 10, warmup=2)
    return 2 * n**3 / seconds


def _train_rate(model, batch_size, steps, repeats):
    import keras
    import numpy as np

    shape = tuple(model.inputs[0].shape[1:])
    classes = model.outputs[0].shape[-1]
    rng = np.random.default_rng(0)
    x = rng.random((batch_size,) + shape, dtype=np.float32)
    y = rng.integers(0, classes, size=(batch_size,))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        jit_compile=False,
    )

    def run():
        for _ in range(steps):
            model.train_on_batch(x, y)

    seconds = median_time(run, repeats=repeats, warmup=1)
    return batch_size * steps / seconds


def training_section(quick):
    import keras

    import kerasconv
    from kerasconv.models import summary

    big = (224, 224, 3)
    cases = [
        ("LeNet-5", lambda: kerasconv.models.create("lenet5"), 128, "kerasconv"),
        (
            "All-CNN-C",
            lambda: kerasconv.models.create("all_cnn_c", input_shape=(32, 32, 3), classes=10),
            64,
            "kerasconv",
        ),
        (
            "CIFAR ResNet-56",
            lambda: kerasconv.models.create("cifar_resnet56", input_shape=(32, 32, 3), classes=10),
            64,
            "kerasconv",
        ),
        ("ResNet-50", lambda: kerasconv.models.create("resnet50", input_shape=big), 8, "kerasconv"),
        (
            "ResNet50",
            lambda: keras.applications.ResNet50(weights=None, input_shape=big),
            8,
            "keras.applications",
        ),
        ("VGG-16", lambda: kerasconv.models.create("vgg16", input_shape=big), 8, "kerasconv"),
        (
            "VGG16",
            lambda: keras.applications.VGG16(weights=None, input_shape=big),
            8,
            "keras.applications",
        ),
    ]
    steps, repeats = (1, 2) if quick else (3, 3)
    rows = []
    for name, build, batch, source in cases:
        model = build()
        rate = _train_rate(model, batch, steps, repeats)
        macs = summary.count_macs(model)
        rows.append(
            {
                "model": name,
                "source": source,
                "batch": batch,
                "params": model.count_params(),
                "macs": macs,
                "images_per_s": rate,
                # forward + backward ≈ 3 × forward multiply-adds, 2 FLOPs each
                "train_flops": 6 * macs * rate,
            }
        )
        print(f"  {name:<16} {source:<19} {rate:9.1f} images/s", flush=True)
        keras.backend.clear_session()
    return rows


def attack_section(quick):
    import numpy as np

    import kerasconv

    rng = np.random.default_rng(0)
    lenet = kerasconv.models.create("lenet5", classifier_activation=None)
    x = rng.random((32, 32, 32, 1), dtype=np.float32)
    repeats = 2 if quick else 5
    rows = []

    def rate(fn, batch):
        return batch / median_time(fn, repeats=repeats, warmup=1)

    attacks = kerasconv.attacks
    rows.append(
        (
            "FGSM, LeNet-5, batch 32",
            rate(lambda: attacks.fast_gradient_method(lenet, x, eps=0.1), 32),
        )
    )
    rows.append(
        (
            "PGD-40, LeNet-5, batch 32",
            rate(
                lambda: attacks.projected_gradient_descent(
                    lenet, x, eps=0.1, eps_iter=0.01, nb_iter=40
                ),
                32,
            ),
        )
    )
    resnet = kerasconv.models.create(
        "cifar_resnet20", input_shape=(32, 32, 3), classes=10, classifier_activation=None
    )
    batch = 32 if quick else 128
    xr = rng.random((batch, 32, 32, 3), dtype=np.float32)
    rows.append(
        (
            f"PGD-10, CIFAR ResNet-20, batch {batch}",
            rate(
                lambda: attacks.projected_gradient_descent(
                    resnet, xr, eps=8 / 255, eps_iter=2 / 255, nb_iter=10
                ),
                batch,
            ),
        )
    )
    visualize = kerasconv.visualize
    for name, fn in (
        ("saliency map, LeNet-5, batch 32", lambda: visualize.saliency_map(lenet, x)),
        ("SmoothGrad (50 samples), LeNet-5, batch 32", lambda: visualize.smoothgrad(lenet, x)),
        ("Grad-CAM, LeNet-5, batch 32", lambda: visualize.grad_cam(lenet, x)),
        (
            "integrated gradients (256 steps, the default), LeNet-5, batch 32",
            lambda: visualize.integrated_gradients(lenet, x),
        ),
    ):
        rows.append((name, rate(fn, 32)))
    for name, value in rows:
        print(f"  {name:<52} {value:9.1f} images/s", flush=True)
    # kerasconv against CleverHans and ART, side by side (benchmarks/bench_attacks.py).
    from benchmarks import bench_attacks

    peers = bench_attacks.run(quick=quick)
    print(peers["markdown"], flush=True)
    PEER_TABLES[:] = ["### " + peers["title"], "", peers["markdown"], ""] + [
        f"- {note}" for note in peers["notes"]
    ]
    return rows


PEER_TABLES = []  # markdown of the attack peer comparison, filled by attack_section


def write_report(path, machine, peak, training, attacks, serving, seconds):
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks.run`); medians of repeated timed runs after "
        "warm-up. Regenerate on your machine to compare.",
        "",
        f"- Machine: {machine}",
        f"- Date: {datetime.date.today().isoformat()}; the run took {seconds / 60:.1f} minutes.",
        f"- Dense float32 matmul peak (the physical limit here): **{peak / 1e9:.1f} GFLOP/s**",
        "",
    ]
    if training:
        lines += [
            "## Training throughput",
            "",
            "One `train_on_batch` step (SGD + momentum) on random data at the canonical input "
            "size; XLA off (on a CPU oneDNN is faster). keras.applications models are built the "
            "same way in the same run. FLOP/s = 6 × multiply-adds × images/s (forward + backward).",
            "",
            "| model | from | batch | parameters | multiply-adds | images/s | GFLOP/s | % of matmul peak |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in training:
            lines.append(
                f"| {row['model']} | {row['source']} | {row['batch']} | {row['params']:,} | "
                f"{row['macs'] / 1e6:,.1f} M | {row['images_per_s']:.1f} | "
                f"{row['train_flops'] / 1e9:.1f} | {100 * row['train_flops'] / peak:.0f}% |"
            )
        by_name = {r["model"]: r for r in training}
        for ours, theirs in (("ResNet-50", "ResNet50"), ("VGG-16", "VGG16")):
            if ours in by_name and theirs in by_name:
                ratio = by_name[ours]["images_per_s"] / by_name[theirs]["images_per_s"]
                lines.append("")
                lines.append(
                    f"kerasconv {ours} runs at {ratio:.2f}× the speed of keras.applications "
                    f"{theirs} in this run."
                )
        lines.append("")
    if attacks:
        lines += [
            "## Attacks and visualizers",
            "",
            "Whole calls (compiled once, then timed), untrained weights, random inputs.",
            "",
            "| method | images/s |",
            "|---|---|",
        ]
        lines += [f"| {name} | {value:.1f} |" for name, value in attacks]
        lines.append("")
        lines += PEER_TABLES + ([""] if PEER_TABLES else [])
    if serving:
        lines += ["## Serving", ""] + serving + [""]
    with open(path, "w") as handle:
        handle.write("\n".join(lines))


def serving_section(quick):
    from benchmarks import bench_serving

    result = bench_serving.run(quick=quick)
    lines = result["markdown"].splitlines()
    notes = result.get("notes") or []
    if isinstance(notes, str):
        notes = [notes]
    return lines + [""] + [f"- {note}" for note in notes]


def data_section(quick):
    from benchmarks import bench_data

    return ["## Input pipeline", "", bench_data.run(quick=quick)["markdown"], ""]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument(
        "--only", nargs="*", choices=["training", "attacks", "serving", "data"], default=None
    )
    args = parser.parse_args(argv)
    sections = set(args.only or ["training", "attacks", "serving", "data"])
    start = time.perf_counter()
    machine = machine_description()
    print(f"machine: {machine}", flush=True)
    peak = matmul_peak(args.quick)
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s", flush=True)
    training = training_section(args.quick) if "training" in sections else []
    attacks = attack_section(args.quick) if "attacks" in sections else []
    serving = serving_section(args.quick) if "serving" in sections else []
    data = data_section(args.quick) if "data" in sections else []
    write_report(args.out, machine, peak, training, attacks, serving, time.perf_counter() - start)
    if data:
        with open(args.out, "a") as handle:
            handle.write("\n" + "\n".join(data))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
