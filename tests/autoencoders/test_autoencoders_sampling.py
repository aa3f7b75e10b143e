"""The VAE's ``Sampling`` layer under Keras's own layer-testing harness (build, symbolic and eager
calls, serialization, seed generators, mixed precision) and in half precision."""

import math

import keras
import numpy as np
import pytest
from keras.src import testing

import kerasconv.autoencoders as ae


class _Harness(testing.TestCase):
    __test__ = False  # a helper, not a test case for pytest to collect

    def runTest(self):  # unittest needs one test method to instantiate the case
        pass


def test_sampling_passes_the_keras_layer_test_harness():
    # run_layer_test's last step calls the layer under mixed_float16 and checks that the output
    # has the policy's compute dtype (float32 noise beside float16 means used to fail it).
    _Harness().run_layer_test(
        ae.Sampling,
        init_kwargs={"seed": 1},
        input_shape=[(2, 3), (2, 3)],
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1,
        supports_masking=False,
        run_training_check=False,
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sampling_in_half_precision_has_the_right_moments(dtype):
    layer = ae.Sampling(seed=1, dtype=f"mixed_{dtype}")
    mean = np.full((20_000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20_000, 2), [0.0, math.log(4.0)], "float32")
    z = layer([mean, log_var])
    assert z.dtype == dtype
    z = np.asarray(keras.ops.cast(z, "float32"))
    # Standard errors of 20,000 draws: 0.007 (mean), 0.005·σ (std); half-precision rounding of
    # values near 2 is 2e-3 (float16) or 1.6e-2 (bfloat16), so 0.05 leaves a wide margin.
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 2.0], atol=0.05)
