"""Autoencoders trained once per session on the real digits at 28×28 (small, a few seconds each)."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def trained_dense(digits_28):
    """A dense autoencoder (784-64-16-64-784), 8 epochs of Adam on the 1,438 training digits."""
    import keras

    import kerasconv.autoencoders as ae

    keras.utils.set_random_seed(0)  # before building: the initial weights are seeded too
    model = ae.DenseAutoencoder(latent_dim=16, hidden_units=(64,))
    ae.fit(model, digits_28[0], epochs=8, batch_size=32, seed=0)
    return model


@pytest.fixture(scope="session")
def trained_denoising(digits_28):
    """The same architecture trained with Gaussian corruption (σ = 0.3) at its input."""
    import keras

    import kerasconv.autoencoders as ae

    keras.utils.set_random_seed(0)  # before building: the initial weights are seeded too
    model = ae.DenoisingAutoencoder(
        base="dense", latent_dim=16, hidden_units=(64,), noise="gaussian", noise_amount=0.3
    )
    ae.fit(model, digits_28[0], epochs=8, batch_size=32, seed=0)
    return model


@pytest.fixture(scope="session")
def trained_vae(digits_28):
    """A dense VAE with a 2-D code, with its test ELBO before and after 6 epochs of training."""
    import keras

    import kerasconv.autoencoders as ae

    x_train, _, x_test, _ = digits_28
    keras.utils.set_random_seed(0)  # the VAE's seed covers its sampling noise, not its weights
    model = ae.VAE(latent_dim=2, hidden_units=(64,), seed=0)
    model.compile("adam")
    before = ae.elbo(model, x_test)
    history = ae.fit(model, x_train, validation_data=x_test, epochs=6, batch_size=32, seed=0)
    after = ae.elbo(model, x_test)
    return model, before, after, history


@pytest.fixture(scope="session")
def test_images(digits_28):
    return np.asarray(digits_28[2])
