"""Codes as features: linear probes (``kerasconv.transfer.linear_probe``, tested in
tests/transfer) beside supervised features; sparsity of the sparse code."""

import numpy as np

import kerasconv.autoencoders as ae


def test_autoencoder_codes_are_weaker_than_supervised_features(trained_dense, digits_28):
    x_train, y_train, x_test, y_test = digits_28
    rows = ae.feature_comparison(trained_dense, x_train, y_train, x_test, y_test, twin_epochs=8)
    accuracy = {row["features"].split(" (")[0]: row["accuracy"] for row in rows}
    dimension = {row["features"].split(" (")[0]: row["dimension"] for row in rows}
    assert dimension == {"raw pixels": 784, "autoencoder code": 16, "supervised twin code": 16}
    assert accuracy["raw pixels"] > 0.93
    assert accuracy["autoencoder code"] > 0.85  # learned without labels, far above 10% chance
    # The lecture's claim, measured with the same encoder architecture and code width:
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
    assert rows[-1]["accuracy"] > rows[1]["accuracy"]


def test_sparse_penalty_silences_code_units(digits_28):
    x = digits_28[0][:300]
    active = {}
    for sparsity in (0.0, 1e-2):
        model = ae.DenseAutoencoder(
            latent_dim=32, hidden_units=(32,), latent_activation="relu", sparsity=sparsity
        )
        ae.fit(model, x, epochs=2, seed=0)
        active[sparsity] = float(np.mean(ae.encode(model, digits_28[2]) > 0))
    assert active[1e-2] < 0.5 * active[0.0], active
