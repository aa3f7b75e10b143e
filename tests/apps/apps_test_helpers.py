"""Helpers shared by the example apps' tests (imported by name: tests/apps is on sys.path)."""

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

DIGIT_NAMES = [str(i) for i in range(10)]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def write_png(path, image):
    """Save a float image in [0, 1] ((H, W), (H, W, 1) or (H, W, 3)) as an 8-bit PNG."""
    from PIL import Image

    pixels = np.round(np.clip(np.asarray(image), 0, 1) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    Image.fromarray(pixels).save(path)
    return path
