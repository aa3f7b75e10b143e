"""Fixtures for the example apps' tests: the repository's ``apps`` package, the web demo
(``kerasconv.webdemo``) around its built-in Fashion-MNIST model (trained quickly once per session)
and around the session's digits LeNet-5, real test images, and a headless Chromium."""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

# `apps` is the repository's top-level folder, not an installed package; this folder is also called
# apps (without __init__.py), which Python would otherwise import as a namespace package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if "apps" in sys.modules and getattr(sys.modules["apps"], "__file__", None) is None:
    del sys.modules["apps"]

from apps_test_helpers import CHROMIUM_ARGS, DIGIT_NAMES  # noqa: E402


@pytest.fixture(scope="session")
def confident_digits(trained_lenet, digits_32):
    """``{label: test image}``: one real test digit per class that the model gets right with a
    top probability of at least 0.9 after 8-bit rounding (so a PNG of it must be classified
    right): the least confident such one, which a small adversarial step can still flip."""
    x_test, y_test = digits_32[2], digits_32[3]
    quantized = np.round(x_test * 255) / 255
    probabilities = trained_lenet.predict(quantized, verbose=0)
    chosen = {}
    for index in np.argsort(probabilities.max(axis=1), kind="stable"):
        label = int(y_test[index])
        top = probabilities[index].max()
        if label not in chosen and np.argmax(probabilities[index]) == label and top >= 0.9:
            chosen[label] = quantized[index]
    assert len(chosen) == 10, (
        f"the fixture LeNet-5 gets no test digit right for some class: {chosen}"
    )
    return chosen


@pytest.fixture(scope="session")
def fashion_cache(tmp_path_factory):
    """A cache folder holding the demo's built-in Fashion-MNIST model, trained once with
    ``quick=True`` (12,000 images, 2 epochs) through the demo's own first-start path."""
    from kerasconv.webdemo import train_built_in

    folder = tmp_path_factory.mktemp("webdemo_models")
    train_built_in("fashion", folder, verbose=False, quick=True)
    return folder


@pytest.fixture(scope="session")
def fashion_test():
    """Fashion-MNIST's test split: ``(x at 28×28, y, x at 32×32, first)``, where ``first[k]`` is
    the index of the first test image of class ``k``."""
    import kerasconv

    x28, y = kerasconv.data.load_arrays("fashion_mnist", "test")
    x32, _ = kerasconv.data.load_arrays("fashion_mnist", "test", image_size=32)
    first = [int(np.flatnonzero(y == label)[0]) for label in range(10)]
    return x28, y, x32, first


@pytest.fixture(scope="session")
def fashion_server(fashion_cache):
    """The web demo as `kerasconv app --quick` starts it (the cached Fashion-MNIST model)."""
    from kerasconv.webdemo import WebDemo, load_backend

    backend, style, note = load_backend("fashion", cache_dir=fashion_cache, quick=True)
    with WebDemo(backend, style=style, port=0, note=note) as demo:
        yield demo


@pytest.fixture(scope="session")
def webdemo_server(trained_lenet):
    """The web demo (digits preprocessing) around the session's LeNet-5, on a free port."""
    from kerasconv.webdemo import KerasBackend, WebDemo

    backend = KerasBackend(trained_lenet, DIGIT_NAMES, name="lenet5 (test)")
    with WebDemo(backend, style="digits", port=0, note="LeNet-5 trained for the tests") as demo:
        yield demo


def chromium_path():
    """Debian's chromium, or a failure saying how to install it (the browser test never skips)."""
    for candidate in (os.environ.get("KERASCONV_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    pytest.fail(
        "Chromium is missing: the web demo's browser test needs Debian's chromium. "
        "`make browser` (part of `make test`) installs it: apt-get install chromium."
    )


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright (the Python package; no downloaded browsers)."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "The Python package playwright is missing: pip install playwright (the `test` extra)."
        )
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
