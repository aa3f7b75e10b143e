"""The web demo in a real browser: headless Chromium (Debian's) driven by Playwright.

With the demo's default model (LeNet-5 on Fashion-MNIST, trained quickly once per session): uploads a
real Fashion-MNIST test image and a real photograph, picks a sample garment, switches to Grad-CAM,
checks the tags (clothing names, the model's own percentages), the stats, the overlay and
adversarial images, bad uploads, and that the page never asks anything from outside the demo
server. Saves a screenshot (and, with KERASCONV_UPDATE_FIGURES=1, the one in docs/figures)."""

import os
import re
import time

import numpy as np
from apps_test_helpers import ROOT, write_png

TAG = re.compile(r"^\((\d+\.\d{2})%\)$")


def _reset_state(page):
    page.evaluate("document.body.dataset.state = 'idle'")


def _wait_for(page, states=("done", "error")):
    # Selectors, not wait_for_function: the page's Content-Security-Policy forbids eval.
    selector = ", ".join(f"body[data-state={state}]" for state in states)
    page.wait_for_selector(selector, state="attached", timeout=60_000)
    return page.evaluate("document.body.dataset.state")


def _upload(page, path):
    _reset_state(page)
    page.set_input_files("#file", str(path))
    return _wait_for(page)


def _tags(page, list_id="#tags"):
    names = page.locator(f"{list_id} li .tag").all_inner_texts()
    percents = page.locator(f"{list_id} li .pct").all_inner_texts()
    values = []
    for text in percents:
        match = TAG.match(text.strip())
        assert match, f"tag percentage {text!r} is not like '(16.00%)'"
        values.append(float(match.group(1)))
    return names, values


def _natural_width(page, selector):
    return page.eval_on_selector(selector, "image => image.complete ? image.naturalWidth : 0")


def _loaded_width(page, selector, timeout=10.0):
    """The image's naturalWidth once it has loaded (0 if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        width = _natural_width(page, selector)
        if width > 0 or time.monotonic() > deadline:
            return width
        time.sleep(0.05)


def _check_result_panels(page, size=32):
    """The four panels at the model's input size and the adversarial caption (returned)."""
    for selector in ("#input", "#overlay", "#adversarial", "#difference"):
        # Images at the model's input size (32×32 for LeNet-5), scaled up by CSS.
        assert _loaded_width(page, selector) == size, selector
    assert _loaded_width(page, "#original") > 0
    caption = page.inner_text("#adversarial-caption")
    assert re.search(
        r"^(Adversarial \(PGD on the logit margin, 10 steps, ε = 0\.\d+\)|"
        r"Not fooled up to ε = 0\.\d+ \(PGD on the logit margin, 10 steps\)): "
        r".+ \(\d+\.\d\d%\)$",
        caption,
    ), caption
    return caption


def test_webdemo_in_chromium(fashion_server, browser, fashion_test, tmp_path):
    import kerasconv

    url = fashion_server.url
    names = kerasconv.data.class_names("fashion_mnist")
    model = fashion_server.backend.model
    outside = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((url, "data:", "blob:"))
            else None
        ),
    )
    page.goto(url)
    _wait_for(page, ("ready",))
    assert "32×32×1" in page.inner_text("#model") and "Fashion-MNIST" in page.inner_text("#model")
    # Grad-CAM needs the layers: offered for a Keras model.
    assert not page.eval_on_selector("#method option[value=grad_cam]", "option => option.disabled")
    # The sample buttons name the clothes.
    assert page.get_attribute("#sample-fashion-9", "title") == "Ankle boot"

    # 1. A real Fashion-MNIST test image as a PNG file (the first of the class the model is surest
    # of among the classes it gets right): the top tag is its class, with the model's percentages.
    x28, _, x32, first = fashion_test
    probabilities = model.predict(np.round(x32[first] * 255) / 255, verbose=0)
    right = [k for k in range(10) if np.argmax(probabilities[k]) == k]
    assert right, "the fixture model gets no first-of-class test image right"
    label = max(right, key=lambda k: probabilities[k][k])
    garment_file = write_png(tmp_path / "garment.png", x28[first[label]])
    assert _upload(page, garment_file) == "done"
    names_shown, percents = _tags(page)
    assert names_shown[0] == names[label]
    assert len(names_shown) == 5 and len(set(names_shown)) == 5 and set(names_shown) <= set(names)
    assert percents == sorted(percents, reverse=True)
    # The page rounds to 0.01%; the model runs again in the server (allow float32 differences).
    assert abs(percents[0] - 100 * probabilities[label][label]) <= 0.2
    assert sum(percents) <= 100.0 + 0.005 * len(percents)
    stats = page.inner_text("#stats")
    size_kb = garment_file.stat().st_size / 1024
    assert f"Size: {size_kb:.2f} KB" in stats, stats
    assert "28×28 px PNG" in stats, stats
    time_ms = re.search(r"Time: (\d+) ms", stats)
    assert time_ms and 0 <= int(time_ms.group(1)) < 30_000, stats
    _check_result_panels(page)
    assert page.is_hidden("#error")

    # 2. A real photograph (JPEG): clothing tags and stats with its own size in pixels.
    from PIL import Image

    photo = kerasconv.data.sample_image("chelsea")
    photo_file = tmp_path / "chelsea.jpg"
    Image.fromarray(np.round(photo * 255).astype(np.uint8)).save(photo_file, quality=90)
    assert _upload(page, photo_file) == "done"
    names_shown, percents = _tags(page)
    assert len(names_shown) == 5 and set(names_shown) <= set(names)
    assert sum(percents) <= 100.0 + 0.005 * len(percents)
    stats = page.inner_text("#stats")
    assert f"{photo.shape[1]}×{photo.shape[0]} px JPEG" in stats, stats
    assert f"Size: {photo_file.stat().st_size / 1024:.2f} KB" in stats, stats
    _check_result_panels(page)

    # 3. A sample garment from the page's own buttons, then the Grad-CAM explanation.
    _reset_state(page)
    page.click(f"#sample-fashion-{label}")
    assert _wait_for(page) == "done"
    assert _tags(page)[0][0] == names[label]
    _reset_state(page)
    page.select_option("#method", "grad_cam")
    assert _wait_for(page) == "done"
    assert "Grad-CAM" in page.inner_text("#overlay-caption")
    _check_result_panels(page)

    # The screenshot for the docs: the garment of step 1 with its Grad-CAM map and the smallest
    # margin attack that changes its class.
    assert _upload(page, garment_file) == "done"
    caption = _check_result_panels(page)
    assert caption.startswith("Adversarial"), caption
    assert page.locator("#adversarial-tags li .tag").first.inner_text() != names[label]
    shot = tmp_path / "webdemo.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("KERASCONV_UPDATE_FIGURES") == "1":
        # Refresh the docs' copy (in 256 colours: a third of the size, the same picture) only when
        # asked, so that a test run leaves the checkout as it found it.
        figures = ROOT / "docs" / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        Image.open(shot).convert("RGB").quantize(256).save(figures / "webdemo.png", optimize=True)
    if os.environ.get("KERASCONV_SCREENSHOT"):
        Image.open(shot).save(os.environ["KERASCONV_SCREENSHOT"])

    # 4. Bad uploads: a clear message in #error, the results hidden, the server still serving.
    text_file = tmp_path / "notes.png"
    text_file.write_text("these are not pixels\n" * 10)
    assert _upload(page, text_file) == "error"
    message = page.inner_text("#error")
    assert "not an image" in message and "PNG" in message, message
    assert page.is_hidden("#result")

    big_file = tmp_path / "huge.png"
    big_file.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(5 * 1024 * 1024))
    assert _upload(page, big_file) == "error"
    message = page.inner_text("#error")
    assert "too large" in message and "5.00 MB" in message and "4.00 MB" in message, message

    assert _upload(page, garment_file) == "done"
    assert page.is_hidden("#error")
    assert _tags(page)[0][0] == names[label]

    assert outside == [], f"the page asked for outside resources: {outside}"
    page.close()
