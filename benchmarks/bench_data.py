"""Is the input pipeline the bottleneck? LeNet-5 on Fashion-MNIST, two ways, in one process.

* **pipeline**: ``kerasconv.training.train`` on ``kerasconv.data.load("fashion_mnist", ...)`` — tfds
  reading, the uint8 cache, whole-split shuffle, per-batch conversion and resize to 32×32, prefetch,
  the data checks and the per-step divergence check included;
* **plain fit**: the same model and optimizer with ``model.fit`` on the same images already in
  memory as a float32 array (what the pipeline has to keep up with).

One epoch = the whole training split (60,000 images; ``--quick``: 20,000), batch 128. The first epoch
of each run pays for tracing (and, for the pipeline, reading and decoding the files once); the
reported rate is the median of the later epochs. Rates are given per wall second and per CPU second
of the process (user + system): on a machine shared with other jobs only the CPU rate is stable.
Goal (issue 16): pipeline ≥ 0.9× plain fit.

Usage: ``python -m benchmarks.bench_data [--quick]`` or ``python -m benchmarks.run --only data``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH = 128


def _cpu_seconds():
    times = os.times()
    return times.user + times.system


def _timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.wall, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = (time.perf_counter(), _cpu_seconds())

        def on_epoch_end(self, epoch, logs=None):
            self.wall.append(time.perf_counter() - self._start[0])
            self.cpu.append(_cpu_seconds() - self._start[1])

    return EpochTimer()


def run(quick=False, epochs=None):
    """Measure both ways; returns a dict with the rates, the ratios and a markdown table."""
    import keras

    import kerasconv
    from kerasconv._validation import resolve_jit_compile

    count = 20_000 if quick else 60_000
    epochs = epochs or (3 if quick else 4)
    split = "train" if count == 60_000 else f"train[:{count}]"
    x, y = kerasconv.data.load_arrays("fashion_mnist", split, image_size=32)
    results = {}
    for way in ("pipeline", "plain fit"):
        keras.utils.set_random_seed(0)
        model = kerasconv.models.LeNet5()
        timer = _timer()
        if way == "pipeline":
            data = kerasconv.data.load("fashion_mnist", split, batch_size=BATCH, image_size=32)
            kerasconv.training.train(
                model, data, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer]
            )
        else:
            model.compile(
                optimizer=kerasconv.training.make_optimizer(learning_rate=0.01),
                loss=kerasconv.training.default_loss(model),
                metrics=["accuracy"],
                jit_compile=resolve_jit_compile("auto"),
            )
            model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
        results[way] = {
            "images_per_s": count / statistics.median(timer.wall[1:]),
            "images_per_cpu_s": count / statistics.median(timer.cpu[1:]),
            "first_epoch_s": timer.wall[0],
        }
        print(
            f"  {way:<10} {results[way]['images_per_s']:8.0f} images/s "
            f"{results[way]['images_per_cpu_s']:8.0f} images/CPU-s "
            f"(first epoch {timer.wall[0]:.1f} s)",
            flush=True,
        )
    wall_ratio = results["pipeline"]["images_per_s"] / results["plain fit"]["images_per_s"]
    cpu_ratio = results["pipeline"]["images_per_cpu_s"] / results["plain fit"]["images_per_cpu_s"]
    lines = [
        f"LeNet-5 on Fashion-MNIST at 32×32, batch {BATCH}, one epoch = {count:,} images; median of "
        f"epochs 2–{epochs} (epoch 1 traces and, for the pipeline, reads and caches the files).",
        "",
        "| way | images/s | images per CPU-second | first epoch (s) |",
        "|---|---|---|---|",
    ]
    for way, row in results.items():
        lines.append(
            f"| {way} | {row['images_per_s']:.0f} | {row['images_per_cpu_s']:.0f} | "
            f"{row['first_epoch_s']:.1f} |"
        )
    lines += [
        "",
        f"Pipeline / plain fit: **{wall_ratio:.2f}×** per wall second, **{cpu_ratio:.2f}×** per "
        "CPU-second (goal ≥ 0.9×).",
    ]
    return {
        "results": results,
        "wall_ratio": wall_ratio,
        "cpu_ratio": cpu_ratio,
        "markdown": "\n".join(lines),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_data", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 images, 3 epochs")
    args = parser.parse_args(argv)
    print(run(quick=args.quick)["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
