"""LeNet-5's Subsampling2D, ConnectionTableConv2D and lecun_tanh: hand-computed values."""

import numpy as np

from kerasconv.layers import LENET5_C3_TABLE, ConnectionTableConv2D, Subsampling2D, lecun_tanh


def test_lecun_tanh_values():
    np.testing.assert_allclose(
        lecun_tanh(np.array([0.0, 1.0, -1.5], "float32")).numpy(),
        [0.0, 1.7159 * np.tanh(2 / 3), 1.7159 * np.tanh(-1.0)],
        rtol=1e-6,
    )
    assert abs(float(lecun_tanh(np.float32(1.0))) - 1.0) < 2e-3  # f(1) ~ 1 by design


def test_subsampling_hand_computed_values():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    layer = Subsampling2D(2)
    layer.build(x.shape)
    layer.set_weights([np.array([0.5], "float32"), np.array([1.0], "float32")])
    # 2x2 sums: 0+1+4+5=10, 2+3+6+7=18, 8+9+12+13=42, 10+11+14+15=50; times 0.5 plus 1.
    np.testing.assert_allclose(layer(x).numpy()[0, ..., 0], [[6.0, 10.0], [22.0, 26.0]])
    squashed = Subsampling2D(2, activation=lecun_tanh)
    squashed.build(x.shape)
    squashed.set_weights([np.array([0.05], "float32"), np.array([0.0], "float32")])
    np.testing.assert_allclose(
        squashed(x).numpy()[0, 0, 0, 0], 1.7159 * np.tanh(2 / 3 * 0.5), rtol=1e-6
    )
    assert layer.count_params() == 2


def test_connection_table_hand_computed_values():
    # Output 0 sees map 0 only; output 1 sees maps 0 and 1. 1x1 kernels.
    layer = ConnectionTableConv2D(((0,), (0, 1)), kernel_size=1)
    x = np.array([[[[2.0, 3.0]]]], "float32")
    layer.build(x.shape)
    layer.set_weights([np.array([[[10.0, 1.0, 100.0]]], "float32"), np.array([0.5, -1.0])])
    # out0 = 10*2 + 0.5; out1 = 1*2 + 100*3 - 1.
    np.testing.assert_allclose(layer(x).numpy().ravel(), [20.5, 301.0])
    assert layer.count_params() == 3 + 2


def test_lenet5_c3_parameter_count():
    layer = ConnectionTableConv2D(LENET5_C3_TABLE, kernel_size=5)
    assert layer(np.zeros((1, 14, 14, 6), "float32")).shape == (1, 10, 10, 16)
    assert layer.count_params() == 1516
