"""Uses on the real digits: reconstruction, denoising, in-painting, compression, encode/decode."""

import numpy as np
import pytest

import kerasconv.autoencoders as ae


def _assert_varies(reference, name=""):
    """A comparison's reference must be finite and not constant (else equal maps prove nothing)."""
    reference = np.asarray(reference, dtype="float64")
    assert np.all(np.isfinite(reference)), name
    assert float(np.std(reference)) > 1e-6, f"{name}: the reference is constant"


def test_reconstruction_far_below_the_mean_image_baseline(trained_dense, digits_28):
    x_train, _, x_test, _ = digits_28
    baseline = ae.mean_image_error(x_train, x_test)
    assert 0.04 < baseline < 0.05  # the digits' own spread (0.0464; data only, no training)
    error = ae.reconstruction_error(ae.reconstruct(trained_dense, x_test), x_test).mean()
    # error / baseline measured 0.216-0.265 (sd 0.017) over fixture seeds 0-4, oneDNN on and
    # off: 0.4 is more than 7 sd above the maximum.
    assert error < 0.4 * baseline, (error, baseline)


def test_encoder_then_decoder_equals_the_model(trained_dense, test_images):
    codes = ae.encode(trained_dense, test_images[:50])
    assert codes.shape == (50, 16)
    _assert_varies(codes, "codes")
    np.testing.assert_allclose(
        ae.decode(trained_dense, codes), ae.reconstruct(trained_dense, test_images[:50]), atol=1e-5
    )
    single = ae.reconstruct(trained_dense, test_images[0])
    assert single.shape == (28, 28, 1)


def test_denoising_lowers_the_error_to_the_clean_image(
    trained_dense, trained_denoising, test_images
):
    noisy = ae.add_noise(test_images, "gaussian", 0.3, seed=0)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    noisy_error = ae.reconstruction_error(noisy, test_images).mean()
    # denoised / noisy error measured 0.225-0.259 (denoising) and 0.254-0.285 (plain), sd 0.015,
    # over fixture seeds 0-4, oneDNN on and off: 0.5 is far above both.
    for model in (trained_denoising, trained_dense):
        denoised_error = ae.reconstruction_error(ae.denoise(model, noisy), test_images).mean()
        assert denoised_error < 0.5 * noisy_error, (model.name, denoised_error, noisy_error)


def test_inpainting_beats_the_mean_fill_and_keeps_known_pixels(trained_denoising, digits_28):
    x_train, _, x_test, _ = digits_28
    masks = ae.make_mask((28, 28), "square", size=10, count=len(x_test))
    assert masks.shape == (len(x_test), 28, 28) and masks[0].sum() == 100
    hole = np.broadcast_to(masks[..., None], x_test.shape)
    mean_fill = np.where(hole, x_train.mean(axis=0), x_test)
    mean_error = ae.reconstruction_error(mean_fill, x_test, hole).mean()
    filled = ae.inpaint(trained_denoising, x_test, masks, iterations=20)
    error = ae.reconstruction_error(filled, x_test, hole).mean()
    # error / mean-fill error measured 0.454-0.598 (sd 0.049) over fixture seeds 0-4, oneDNN on
    # and off: 0.75 is the maximum plus 3 sd. 20 passes / 1 pass: 0.599-0.695 (sd 0.037).
    assert error < 0.75 * mean_error, (error, mean_error)
    np.testing.assert_array_equal(filled[~hole], x_test[~hole])
    # Iterating helps: one pass starts from a flat hole.
    one_pass = ae.inpaint(trained_denoising, x_test, masks, iterations=1)
    assert error < ae.reconstruction_error(one_pass, x_test, hole).mean()


def test_inpainting_loop_is_compiled_once(trained_dense, test_images):
    mask = ae.make_mask((28, 28), "bottom", size=8)
    ae.inpaint(trained_dense, test_images[:16], mask, iterations=3)
    function = trained_dense.__dict__["_kerasconv_refine"]
    traces = function.experimental_get_tracing_count()
    ae.inpaint(trained_dense, test_images[16:32], mask, iterations=7)
    ae.denoise(trained_dense, test_images[:16], iterations=2)
    assert function.experimental_get_tracing_count() == traces


def test_compression_bits_and_quantisation(trained_dense, test_images):
    packed = ae.compress(trained_dense, test_images, bits=8)
    assert packed.codes.dtype == np.uint8 and packed.codes.shape == (len(test_images), 16)
    assert packed.bits_per_image == 16 * 8 and packed.raw_bits_per_image == 784 * 8
    assert packed.ratio == pytest.approx(49.0)
    exact = ae.reconstruction_error(ae.reconstruct(trained_dense, test_images), test_images).mean()
    eight = ae.reconstruction_error(ae.decompress(trained_dense, packed), test_images).mean()
    # Over fixture seeds 0-4, oneDNN on and off: 8 bits change the error by at most 0.015%
    # (relative); 2 bits raise it 1.43-1.62× (sd 0.07): 1.2 is the minimum less 3 sd.
    assert abs(eight - exact) < 0.02 * exact  # 8 bits per value lose almost nothing
    two = ae.decompress(trained_dense, ae.compress(trained_dense, test_images, bits=2))
    assert ae.reconstruction_error(two, test_images).mean() > 1.2 * eight


def test_interpolation_endpoints_are_the_reconstructions(trained_dense, test_images):
    path = ae.interpolate(trained_dense, test_images[0], test_images[1], steps=6)
    assert path.shape == (6, 28, 28, 1)
    ends = ae.reconstruct(trained_dense, test_images[:2])
    _assert_varies(ends[0], "first reconstruction")
    _assert_varies(ends[1], "last reconstruction")
    assert np.abs(ends[0] - ends[1]).max() > 0.1  # a 5 and a 4: measured 0.92-0.94 over seeds
    np.testing.assert_allclose(path[0], ends[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], ends[1], atol=1e-5)


def test_noise_and_masks():
    x = np.full((4, 28, 28, 1), 0.5, "float32")
    masked = ae.add_noise(x, "masking", 0.25, seed=0)
    assert abs(float(np.mean(masked == 0.0)) - 0.25) < 0.02
    salted = ae.add_noise(x, "salt_and_pepper", 0.5, seed=0)
    assert set(np.unique(salted)) == {0.0, 0.5, 1.0}
    pixels = ae.make_mask((28, 28, 1), "pixels", fraction=0.3, count=10, seed=0)
    assert abs(float(pixels.mean()) - 0.3) < 0.02
    assert ae.make_mask((28, 28), "right", size=5)[0, :, -5:].all()


def test_bad_inputs(trained_dense, test_images):
    with pytest.raises(ValueError, match="mask"):
        ae.inpaint(trained_dense, test_images[:2], np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match="shape"):
        ae.reconstruct(trained_dense, np.zeros((2, 32, 32, 1), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        ae.reconstruct(trained_dense, np.full((1, 28, 28, 1), np.nan, "float32"))
    with pytest.raises(TypeError, match="VariationalAutoencoder"):
        ae.sample(trained_dense, 4)
    with pytest.raises(ValueError, match=r"\(N, 16\)"):
        ae.decode(trained_dense, np.zeros((2, 8)))
    with pytest.raises(TypeError):
        ae.reconstruct("model", test_images[:2])
    with pytest.raises(ValueError):
        ae.add_noise(test_images[:2], "masking", 2.0)


def test_unpooling_model_needs_its_switches(test_images):
    model = ae.ConvAutoencoder(latent_dim=8, filters=(4, 4), up="unpool")
    parts = ae.encode(model, test_images[:3], with_switches=True)
    _assert_varies(ae.reconstruct(model, test_images[:3]), "reconstructions")
    assert [p.shape for p in parts] == [(3, 8), (3, 7, 7, 4), (3, 14, 14, 4)]
    np.testing.assert_allclose(
        ae.decode(model, parts), ae.reconstruct(model, test_images[:3]), atol=1e-6
    )
    packed = ae.compress(model, test_images[:3])
    assert packed.bits_per_image == 8 * 8 + 2 * (7 * 7 * 4 + 14 * 14 * 4)
    with pytest.raises(ValueError, match="switches"):
        ae.decode(model, parts[0])
    with pytest.raises(ValueError, match="switches"):
        ae.interpolate(model, test_images[0], test_images[1])
