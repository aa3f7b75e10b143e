"""What autoencoders are for: codes, reconstructions, denoising, in-painting, compression,
synthesis.

The lecture's list of applications (CS-GY 6923, lecture 10): "learned image compression, denoising
and in-painting, image synthesis". Every function takes a trained autoencoder from
``kerasconv.autoencoders`` and NumPy (or tensor) images ``(N, H, W, C)`` in [0, 1] and returns
NumPy.

* ``encode`` / ``decode`` / ``reconstruct`` — the two halves and the whole.
* ``add_noise`` and ``denoise`` — corrupt images, then map them back (one or more passes).
* ``make_mask`` and ``inpaint`` — fill a hole by iterating ``x ← known · image + hole · f(x)``:
  the known pixels are kept exactly, the hole converges to what the autoencoder believes.
* ``compress`` / ``decompress`` — quantise the code to ``bits`` bits per value and report the bits
  per image against the raw 8-bit image (784 × 8 = 6,272 bits for a 28×28 digit).
* ``sample`` (VAE), ``interpolate`` (straight lines in code space), ``latent_grid`` (the VAE's
  2-D latent manifold), ``elbo`` and ``latent_projection`` (2-D coordinates for a scatter plot).

>>> import kerasconv, kerasconv.autoencoders as ae
>>> x, _ = kerasconv.data.load_arrays("digits", "test", image_size=28)
>>> model = ae.DenseAutoencoder(latent_dim=16)
>>> ae.fit(model, x, epochs=1)  # doctest: +SKIP
>>> packed = ae.compress(model, x[:8], bits=8)
>>> packed.bits_per_image, packed.raw_bits_per_image
(128, 6272)
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np

from kerasconv._validation import (
    check_choice,
    check_float,
    check_image_batch,
    check_int,
    resolve_jit_compile,
)
from kerasconv.autoencoders.training import _check_autoencoder, _check_images

__all__ = [
    "CompressedImages",
    "add_noise",
    "compress",
    "decode",
    "decompress",
    "denoise",
    "elbo",
    "encode",
    "inpaint",
    "interpolate",
    "latent_grid",
    "latent_projection",
    "make_mask",
    "mean_image_error",
    "reconstruct",
    "reconstruction_error",
    "sample",
]


def _has_switches(model):
    return len(model.decoder.inputs) > 1


def _is_variational(model):
    from kerasconv.autoencoders.variational import VariationalAutoencoder

    return isinstance(model, VariationalAutoencoder)


def _images(name, x, model, allow_single=True):
    """Check images for ``model``; returns ``(array, was_single)``."""
    _check_autoencoder(model)
    single = hasattr(x, "shape") and len(x.shape) == 3
    x = check_image_batch(name, x, allow_single=allow_single)
    return _check_images(name, x, model), single


# --------------------------------------------------------------------------------------------
# the two halves


def encode(model, x, batch_size=256, with_switches=False):
    """The code ``e(x)`` of each image, NumPy ``(N, latent_dim)``.

    For a VAE this is the mean of ``q(z|x)``. For a max-unpooling autoencoder,
    ``with_switches=True`` returns ``[code, switches...]``, everything ``decode`` needs.
    """
    x, _ = _images("x", x, model, allow_single=False)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    outputs = model.encoder.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(outputs, (list, tuple)):
        if with_switches and _has_switches(model):
            return [np.asarray(o) for o in outputs]
        return np.asarray(outputs[0])
    return np.asarray(outputs)


def decode(model, code, batch_size=256):
    """Images ``d(z)`` from codes ``(N, latent_dim)``.

    A max-unpooling model also needs its switches: pass
    ``encode(model, x, with_switches=True)``, a list ``[code, switches...]``.
    """
    _check_autoencoder(model)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if _has_switches(model):
        if not isinstance(code, (list, tuple)) or len(code) != len(model.decoder.inputs):
            raise ValueError(
                "This autoencoder unpools with the encoder's switches: pass "
                "encode(model, x, with_switches=True), a list [code, switches...]."
            )
        parts = [np.asarray(code[0], "float32")] + [np.asarray(s, "int64") for s in code[1:]]
    else:
        if isinstance(code, (list, tuple)):
            code = code[0] if len(code) and hasattr(code[0], "shape") else np.asarray(code)
        parts = [np.asarray(code, "float32")]
    latent = model.latent_dim
    if parts[0].ndim != 2 or parts[0].shape[1] != latent:
        raise ValueError(f"code must have shape (N, {latent}); got {parts[0].shape}.")
    if not np.all(np.isfinite(parts[0])):
        raise ValueError("code contains NaN or infinite values.")
    inputs = parts if len(parts) > 1 else parts[0]
    return np.asarray(model.decoder.predict(inputs, batch_size=batch_size, verbose=0))


def reconstruct(model, x, batch_size=256):
    """``d(e(x))`` for each image (a single ``(H, W, C)`` image gives a single image back)."""
    x, single = _images("x", x, model)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    result = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    return result[0] if single else result


def reconstruction_error(images, reference, mask=None):
    """Mean squared error per image between ``images`` and ``reference``, NumPy ``(N,)``.

    With ``mask`` (True where it counts, e.g. an in-painting hole) the mean is over those pixels.
    """
    images = np.asarray(images, "float32")
    reference = np.asarray(reference, "float32")
    if images.shape != reference.shape:
        raise ValueError(
            f"images and reference must have the same shape; got {images.shape} and "
            f"{reference.shape}."
        )
    if images.ndim == 3:
        images, reference = images[None], reference[None]
        mask = None if mask is None else np.asarray(mask)[None]
    squared = np.square(images - reference).reshape(len(images), -1)
    if mask is None:
        return squared.mean(axis=1)
    mask = np.broadcast_to(
        np.asarray(mask, bool).reshape(len(images), *images.shape[1:3], -1), images.shape
    ).reshape(len(images), -1)
    counts = mask.sum(axis=1)
    if np.any(counts == 0):
        raise ValueError("mask selects no pixel for some image.")
    return (squared * mask).sum(axis=1) / counts


def mean_image_error(train_images, test_images):
    """The baseline: the mean squared error of predicting each test image by the mean training
    image."""
    train_images = np.asarray(train_images, "float32")
    test_images = np.asarray(test_images, "float32")
    return float(np.mean(np.square(test_images - train_images.mean(axis=0))))


# --------------------------------------------------------------------------------------------
# denoising and in-painting


def add_noise(x, kind="gaussian", amount=0.3, seed=None):
    """Corrupt images in [0, 1]; the result is clipped to [0, 1].

    Args:
        x: images ``(N, H, W, C)`` or one image.
        kind: ``"gaussian"`` (additive, standard deviation ``amount``), ``"salt_and_pepper"``
            (a fraction ``amount`` of pixels set to 0 or 1) or ``"masking"`` (a fraction
            ``amount`` set to 0, Vincent et al. 2008's masking noise).
        amount: see ``kind``.
        seed: NumPy seed.
    """
    check_choice("kind", kind, ("gaussian", "salt_and_pepper", "masking"))
    amount = check_float("amount", amount, minimum=0.0)
    x = np.asarray(check_image_batch("x", x, allow_single=True))
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        noisy = x + amount * rng.standard_normal(x.shape).astype("float32")
    else:
        if amount > 1:
            raise ValueError(f"amount is a fraction of pixels for kind={kind!r}; got {amount}.")
        hit = rng.random(x.shape) < amount
        values = (rng.random(x.shape) < 0.5).astype("float32") if kind == "salt_and_pepper" else 0.0
        noisy = np.where(hit, values, x)
    return np.clip(noisy, 0.0, 1.0).astype("float32")


def _refine_function(model):
    """One compiled loop per model: ``x ← keep · image + (1 − keep) · f(x)``, repeated."""
    function = model.__dict__.get("_kerasconv_refine")
    if function is None:
        import tensorflow as tf

        @tf.function(reduce_retracing=True, jit_compile=resolve_jit_compile("auto"))
        def refine(start, image, keep, iterations):
            x = start
            for _ in tf.range(iterations):
                x = keep * image + (1.0 - keep) * model(x, training=False)
            return x

        function = refine
        # Set around Keras' attribute tracking: a tf.function is not state to save.
        object.__setattr__(model, "_kerasconv_refine", function)
    return function


def _refine(model, start, image, keep, iterations, batch_size):
    import tensorflow as tf

    function = _refine_function(model)
    results = []
    for begin in range(0, len(start), batch_size):
        window = slice(begin, begin + batch_size)
        results.append(
            function(
                tf.constant(start[window]),
                tf.constant(image[window]),
                tf.constant(keep[window]),
                tf.constant(iterations, tf.int32),
            ).numpy()
        )
    return np.concatenate(results, axis=0)


def denoise(model, noisy, iterations=1, batch_size=256):
    """The autoencoder's estimate of the clean images: ``f(noisy)``, or ``f`` applied
    ``iterations`` times (each pass projects closer to what the model reproduces)."""
    x, single = _images("noisy", noisy, model)
    iterations = check_int("iterations", iterations, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    keep = np.zeros_like(x)
    result = _refine(model, x, x, keep, iterations, batch_size)
    return result[0] if single else result


def make_mask(image_shape, kind="square", size=10, fraction=0.5, count=1, seed=None):
    """Boolean hole masks ``(count, H, W)``, True where pixels are missing.

    Args:
        image_shape: ``(H, W)`` or ``(H, W, C)``.
        kind: ``"square"`` (a ``size``×``size`` square at the centre), ``"random_square"``
            (at a random place), ``"bottom"`` (the lower ``size`` rows), ``"right"`` (the right
            ``size`` columns) or ``"pixels"`` (a random ``fraction`` of the pixels).
        size, fraction: see ``kind``.
        count: number of masks.
        seed: NumPy seed.
    """
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) not in (2, 3):
        raise ValueError(f"image_shape must be (H, W) or (H, W, C); got {image_shape!r}.")
    height, width = (check_int("image_shape", d, minimum=1) for d in image_shape[:2])
    check_choice("kind", kind, ("square", "random_square", "bottom", "right", "pixels"))
    count = check_int("count", count, minimum=1)
    rng = np.random.default_rng(seed)
    masks = np.zeros((count, height, width), bool)
    if kind == "pixels":
        fraction = check_float("fraction", fraction, minimum=0.0, strict_minimum=True, maximum=1.0)
        return rng.random((count, height, width)) < fraction
    size = check_int("size", size, minimum=1, maximum=min(height, width))
    if kind == "square":
        top, left = (height - size) // 2, (width - size) // 2
        masks[:, top : top + size, left : left + size] = True
    elif kind == "random_square":
        tops = rng.integers(0, height - size + 1, count)
        lefts = rng.integers(0, width - size + 1, count)
        for index, (top, left) in enumerate(zip(tops, lefts, strict=True)):
            masks[index, top : top + size, left : left + size] = True
    elif kind == "bottom":
        masks[:, height - size :, :] = True
    else:
        masks[:, :, width - size :] = True
    return masks


def inpaint(model, image, mask, iterations=20, fill="mean", batch_size=256):
    """Fill the pixels under ``mask`` with what the autoencoder predicts; known pixels are kept.

    Starting from the image with its hole set to ``fill``, iterate
    ``x ← known · image + hole · f(x)``: each pass reconstructs the whole image and copies the
    reconstruction into the hole only, so the known pixels stay exactly as given and the hole is
    pulled towards images the autoencoder can reproduce (a projection onto its learned manifold).
    All iterations run in one compiled loop (``tf.range``), batch-wise.

    Args:
        model: a trained autoencoder.
        image: ``(N, H, W, C)`` or one ``(H, W, C)`` image in [0, 1].
        mask: True (or 1) where pixels are missing: ``(H, W)``, ``(N, H, W)`` or the image's shape.
        iterations: number of passes (≥ 1).
        fill: starting value of the hole: ``"mean"`` (the mean of each image's known pixels) or a
            number.
        batch_size: images per compiled call.

    Returns:
        NumPy images of the input's shape.
    """
    x, single = _images("image", image, model)
    iterations = check_int("iterations", iterations, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"mask must be boolean or 0/1 numbers; got dtype {mask.dtype}.")
    if mask.ndim == 2:
        mask = mask[None]
    if mask.ndim == 3 and mask.shape != x.shape[1:]:
        mask = mask[..., None]
    if mask.ndim == 3:
        mask = mask[None]
    try:
        hole = np.broadcast_to(mask.astype(bool), x.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {np.asarray(mask).shape} does not fit images of shape {x.shape}; "
            "use (H, W), (N, H, W) or the images' shape."
        ) from None
    keep = (~hole).astype("float32")
    if isinstance(fill, str):
        check_choice("fill", fill, ("mean",))
        known = keep.reshape(len(x), -1)
        totals = (x.reshape(len(x), -1) * known).sum(axis=1)
        means = totals / np.maximum(known.sum(axis=1), 1.0)
        start_values = np.broadcast_to(means.reshape(-1, 1, 1, 1), x.shape)
    else:
        start_values = np.full(x.shape, check_float("fill", fill), "float32")
    start = np.where(hole, start_values, x).astype("float32")
    result = _refine(model, start, x, keep, iterations, batch_size)
    return result[0] if single else result


# --------------------------------------------------------------------------------------------
# compression


@dataclasses.dataclass
class CompressedImages:
    """Images stored as quantised codes.

    Attributes:
        codes: unsigned integers ``(N, latent_dim)`` in ``[0, 2**bits − 1]``.
        low, high: per-dimension range of the quantiser (side information shared by the batch).
        bits: bits per code value.
        switches: max-unpooling switches (``[]`` for other models), needed by the decoder.
        bits_per_image: ``latent_dim × bits`` plus the switch bits.
        raw_bits_per_image: ``H × W × C × 8`` (the image stored as 8-bit pixels).
    """

    codes: np.ndarray
    low: np.ndarray
    high: np.ndarray
    bits: int
    switches: list
    bits_per_image: int
    raw_bits_per_image: int

    @property
    def ratio(self):
        """Compression ratio: raw bits over code bits."""
        return self.raw_bits_per_image / self.bits_per_image


def compress(model, x, bits=8, low=None, high=None, batch_size=256):
    """Encode and quantise each code value uniformly to ``bits`` bits.

    The quantiser's range per code dimension is ``[low, high]`` (default: the batch's minimum and
    maximum, shared side information not counted per image). ``bits_per_image`` is
    ``latent_dim × bits`` (plus the switches of a max-unpooling model, 2 bits each for 2×2
    pooling), compared with ``raw_bits_per_image = H × W × C × 8``.

    Example: a 16-value code at 8 bits is 128 bits per 28×28 digit instead of 6,272: a ratio of 49.
    """
    from kerasconv.autoencoders.base import code_bits

    x, _ = _images("x", x, model, allow_single=False)
    bits = check_int("bits", bits, minimum=1, maximum=16)
    outputs = encode(model, x, batch_size=batch_size, with_switches=True)
    code, switches = (outputs[0], outputs[1:]) if isinstance(outputs, list) else (outputs, [])
    low = (
        code.min(axis=0)
        if low is None
        else np.broadcast_to(np.asarray(low, "float32"), code.shape[1:])
    )
    high = (
        code.max(axis=0)
        if high is None
        else np.broadcast_to(np.asarray(high, "float32"), code.shape[1:])
    )
    if np.any(high < low):
        raise ValueError("high must be >= low in every code dimension.")
    levels = 2**bits - 1
    scale = np.where(high > low, high - low, 1.0)
    quantised = np.rint(np.clip((code - low) / scale, 0.0, 1.0) * levels)
    dtype = np.uint8 if bits <= 8 else np.uint16
    return CompressedImages(
        codes=quantised.astype(dtype),
        low=np.asarray(low, "float32"),
        high=np.asarray(high, "float32"),
        bits=bits,
        switches=list(switches),
        bits_per_image=int(code_bits(model, bits_per_value=bits)),
        raw_bits_per_image=int(math.prod(x.shape[1:]) * 8),
    )


def decompress(model, compressed, batch_size=256):
    """Images decoded from ``compress``'s quantised codes."""
    if not isinstance(compressed, CompressedImages):
        raise TypeError(f"compressed must come from compress(); got {type(compressed).__name__}.")
    levels = 2**compressed.bits - 1
    scale = np.where(compressed.high > compressed.low, compressed.high - compressed.low, 0.0)
    code = compressed.low + compressed.codes.astype("float32") / levels * scale
    parts = [code.astype("float32"), *compressed.switches] if compressed.switches else code
    return decode(model, parts, batch_size=batch_size)


# --------------------------------------------------------------------------------------------
# synthesis and the latent space


def sample(model, count, seed=None):
    """``count`` new images from a VAE: decode ``z ~ N(0, I)``."""
    if not _is_variational(model):
        raise TypeError(
            "Sampling needs a prior over codes: use a VariationalAutoencoder (kerasconv."
            f"autoencoders.VAE); got {type(model).__name__}."
        )
    return model.sample(count, seed=seed)


def interpolate(model, start, end, steps=8):
    """Decode the straight line from ``e(start)`` to ``e(end)`` in code space.

    Returns ``(steps, H, W, C)``; the first and last images are the reconstructions of ``start`` and
    ``end``. Not for max-unpooling models, whose switches cannot be interpolated.
    """
    _check_autoencoder(model)
    if _has_switches(model):
        raise ValueError(
            "A max-unpooling autoencoder's decoder needs switches from a real image; they cannot "
            "be interpolated. Use up='transpose' or a VAE."
        )
    steps = check_int("steps", steps, minimum=2)
    pair = np.stack(
        [
            np.asarray(check_image_batch("start", start, allow_single=True))[0],
            np.asarray(check_image_batch("end", end, allow_single=True))[0],
        ]
    )
    codes = encode(model, pair)
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return decode(model, (1.0 - weights) * codes[0] + weights * codes[1])


def latent_grid(model, grid_size=15, dims=(0, 1), span=0.95):
    """The VAE's latent manifold: decode a ``grid_size × grid_size`` grid of codes.

    Codes vary along ``dims`` over the Gaussian quantiles ``Φ⁻¹(linspace(1 − span, span))`` (so the
    grid covers the prior's mass evenly, as in Kingma & Welling's Fig. 4), other dimensions are 0.

    Returns:
        ``(images, values)``: images ``(grid_size, grid_size, H, W, C)``, row ``i`` at
        ``z[dims[1]] = values[::-1][i]`` (top is high), column ``j`` at ``z[dims[0]] = values[j]``.
    """
    if not _is_variational(model):
        raise TypeError(f"latent_grid needs a VariationalAutoencoder; got {type(model).__name__}.")
    grid_size = check_int("grid_size", grid_size, minimum=2)
    span = check_float("span", span, minimum=0.5, strict_minimum=True, maximum=1.0)
    if span >= 1.0:
        raise ValueError("span must be < 1 (the Gaussian quantile of 1 is infinite).")
    latent = model.latent_dim
    if len(dims) != 2 or len(set(dims)) != 2:
        raise ValueError(f"dims must be two different code dimensions; got {dims!r}.")
    dims = tuple(check_int("dims", d, minimum=0, maximum=latent - 1) for d in dims)
    normal = statistics.NormalDist()
    values = np.array(
        [normal.inv_cdf(p) for p in np.linspace(1.0 - span, span, grid_size)], "float32"
    )
    codes = np.zeros((grid_size, grid_size, latent), "float32")
    for row, y_value in enumerate(values[::-1]):
        codes[row, :, dims[0]] = values
        codes[row, :, dims[1]] = y_value
    images = decode(model, codes.reshape(-1, latent))
    return images.reshape(grid_size, grid_size, *images.shape[1:]), values


def elbo(model, x, batch_size=256):
    """The evidence lower bound ``E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I))`` per image, in nats,
    averaged over ``x`` (one reparameterised sample per image; the KL term is exact)."""
    if not _is_variational(model):
        raise TypeError(f"elbo needs a VariationalAutoencoder; got {type(model).__name__}.")
    x, _ = _images("x", x, model, allow_single=False)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    total = 0.0
    for begin in range(0, len(x), batch_size):
        reconstruction, kl = model.negative_elbo_terms(x[begin : begin + batch_size])
        total += float(np.sum(np.asarray(reconstruction) + np.asarray(kl)))
    return -total / len(x)


def latent_projection(codes):
    """2-D coordinates of codes for a scatter plot: the codes themselves when 2-D, otherwise
    their first two principal components."""
    codes = np.asarray(codes, "float32")
    if codes.ndim != 2 or codes.shape[0] < 2:
        raise ValueError(f"codes must be (N, latent_dim) with N >= 2; got shape {codes.shape}.")
    if codes.shape[1] == 2:
        return codes
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1)
    centred = codes - codes.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T
