"""Validate a training set-up: one training step of each model family with XLA and mixed precision,
an attack and a visualizer, with images/s for each. Writes ``report.md``.

Run ``python -m apps.gpu_check`` on a machine with a GPU (it also runs on a CPU, where it says so and
uses plain graphs: XLA's CPU convolutions are slower than oneDNN's).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# (registry name, input shape, batch) at sizes small enough for any GPU, run at full size on one.
FAMILIES = [
    ("lenet5", (32, 32, 1), 256),
    ("all_cnn_c", (32, 32, 3), 128),
    ("cifar_resnet20", (32, 32, 3), 128),
    ("maxout_cifar", (32, 32, 3), 64),
    ("alexnet_one_tower", (227, 227, 3), 64),
    ("vgg11", (224, 224, 3), 32),
    ("resnet50", (224, 224, 3), 32),
    ("googlenet", (224, 224, 3), 32),
]
SMOKE = [("lenet5", (32, 32, 1), 16), ("cifar_resnet20", (32, 32, 3), 8)]


def _step_rate(name, shape, batch, precision, jit, steps):
    import keras
    import numpy as np

    import kerasconv

    with kerasconv.training.mixed_precision(precision):
        model = kerasconv.models.create(name, input_shape=shape, classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit,
    )
    rng = np.random.default_rng(0)
    x = rng.random((batch,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, size=(batch,))
    first = model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)
    seconds = time.perf_counter() - start
    finite = bool(np.isfinite(first) and np.isfinite(loss))
    return batch * steps / seconds, finite, model


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m apps.gpu_check", description=__doc__)
    parser.add_argument("--out", default="out/gpu_check")
    parser.add_argument("--precision", default=None, help="float32, mixed_float16, mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="two small models, one step each")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    import kerasconv
    from kerasconv._validation import resolve_jit_compile

    os.makedirs(args.out, exist_ok=True)
    gpus = tf.config.list_physical_devices("GPU")
    jit = resolve_jit_compile("auto")
    precision = args.precision or ("mixed_float16" if gpus else "mixed_bfloat16")
    steps = 1 if args.smoke else args.steps
    families = SMOKE if args.smoke else FAMILIES
    rows = []
    last_model = None
    for name, shape, batch in families:
        rate, finite, last_model = _step_rate(name, shape, batch, precision, jit, steps)
        rows.append((name, shape, batch, rate, finite))
        print(f"{name:<20} {rate:9.1f} images/s  loss finite: {finite}", flush=True)

    lenet = kerasconv.models.create("lenet5", classifier_activation=None)
    x = np.random.default_rng(1).random((32, 32, 32, 1), dtype=np.float32)
    start = time.perf_counter()
    result = kerasconv.attacks.projected_gradient_descent(
        lenet, x, eps=0.1, eps_iter=0.01, nb_iter=10
    )
    attack_rate = 32 / (time.perf_counter() - start)
    start = time.perf_counter()
    maps = kerasconv.visualize.saliency_map(lenet, x)
    saliency_rate = 32 / (time.perf_counter() - start)
    checks_ok = bool(np.all(np.isfinite(np.asarray(result.x_adv)))) and bool(
        np.all(np.isfinite(maps))
    )

    lines = [
        "# Set-up check",
        "",
        f"- Devices: {', '.join(g.name for g in gpus) if gpus else 'no GPU found: ran on the CPU'}",
        f"- TensorFlow {tf.__version__}; XLA (jit_compile): {jit}; precision policy: {precision}",
        "",
        "| model | input | batch | training images/s | loss finite |",
        "|---|---|---|---|---|",
    ]
    for name, shape, batch, rate, finite in rows:
        lines.append(f"| {name} | {shape} | {batch} | {rate:.1f} | {finite} |")
    lines += [
        "",
        f"- PGD-10 on LeNet-5, batch 32 (first call, tracing included): {attack_rate:.1f} images/s",
        f"- saliency maps on LeNet-5, batch 32 (first call): {saliency_rate:.1f} images/s",
        f"- attack and visualizer outputs finite: {checks_ok}",
        "",
    ]
    ok = all(row[4] for row in rows) and checks_ok
    lines.append("Result: **OK**" if ok else "Result: **a check failed** (see the table)")
    with open(os.path.join(args.out, "report.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.join(args.out, 'report.md')}")
    del last_model
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
