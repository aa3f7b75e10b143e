"""Keras's own layer-testing harness run on every layer in ``kerasconv.layers``.

``keras.src.testing.TestCase.run_layer_test`` (Keras, Apache License 2.0) is the contract Keras's
own layers are tested against: instantiation and ``get_config``/``from_config`` round trips,
build, symbolic and eager calls with the expected output shape, the number of weights, a
``fit`` with the layer inside a model, serialization of a model holding the layer, and the same
under a ``mixed_float16`` dtype policy; with ``assert_built_after_instantiation=True`` it also
checks that a stateless layer is built as soon as it is made, as Keras's stateless layers are.
Nothing of Keras's is copied here: the harness is imported and called, with the arguments Keras's
own tests pass for the nearest Keras layer (pooling, normalisation, convolution).
"""

import inspect

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

import kerasconv
from kerasconv import layers as kl

_RNG = np.random.default_rng(0)
_D = 2 * 2 * 1
_A = _RNG.normal(size=(_D, _D))
# A symmetric positive definite whitening matrix and a mean, as a user would bring from elsewhere.
_W = np.linalg.inv(np.linalg.cholesky(_A @ _A.T + np.eye(_D)))
_W = (_W.T @ _W + np.eye(_D)).tolist()
_MEAN = _RNG.normal(size=_D).tolist()

# name: (class, init kwargs, input shape(s), expected output shape(s), trainable, non-trainable,
#        stateless)
CASES = {
    "LocalResponseNormalization": (
        kl.LocalResponseNormalization,
        dict(depth_radius=1),
        (2, 3, 3, 4),
        (2, 3, 3, 4),
        0,
        0,
        True,
    ),
    "LocalContrastNormalization": (
        kl.LocalContrastNormalization,
        dict(kernel_size=3, sigma=1.0),
        (2, 5, 5, 2),
        (2, 5, 5, 2),
        0,
        0,
        True,
    ),
    "Maxout": (kl.Maxout, dict(num_pieces=2), (2, 3, 3, 4), (2, 3, 3, 2), 0, 0, True),
    "MaxPoolingWithArgmax2D": (
        kl.MaxPoolingWithArgmax2D,
        dict(pool_size=2),
        (2, 4, 4, 3),
        ((2, 2, 2, 3), (2, 2, 2, 3)),
        0,
        0,
        True,
    ),
    "CoveringMaxPooling2D": (
        kl.CoveringMaxPooling2D,
        dict(pool_size=3, strides=2),
        (2, 6, 6, 3),
        (2, 3, 3, 3),
        0,
        0,
        True,
    ),
    "LocallyConnected2D": (
        kl.LocallyConnected2D,
        dict(filters=3, kernel_size=2),
        (2, 4, 4, 2),
        (2, 3, 3, 3),
        2,
        0,
        False,
    ),
    "TiledConv2D": (
        kl.TiledConv2D,
        dict(filters=3, kernel_size=2, tile_size=2),
        (2, 5, 5, 2),
        (2, 4, 4, 3),
        2,
        0,
        False,
    ),
    "Subsampling2D": (kl.Subsampling2D, dict(pool_size=2), (2, 4, 4, 3), (2, 2, 2, 3), 2, 0, False),
    "ConnectionTableConv2D": (
        kl.ConnectionTableConv2D,
        dict(table=((0,), (0, 1), (1, 2)), kernel_size=3),
        (2, 5, 5, 3),
        (2, 3, 3, 3),
        None,
        0,
        False,
    ),
    "ZCAWhitening": (
        kl.ZCAWhitening,
        dict(epsilon=0.1, mean=_MEAN, whitening_matrix=_W),
        (3, 2, 2, 1),
        (3, 2, 2, 1),
        0,
        5,
        False,
    ),
    "ZCAWhitening (unadapted)": (
        kl.ZCAWhitening,
        dict(epsilon=0.1),
        (3, 2, 2, 1),
        (3, 2, 2, 1),
        0,
        5,
        False,
    ),
}


def _harness():
    # A plain TestCase instance gives the harness's assertion methods outside unittest's runner.
    case = TestCase()
    case.setUp()
    return case


def test_every_layer_of_the_package_is_covered():
    classes = {
        obj
        for obj in vars(kl).values()
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
    }
    covered = {case[0] for case in CASES.values()} | {kl.MaxUnpooling2D}  # its own test below
    assert classes, "kerasconv.layers exports no layers?"
    assert classes <= covered, f"not run through the harness: {classes - covered}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_layer_harness(name):
    cls, kwargs, input_shape, output_shape, trainable, non_trainable, stateless = CASES[name]
    _harness().run_layer_test(
        cls,
        init_kwargs=kwargs,
        input_shape=input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=non_trainable,
        expected_num_seed_generators=0,
        expected_num_losses=0,
        supports_masking=False,
        assert_built_after_instantiation=stateless,
    )


def test_max_unpooling_harness():
    # Two inputs (pooled values and int64 switches): the harness takes the data itself.
    pooled = np.random.default_rng(1).random((2, 2, 2, 3)).astype("float32")
    switches = np.array([0, 1, 4, 5, 8, 9, 12, 13] * 3, dtype="int64").reshape(2, 2, 2, 3) * 3
    switches = switches + np.arange(3).reshape(1, 1, 1, 3)
    _harness().run_layer_test(
        kl.MaxUnpooling2D,
        init_kwargs=dict(size=2),
        input_data=[pooled, switches],
        expected_output_shape=(2, 4, 4, 3),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=0,
        expected_num_losses=0,
        supports_masking=False,
        run_training_check=False,
        assert_built_after_instantiation=True,
    )


def test_zca_given_statistics_match_adapted_ones():
    # The same layer twice: adapted on data, and built from the adapted mean and matrix.
    x = np.random.default_rng(2).random((200, 2, 2, 1)).astype("float32")
    adapted = kl.ZCAWhitening(epsilon=1e-3)
    adapted.adapt(x)
    given = kl.ZCAWhitening(
        epsilon=1e-3,
        mean=adapted.mean.numpy(),
        whitening_matrix=adapted.whitening_matrix.numpy(),
    )
    reference = adapted(x).numpy()
    assert reference.std() > 0.5  # whitened data has unit variance, not zeros
    np.testing.assert_allclose(given(x).numpy(), reference, rtol=0, atol=1e-4)
    np.testing.assert_allclose(given.inverse(reference).numpy(), x, rtol=0, atol=1e-4)
    np.testing.assert_allclose(
        given.eigenvalues.numpy(), adapted.eigenvalues.numpy(), rtol=1e-3, atol=1e-5
    )
    # Unadapted: the identity, as an unadapted keras.layers.Normalization.
    identity = kl.ZCAWhitening()
    np.testing.assert_array_equal(identity(x).numpy(), x)
    assert not identity.adapted and given.adapted
    assert kerasconv.layers.ZCAWhitening.from_config(given.get_config()).adapted
