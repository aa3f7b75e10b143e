"""Builders: sub-models, the bottleneck check, exact sizes, registry, noise only in training, and
the .keras round trip of every kind."""

import math

import keras
import numpy as np
import pytest

import kerasconv
import kerasconv.autoencoders as ae

X = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")


def _assert_varies(reference, name=""):
    """A comparison's reference must be finite and not constant (else equal maps prove nothing)."""
    reference = np.asarray(reference, dtype="float64")
    assert np.all(np.isfinite(reference)), name
    assert float(np.std(reference)) > 1e-6, f"{name}: the reference is constant"


def _small_models():
    return {
        "dense": ae.DenseAutoencoder(latent_dim=8, hidden_units=(32,)),
        "conv": ae.ConvAutoencoder(latent_dim=8, filters=(4, 8)),
        "strided": ae.ConvAutoencoder(latent_dim=8, filters=(4, 8), down="strided"),
        "unpool": ae.ConvAutoencoder(latent_dim=8, filters=(4, 4), up="unpool"),
        "denoising": ae.DenoisingAutoencoder(latent_dim=8, filters=(4, 8)),
        "sparse": ae.SparseAutoencoder(latent_dim=16, hidden_units=(32,)),
        "vae": ae.VAE(latent_dim=2, hidden_units=(32,), seed=0),
        "conv_vae": ae.VAE(latent_dim=4, base="conv", filters=(4, 8), seed=0),
    }


@pytest.fixture(scope="module")
def small_models():
    return _small_models()


def _composed(model, x):
    code = model.encoder(x, training=False)
    if isinstance(model, ae.VariationalAutoencoder):
        code = code[0]
    return np.asarray(model.decoder(code, training=False))


def test_every_builder_has_encoder_decoder_and_composes_exactly(small_models):
    for name, model in small_models.items():
        assert isinstance(model.encoder, keras.Model), name
        assert isinstance(model.decoder, keras.Model), name
        full = np.asarray(model(X, training=False))
        assert full.shape == X.shape, name
        _assert_varies(full, name)
        np.testing.assert_allclose(full, _composed(model, X), atol=1e-6, err_msg=name)
        assert full.min() >= 0.0 and full.max() <= 1.0, name  # sigmoid outputs


def test_code_shapes_and_bits(small_models):
    assert small_models["dense"].latent_dim == 8
    assert ae.code_bits(small_models["dense"]) == 8 * 32
    assert ae.code_bits(small_models["dense"], bits_per_value=8) == 64
    unpool = small_models["unpool"]
    shapes = [tuple(t.shape) for t in unpool.encoder.outputs]
    assert shapes == [(None, 8), (None, 7, 7, 4), (None, 14, 14, 4)]
    # Switches of 2×2 pooling: 2 bits each, 7·7·4 + 14·14·4 of them.
    assert ae.code_bits(unpool, bits_per_value=8) == 8 * 8 + 2 * (7 * 7 * 4 + 14 * 14 * 4)
    assert small_models["vae"].latent_dim == 2
    assert ae.code_bits(small_models["vae"], bits_per_value=8) == 16


def test_dense_parameter_count_by_hand():
    model = ae.DenseAutoencoder(latent_dim=16, hidden_units=(128,))
    expected = (784 * 128 + 128) + (128 * 16 + 16) + (16 * 128 + 128) + (128 * 784 + 784)
    assert model.count_params() == expected == 205_856


def test_bottleneck_must_be_smaller_than_the_input():
    ae.DenseAutoencoder(latent_dim=783, hidden_units=())  # 783 < 784 is allowed
    with pytest.raises(ValueError, match="strictly smaller than the input"):
        ae.DenseAutoencoder(latent_dim=784, hidden_units=())
    with pytest.raises(ValueError, match="strictly smaller"):
        ae.ConvAutoencoder(latent_dim=1000)
    # 16 + 32 filters of switches: 14·14·16·2 + 7·7·32·2 bits, still < 784·32, fine...
    ae.ConvAutoencoder(latent_dim=8, filters=(16, 32), up="unpool")
    # ...but 64 first-stage filters carry 14·14·64·2 = 25,088 bits of switches alone.
    with pytest.raises(ValueError, match="switches"):
        ae.ConvAutoencoder(latent_dim=8, filters=(64, 8), up="unpool")


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: ae.DenseAutoencoder(latent_dim=0), ValueError),
        (lambda: ae.DenseAutoencoder(latent_dim="8"), TypeError),
        (lambda: ae.DenseAutoencoder(input_shape=(28, 28)), ValueError),
        (lambda: ae.ConvAutoencoder(input_shape=(30, 30, 1)), ValueError),
        (lambda: ae.ConvAutoencoder(down="strided", up="unpool"), ValueError),
        (lambda: ae.ConvAutoencoder(down="average"), ValueError),
        (lambda: ae.DenoisingAutoencoder(noise="poisson"), ValueError),
        (lambda: ae.DenoisingAutoencoder(noise="dropout", noise_amount=1.5), ValueError),
        (lambda: ae.SparseAutoencoder(sparsity=0.0), ValueError),
        (lambda: ae.VAE(base="rnn"), ValueError),
        (lambda: ae.Autoencoder("encoder", "decoder"), TypeError),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error):
    with pytest.raises(error):
        call()


def test_registered_in_the_model_registry():
    names = kerasconv.models.list_models("*autoencoder*")
    for name in (
        "dense_autoencoder",
        "conv_autoencoder",
        "conv_autoencoder_strided",
        "conv_autoencoder_unpool",
        "denoising_autoencoder",
        "sparse_autoencoder",
        "variational_autoencoder",
    ):
        assert name in names
        assert kerasconv.models.get_info(name).family == "autoencoder"
    vae = kerasconv.models.create("vae", latent_dim=3, hidden_units=(16,))
    assert isinstance(vae, ae.VariationalAutoencoder) and vae.latent_dim == 3
    strided = kerasconv.models.create("conv_autoencoder_strided", filters=(4, 8))
    assert not any(isinstance(layer, keras.layers.MaxPooling2D) for layer in strided.encoder.layers)
    assert [
        layer.strides for layer in strided.encoder.layers if isinstance(layer, keras.layers.Conv2D)
    ] == [
        (2, 2),
        (2, 2),
    ]


def test_corruption_only_while_training(small_models):
    model = small_models["denoising"]
    assert isinstance(model.encoder.get_layer("corruption"), keras.layers.GaussianNoise)
    clean = model.encoder(X, training=False)
    np.testing.assert_array_equal(clean, model.encoder(X, training=False))
    noisy = model.encoder(X, training=True)
    assert float(np.abs(np.asarray(noisy) - np.asarray(clean)).max()) > 1e-3
    # What the encoder sees in training: X + N(0, 0.3²) — its first layer's output has σ ≈ 0.3.
    corrupted = model.encoder.get_layer("corruption")(X, training=True)
    # 3 × 784 draws: the standard error of their std is 0.3 / sqrt(2 · 2352) = 0.0044; 0.03 is 7×.
    assert abs(float(np.std(np.asarray(corrupted) - X)) - 0.3) < 0.03


def test_sparse_regulariser_is_on_the_code(small_models):
    model = small_models["sparse"]
    latent = model.encoder.get_layer("latent")
    assert float(latent.activity_regularizer.l1) == pytest.approx(1e-3)
    model(X, training=True)
    code = np.asarray(model.encoder(X))
    assert float(np.asarray(model.losses[0])) == pytest.approx(
        1e-3 * np.abs(code).sum() / len(X), rel=1e-4
    )


def test_sampling_layer_and_kl_by_hand():
    mean = np.full((20_000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20_000, 2), [0.0, math.log(4.0)], "float32")
    z = np.asarray(ae.Sampling(seed=1)([mean, log_var]))
    # 20,000 draws: standard errors 0.014 (mean, σ = 2) and 0.01 (std); 0.05 is over 3.5×.
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 2.0], atol=0.05)
    kl = np.asarray(ae.kl_divergence(np.array([[1.0, 0.0]]), np.array([[0.0, math.log(2.0)]])))
    # -½[(1 + 0 − 1 − 1) + (1 + ln 2 − 0 − 2)] = 1 − ln(2)/2
    np.testing.assert_allclose(kl, [1.0 - math.log(2.0) / 2], rtol=1e-6)


def test_keras_round_trip_of_every_kind(small_models, tmp_path):
    for name, model in small_models.items():
        path = tmp_path / f"{name}.keras"
        _assert_varies(model(X, training=False), name)
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(model), name
        assert isinstance(loaded.encoder, keras.Model) and isinstance(loaded.decoder, keras.Model)
        np.testing.assert_allclose(
            np.asarray(loaded(X, training=False)),
            np.asarray(model(X, training=False)),
            atol=1e-6,
            err_msg=name,
        )
        np.testing.assert_allclose(_composed(loaded, X), _composed(model, X), atol=1e-6)
