"""From uploaded bytes to what the page shows: tags, stats, an explanation and an adversarial image.

Uploads are checked before anything is decoded: at most :data:`MAX_UPLOAD_BYTES` (4 MB), a PNG,
JPEG, GIF, BMP or WebP file (read by Pillow, which looks at the header first), at most
:data:`MAX_PIXELS` pixels (a small compressed file can hold a huge image). Anything else raises
:class:`UploadError` with the HTTP status and a message the page shows as it is.

Preprocessing (``style``), chosen for the model's data (``--preprocess``):

``"photo"``
    centre crop to the model's aspect ratio, resize (bilinear, antialiased, as
    :func:`kerasconv.data.load` does), grey when the model takes one channel.
``"fashion"``
    Fashion-MNIST's images are single garments, light on a black background, grey, the object's
    longer side filling the 28×28 frame and centred. A photograph is brought to that form:
    (1) grey; (2) **if the median of the outer border (5% of the side) is lighter than 0.5, the
    image is inverted** (a garment on a light background becomes light on black); (3) if the
    background is not black (above 0.05) the contrast is stretched so that it is 0 and the
    brightest pixel 1; (4) unless the object (pixels above 0.1) already spans 90% of a square
    image, the image is cropped to the object's bounding box and padded with black to a square,
    keeping its aspect ratio, so the object's longer side fills the frame; (5) resize.
    A Fashion-MNIST test image passes unchanged except for the resize.
``"digits"``
    the digits are white strokes on black filling the frame's height, so a picture of a digit is
    brought to that form by the same steps with two differences: the contrast is also stretched
    when the ink is dim (below 0.8), and the ink is the pixels above 0.3.

What is classified is what is shown: the model input and every adversarial candidate are
rounded to 8 bits, as a PNG stores them.
"""

from __future__ import annotations

import base64
import io
import time
import warnings

import numpy as np

from kerasconv.webdemo.attack import EPSILONS
from kerasconv.webdemo.backends import quantize, to_png
from kerasconv.webdemo.options import MAX_UPLOAD_BYTES

MAX_PIXELS = 25_000_000
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
STYLES = ("fashion", "digits", "photo")
#: per style with an object rule: (stretch when the ink is dimmer than this, object threshold)
_OBJECT_RULES = {"fashion": (0.0, 0.1), "digits": (0.8, 0.3)}
#: how much the adversarial difference is amplified for display
AMPLIFICATION = 10.0


class UploadError(ValueError):
    """A bad upload: ``status`` is the HTTP status (400, 413) and the message is for the user."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def size_text(count):
    """``247.24 KB`` / ``5.00 MB``."""
    return f"{count / 1024:.2f} KB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.2f} MB"


def too_large_message(count, limit):
    return f"The file is too large: {size_text(count)}; the limit is {size_text(limit)}."


def decode_upload(data, max_bytes=MAX_UPLOAD_BYTES, max_pixels=MAX_PIXELS):
    """Decode an uploaded image file.

    Returns:
        ``(image, info)``: float32 ``(H, W, 3)`` RGB in [0, 1] (transparent parts composited on
        white, EXIF orientation applied) and ``{"format", "width", "height", "bytes"}``.

    Raises:
        UploadError: empty, too large (413), not an image, an unsupported format, too many
            pixels, or damaged.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise UploadError("The request holds no image: choose a file or a sample.")
    if len(data) > max_bytes:
        raise UploadError(too_large_message(len(data), max_bytes), status=413)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise UploadError(
                "The file is not an image: upload a PNG, JPEG, GIF, BMP or WebP picture."
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(
                f"The image has too many pixels; the limit is {max_pixels:,}."
            ) from None
        if image.format not in FORMATS:
            raise UploadError(
                f"{image.format} images are not supported: upload a PNG, JPEG, GIF, BMP or WebP "
                "picture."
            )
        width, height = image.size
        format_name = image.format
        if width * height > max_pixels:
            raise UploadError(
                f"The image is {width}×{height} = {width * height:,} pixels; the limit is "
                f"{max_pixels:,}."
            )
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            array = _to_rgb(image)
        except (OSError, ValueError, SyntaxError) as error:
            raise UploadError(f"The {format_name} file is damaged: {error}.") from None
    info = {"format": format_name, "width": width, "height": height, "bytes": len(data)}
    return array, info


def _to_rgb(image):
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype="float32")
        scale = 65535.0 if values.max() > 255 else 255.0
        grey = np.clip(values / scale, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype="float32") / 255.0
        alpha = rgba[..., 3:]
        return rgba[..., :3] * alpha + (1.0 - alpha)
    return np.asarray(image.convert("RGB"), dtype="float32") / 255.0


def _grey(image):
    # The weights tf.image.rgb_to_grayscale uses.
    return image[..., 0] * 0.2989 + image[..., 1] * 0.587 + image[..., 2] * 0.114


def _resize(image, size):
    import tensorflow as tf

    if tuple(image.shape[:2]) == tuple(size):
        return image
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    return np.clip(resized.numpy(), 0.0, 1.0)


def _centre_crop(image, aspect):
    height, width = image.shape[:2]
    if width / height > aspect:
        new_width = max(1, round(height * aspect))
        left = (width - new_width) // 2
        return image[:, left : left + new_width]
    new_height = max(1, round(width / aspect))
    top = (height - new_height) // 2
    return image[top : top + new_height]


def digit_form(grey):
    """Bring a grey picture of a digit to the digits' form (the rule in the module docstring).

    Returns ``(grey image, {"inverted", "stretched", "cropped"})``.
    """
    return object_form(grey, "digits")


def object_form(grey, style="fashion"):
    """Bring a grey picture to the form of the model's data: ``"fashion"`` or ``"digits"``.

    Light-on-black, background 0, the object cropped to a square around it (the rules in the
    module docstring). Returns ``(grey image, {"inverted", "stretched", "cropped"})``.
    """
    if style not in _OBJECT_RULES:
        raise ValueError(f"style must be one of {sorted(_OBJECT_RULES)}; got {style!r}.")
    dim_ink, threshold = _OBJECT_RULES[style]
    grey = np.asarray(grey, dtype="float32")
    height, width = grey.shape
    band = max(1, round(0.05 * min(height, width)))
    border = np.concatenate(
        [
            grey[:band].ravel(),
            grey[-band:].ravel(),
            grey[:, :band].ravel(),
            grey[:, -band:].ravel(),
        ]
    )
    background = float(np.median(border))
    inverted = background > 0.5
    if inverted:
        grey = 1.0 - grey
        background = 1.0 - background
    top = float(grey.max())
    stretched = (background > 0.05 or top < dim_ink) and top - background > 0.05
    if stretched:
        grey = np.clip((grey - background) / (top - background), 0.0, 1.0)
    ink = grey > threshold
    cropped = False
    if ink.any():
        rows = np.flatnonzero(ink.any(axis=1))
        cols = np.flatnonzero(ink.any(axis=0))
        extent = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
        framed = height == width and extent >= 0.9 * height
        if not framed:
            side = int(extent)
            centre_row = (rows[0] + rows[-1] + 1) / 2
            centre_col = (cols[0] + cols[-1] + 1) / 2
            top_row = int(round(centre_row - side / 2))
            left_col = int(round(centre_col - side / 2))
            square = np.zeros((side, side), dtype="float32")
            source_rows = slice(max(0, top_row), min(height, top_row + side))
            source_cols = slice(max(0, left_col), min(width, left_col + side))
            block = grey[source_rows, source_cols]
            row0 = source_rows.start - top_row
            col0 = source_cols.start - left_col
            square[row0 : row0 + block.shape[0], col0 : col0 + block.shape[1]] = block
            grey = square
            cropped = True
    return grey, {"inverted": bool(inverted), "stretched": bool(stretched), "cropped": cropped}


def preprocess(image, input_shape, style="photo"):
    """The model input ``(H, W, C)`` for a decoded RGB image, and what was done to it."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}; got {style!r}.")
    height, width, channels = input_shape
    notes = {"inverted": False, "stretched": False, "cropped": False}
    if style in _OBJECT_RULES:
        grey, notes = object_form(_grey(image), style)
        image = grey[..., None]
    image = _centre_crop(image, width / height)
    image = _resize(image, (height, width))
    if channels == 1 and image.shape[-1] == 3:
        image = _grey(image)[..., None]
    elif channels == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return quantize(image), notes


def data_url(image):
    return "data:image/png;base64," + base64.b64encode(to_png(image)).decode("ascii")


def _tag_list(pairs):
    return [{"name": name, "probability": probability} for name, probability in pairs]


def analyze(
    backend,
    data,
    method="saliency",
    top=5,
    style="photo",
    max_bytes=MAX_UPLOAD_BYTES,
    epsilons=EPSILONS,
):
    """Everything the page shows for one uploaded file, as a JSON-ready dict.

    ``stats.time_ms`` is the time from the bytes to the tags (decode, preprocess, classify),
    ``stats.total_ms`` includes the explanation and the attack.
    """
    from kerasconv.visualize.plot import heatmap_overlay

    if method not in backend.explanations:
        raise UploadError(
            f"This model offers {', '.join(backend.explanations)}; {method!r} is not available."
        )
    start = time.perf_counter()
    image, info = decode_upload(data, max_bytes)
    x, notes = preprocess(image, backend.input_shape, style)
    x = x[None]
    tags = backend.tags(x, top)[0]
    prediction_ms = (time.perf_counter() - start) * 1000.0

    saliency = backend.explain(x, method)[0]
    overlay = heatmap_overlay(x[0], saliency)

    clean = int(np.argmax(backend.probabilities(x)[0]))
    candidates = quantize(backend.adversarial_candidates(x, epsilons))[:, 0]
    note = backend.attack_note
    labels = np.argmax(backend.probabilities(candidates), axis=-1)
    changed = labels != clean
    chosen = int(np.argmax(changed)) if changed.any() else len(epsilons) - 1
    adversarial = candidates[chosen]
    adversarial_tags = backend.tags(adversarial[None], top)[0]
    difference = np.clip(0.5 + AMPLIFICATION * (adversarial - x[0]), 0.0, 1.0)
    total_ms = (time.perf_counter() - start) * 1000.0
    height, width, channels = backend.input_shape
    return {
        "tags": _tag_list(tags),
        "prediction": tags[0][0],
        "stats": {
            "bytes": info["bytes"],
            "size": size_text(info["bytes"]),
            "format": info["format"],
            "width": info["width"],
            "height": info["height"],
            "time_ms": round(prediction_ms, 1),
            "total_ms": round(total_ms, 1),
        },
        "preprocessing": {"style": style, "size": [height, width, channels], **notes},
        "input": data_url(x[0]),
        "explanation": {"method": method, "overlay": data_url(overlay)},
        "adversarial": {
            "image": data_url(adversarial),
            "difference": data_url(difference),
            "amplification": AMPLIFICATION,
            "method": backend.attack_name,
            "note": note,
            "eps": float(epsilons[chosen]),
            "changed": bool(changed[chosen]),
            "linf": float(np.max(np.abs(adversarial - x[0]))),
            "prediction": adversarial_tags[0][0],
            "tags": _tag_list(adversarial_tags),
        },
        "where": backend.where,
    }
