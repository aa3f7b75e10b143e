"""Is the input pipeline the bottleneck? LeNet-5 on Fashion-MNIST, two ways, in one process.

* **pipeline**: ``kerasconv.training.train`` on ``kerasconv.data.load("fashion_mnist", ...)`` — tfds
  reading, the one-off conversion and resize to 32×32 (then cached in memory as float32), the
  whole-split shuffle every epoch, batching, prefetch, the per-batch data check and the per-step
  divergence check included;
* **plain fit**: the same model and optimizer with ``model.fit`` on the same images already in
  memory as a float32 array (what the pipeline has to keep up with).

One epoch = the whole training split (60,000 images; ``--quick``: 20,000), batch 128. The first epoch
of each run pays for tracing (and, for the pipeline, reading and decoding the files once); the
reported rate is the median of the later epochs. The two ways alternate (two rounds each), so that
neither gains from its place in the run. Rates are given per wall second and per CPU second
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


def _pipeline_run(model, split, epochs, timer):
    import kerasconv

    data = kerasconv.data.load("fashion_mnist", split, batch_size=BATCH, image_size=32)
    kerasconv.training.train(
        model, data, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer]
    )


def _plain_run(model, x, y, epochs, timer):
    import kerasconv
    from kerasconv._validation import resolve_jit_compile

    model.compile(
        optimizer=kerasconv.training.make_optimizer(learning_rate=0.01),
        loss=kerasconv.training.default_loss(model),
        metrics=["accuracy"],
        jit_compile=resolve_jit_compile("auto"),
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])


def run(quick=False, epochs=None, rounds=None):
    """Measure both ways; returns a dict with the rates, the ratios and a markdown table.

    The two ways alternate (``rounds`` times each: pipeline, plain fit, pipeline, ...), each round a
    fresh model trained for ``epochs`` epochs; a way's rate is the median over the later epochs of
    all its rounds, so neither way gains from running first or last.
    """
    import keras

    import kerasconv

    count = 20_000 if quick else 60_000
    epochs = epochs or (3 if quick else 4)
    rounds = rounds or (1 if quick else 2)
    split = "train" if count == 60_000 else f"train[:{count}]"
    x, y = kerasconv.data.load_arrays("fashion_mnist", split, image_size=32)
    timings = {"pipeline": [], "plain fit": []}
    firsts = {"pipeline": [], "plain fit": []}
    for _ in range(rounds):
        for way in ("pipeline", "plain fit"):
            keras.utils.set_random_seed(0)
            model = kerasconv.models.LeNet5()
            timer = _timer()
            if way == "pipeline":
                _pipeline_run(model, split, epochs, timer)
            else:
                _plain_run(model, x, y, epochs, timer)
            firsts[way].append(timer.wall[0])
            timings[way] += list(zip(timer.wall[1:], timer.cpu[1:]))
    results = {}
    for way, pairs in timings.items():
        results[way] = {
            "images_per_s": count / statistics.median(wall for wall, _ in pairs),
            "images_per_cpu_s": count / statistics.median(cpu for _, cpu in pairs),
            "first_epoch_s": firsts[way][0],
            "epochs_timed": len(pairs),
        }
        print(
            f"  {way:<10} {results[way]['images_per_s']:8.0f} images/s "
            f"{results[way]['images_per_cpu_s']:8.0f} images/CPU-s "
            f"(first epoch {firsts[way][0]:.1f} s)",
            flush=True,
        )
    wall_ratio = results["pipeline"]["images_per_s"] / results["plain fit"]["images_per_s"]
    cpu_ratio = results["pipeline"]["images_per_cpu_s"] / results["plain fit"]["images_per_cpu_s"]
    lines = [
        f"LeNet-5 on Fashion-MNIST at 32×32, batch {BATCH}, one epoch = {count:,} images. The two "
        f"ways alternate, {rounds} round(s) of {epochs} epochs each on a fresh model; rates are "
        f"medians over epochs 2–{epochs} of every round (epoch 1 traces and, for the pipeline, "
        "reads and caches the files).",
        "",
        "| way | images/s | images per CPU-second | epochs timed | first epoch (s) |",
        "|---|---|---|---|---|",
    ]
    for way, row in results.items():
        lines.append(
            f"| {way} | {row['images_per_s']:.0f} | {row['images_per_cpu_s']:.0f} | "
            f"{row['epochs_timed']} | {row['first_epoch_s']:.1f} |"
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
