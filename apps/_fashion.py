"""Fashion-MNIST for the studies of issue 17 (robustness, transfer, transferability).

``study_arrays(quick)`` gives ``(x_train, y_train, x_test, y_test)`` at 32×32 (LeNet-5's input;
Zalando's 28×28 images resized by the data pipeline, pixels in [0, 1]): the real 60,000/10,000
split for ``--full``, and for the suite's ``--quick`` runs only the 10,000 test images, the first
8,000 as training and the last 2,000 as test images (loading the training split alone takes longer
than a quick run may). Loads are cached per process, so several quick runs in one test session
read the files once.
"""

from __future__ import annotations

import functools
import os

QUICK_TRAIN = 8000


@functools.lru_cache(maxsize=4)
def _arrays(split, image_size):
    import kerasconv

    x, y = kerasconv.data.load_arrays("fashion_mnist", split, image_size=image_size)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def study_arrays(quick, image_size=32):
    """``(x_train, y_train, x_test, y_test)`` for a study (see the module docstring)."""
    if quick:
        x, y = _arrays("test", image_size)
        return x[:QUICK_TRAIN], y[:QUICK_TRAIN], x[QUICK_TRAIN:], y[QUICK_TRAIN:]
    x_train, y_train = _arrays("train", image_size)
    x_test, y_test = _arrays("test", image_size)
    return x_train, y_train, x_test, y_test


def class_names():
    from kerasconv.data.fashion_mnist import CLASS_NAMES

    return list(CLASS_NAMES)


def machine_line():
    """One line on the machine the run used: CPU count and load averages (``uptime``'s)."""
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "unknown"
    return f"{os.cpu_count()} CPUs, load averages {load} (1, 5, 15 min) at the end of the run"
