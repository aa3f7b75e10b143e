"""Codes as features: linear probes (``kerasconv.transfer.linear_probe``, tested in
tests/transfer) beside supervised features; sparsity of the sparse code."""

import keras
import numpy as np

import kerasconv.autoencoders as ae


def test_autoencoder_codes_are_weaker_than_supervised_features(trained_dense, digits_28):
    x_train, y_train, x_test, y_test = digits_28
    rows = ae.feature_comparison(trained_dense, x_train, y_train, x_test, y_test, twin_epochs=8)
    accuracy = {row["features"].split(" (")[0]: row["accuracy"] for row in rows}
    dimension = {row["features"].split(" (")[0]: row["dimension"] for row in rows}
    assert dimension == {"raw pixels": 784, "autoencoder code": 16, "supervised twin code": 16}
    # Over fixture seeds 0-4, oneDNN on and off: raw pixels 0.955 in every run (no trained model
    # involved); autoencoder code 0.925-0.947 (sd 0.008), far above the 10% chance.
    assert accuracy["raw pixels"] > 0.93
    assert accuracy["autoencoder code"] > 0.85  # learned without labels, far above 10% chance
    # The lecture's claim, measured with the same encoder architecture and code width: the twin
    # led by 0.022-0.045 (mean 0.033, sd 0.009: 0 is 3.7 sd under the mean), never less.
    assert accuracy["supervised twin code"] > accuracy["autoencoder code"]


def test_supervised_features_of_another_model(trained_dense, trained_lenet, digits_28):
    # 500 training images keep the three probes quick; LeNet-5 gets the digits resized to 32×32.
    x_train, y_train, x_test, y_test = (a[:500] for a in digits_28)
    rows = ae.feature_comparison(
        trained_dense,
        x_train,
        y_train,
        x_test,
        y_test,
        supervised=trained_lenet,
        supervised_layer="f6",
    )
    assert rows[-1]["dimension"] == 84
    # LeNet-5's f6 ahead of the code was measured at only 0.011-0.053 (sd 0.012) on 500 training
    # images over fixture seeds 0-4 with oneDNN on and off: too close to order them here (the
    # twin test above does). Each is checked against its own spread instead: LeNet-5's f6
    # 0.953-0.978 (sd 0.008), the code 0.925-0.942 (sd 0.008); bounds more than 5 sd below.
    assert rows[-1]["accuracy"] > 0.9
    assert rows[1]["accuracy"] > 0.88


def test_sparse_penalty_silences_code_units(digits_28):
    x = digits_28[0][:300]
    active = {}
    for sparsity in (0.0, 1e-2):
        keras.utils.set_random_seed(0)  # before building: both start from the same weights
        model = ae.DenseAutoencoder(
            latent_dim=32, hidden_units=(32,), latent_activation="relu", sparsity=sparsity
        )
        ae.fit(model, x, epochs=2, seed=0)
        active[sparsity] = float(np.mean(ae.encode(model, digits_28[2]) > 0))
    # Measured over seeds 0-4, oneDNN on and off: active fraction 0.43-0.62 without the penalty,
    # 0.00-0.20 with it. Their ratio is skewed (often 0, up to 0.33) so the test uses the
    # difference, 0.371-0.472 (sd 0.036): 0.25 is its minimum less 3.3 sd.
    assert active[0.0] - active[1e-2] > 0.25, active
