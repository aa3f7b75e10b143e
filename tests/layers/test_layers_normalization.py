"""LocalResponseNormalization and LocalContrastNormalization: hand-computed values, invariants."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasconv.layers import LocalContrastNormalization, LocalResponseNormalization, gaussian_window


def test_lrn_hand_computed_values():
    # r=1: windows {0,1}, {0,1,2}, {1,2}; squares 1, 4, 9 -> sums 5, 14, 13; k=2, alpha=1, beta=1.
    layer = LocalResponseNormalization(depth_radius=1, bias=2.0, alpha=1.0, beta=1.0)
    out = layer(np.array([[[[1.0, 2.0, 3.0]]]], "float32")).numpy().ravel()
    np.testing.assert_allclose(out, [1 / 7, 2 / 16, 3 / 15], rtol=1e-6)


@pytest.mark.parametrize(
    "radius, bias, alpha, beta",
    [(2, 2.0, 1e-4, 0.75), (5, 1.0, 1.0, 0.5), (0, 1.0, 0.1, 0.5), (3, 2.0, 1e-3, 0.9)],
)
def test_lrn_equals_tensorflow(radius, bias, alpha, beta):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 16)).astype("float32") * 20
    ours = LocalResponseNormalization(radius, bias, alpha, beta)(x).numpy()
    reference = tf.nn.local_response_normalization(x, radius, bias, alpha, beta).numpy()
    np.testing.assert_allclose(ours, reference, rtol=2e-6, atol=1e-6)


def test_lrn_alexnet_defaults_and_caffe_convention():
    layer = LocalResponseNormalization()
    assert (layer.depth_radius, layer.bias, layer.alpha, layer.beta) == (2, 2.0, 1e-4, 0.75)
    # Caffe / PyTorch: b = a / (k + alpha/n * sum)^beta. Their alpha=1e-4, n=5 is ours alpha=2e-5.
    x = np.random.default_rng(1).normal(size=(1, 2, 2, 8)) * 30
    padded = np.pad(x**2, [(0, 0)] * 3 + [(2, 2)])
    window = sum(padded[..., s : s + 8] for s in range(5))
    caffe = x / (2.0 + 1e-4 / 5 * window) ** 0.75
    ours = LocalResponseNormalization(2, 2.0, 2e-5, 0.75)(x.astype("float32")).numpy()
    np.testing.assert_allclose(ours, caffe, rtol=1e-5)
    paper_alpha = LocalResponseNormalization(2, 2.0, 1e-4, 0.75)(x.astype("float32")).numpy()
    assert np.abs(paper_alpha - caffe).max() > 1e-3  # the two conventions really differ


def test_lrn_channel_axis_other_than_last():
    x = np.random.default_rng(2).normal(size=(2, 7, 3, 3)).astype("float32")
    channels_first = LocalResponseNormalization(2, 1.0, 0.5, 0.75, axis=1)(x).numpy()
    channels_last = LocalResponseNormalization(2, 1.0, 0.5, 0.75)(np.moveaxis(x, 1, -1)).numpy()
    np.testing.assert_allclose(channels_first, np.moveaxis(channels_last, -1, 1), rtol=1e-6)


def test_lrn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="depth_radius"):
        LocalResponseNormalization(depth_radius=-1)
    with pytest.raises(TypeError, match="alpha"):
        LocalResponseNormalization(alpha="big")
    with pytest.raises(ValueError, match="axis"):
        LocalResponseNormalization(axis=0)(keras.Input((4, 4, 3)))


def test_gaussian_window_values():
    window = gaussian_window(3, 1.0)
    line = np.array([np.exp(-0.5), 1.0, np.exp(-0.5)])
    np.testing.assert_allclose(window, np.outer(line, line) / np.outer(line, line).sum())
    assert window.sum() == pytest.approx(1.0)


def test_lcn_hand_computed_values_one_pixel_window():
    # kernel_size=1: local statistics are over the channels at each pixel only.
    # pixel 0: [1, 3] -> mean 2, sigma 1; pixel 1: [0, 4] -> mean 2, sigma 2; c = mean sigma = 1.5.
    x = np.array([[[[1.0, 3.0], [0.0, 4.0]]]], "float32")
    out = LocalContrastNormalization(kernel_size=1, sigma=1.0)(x).numpy()
    np.testing.assert_allclose(out[0, 0], [[-2 / 3, 2 / 3], [-1.0, 1.0]], rtol=1e-6)
    fixed = LocalContrastNormalization(kernel_size=1, sigma=1.0, divisor_floor=4.0)(x).numpy()
    np.testing.assert_allclose(fixed[0, 0], [[-0.25, 0.25], [-0.5, 0.5]], rtol=1e-6)


def _lcn_reference(x, kernel_size, sigma):
    # Direct loops over the formula of Jarrett et al. 2009, window renormalised at the border.
    g = gaussian_window(kernel_size, sigma)
    half = kernel_size // 2
    batch, height, width, channels = x.shape
    out = np.zeros_like(x, dtype="float64")
    for b in range(batch):
        mean = np.zeros((height, width))
        for i in range(height):
            for j in range(width):
                total = weight = 0.0
                for p in range(-half, half + 1):
                    for q in range(-half, half + 1):
                        if 0 <= i + p < height and 0 <= j + q < width:
                            w = g[p + half, q + half]
                            total += w * x[b, i + p, j + q].mean()
                            weight += w
                mean[i, j] = total / weight
        centred = x[b] - mean[..., None]
        sigma_map = np.zeros((height, width))
        for i in range(height):
            for j in range(width):
                total = weight = 0.0
                for p in range(-half, half + 1):
                    for q in range(-half, half + 1):
                        if 0 <= i + p < height and 0 <= j + q < width:
                            w = g[p + half, q + half]
                            total += w * (centred[i + p, j + q] ** 2).mean()
                            weight += w
                sigma_map[i, j] = np.sqrt(total / weight)
        out[b] = centred / np.maximum(sigma_map, sigma_map.mean())[..., None]
    return out


def test_lcn_matches_direct_formula():
    x = np.random.default_rng(3).random((2, 6, 5, 3))
    ours = LocalContrastNormalization(kernel_size=5, sigma=1.5)(x.astype("float32")).numpy()
    np.testing.assert_allclose(ours, _lcn_reference(x, 5, 1.5), rtol=1e-4, atol=1e-5)


def test_lcn_invariants():
    rng = np.random.default_rng(4)
    x = rng.random((2, 12, 12, 3)).astype("float32")
    layer = LocalContrastNormalization(kernel_size=7, sigma=2.0)
    out = layer(x).numpy()
    # Invariant to brightness and contrast (c scales with the image). Tolerance from float32
    # rounding, not from one run: the output is (x − local mean) / σ with σ >= c, the mean local
    # standard deviation (about 0.29 · 3 here); rounding 3x + 5 (<= 8) costs <= 8 ε / 2 per pixel
    # and the 7×7 Gaussian sums add at most 49 ε relative on values <= 8, so the error is below
    # (4 ε + 49 · 8 ε) / 0.87 ≈ 5.5e-5 (measured 1e-6 with oneDNN on and off).
    eps = float(np.finfo("float32").eps)
    assert layer(3.0 * x + 5.0).numpy().std() > 0.5  # the reference is not all zero
    np.testing.assert_allclose(
        layer(3.0 * x + 5.0).numpy(), out, rtol=0, atol=2 * (4 + 49 * 8) * eps / 0.87
    )
    # A flat image has no contrast: the layer subtracts one of the image's own pixels first,
    # so the centred image is exactly zero and so is the output, on every CPU and kernel.
    flat = layer(np.full((1, 8, 8, 3), 0.7, "float32")).numpy()
    assert np.all(np.isfinite(flat)) and np.abs(flat).max() == 0.0
    # Local mean is removed: the Gaussian-weighted local mean of the output is ~0.
    again = LocalContrastNormalization(kernel_size=7, sigma=2.0, divisor_floor=1e9)
    centred = again(x).numpy() * 1e9
    assert np.abs(centred.mean()) < 0.02 and centred.std() > 0.1


def test_lcn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        LocalContrastNormalization(kernel_size=4)
    with pytest.raises(ValueError, match="sigma"):
        LocalContrastNormalization(sigma=0.0)
    with pytest.raises(ValueError, match="batch, height, width, channels"):
        LocalContrastNormalization()(keras.Input((5, 5)))
