"""LocallyConnected2D and TiledConv2D: hand-computed values and the two tiling identities."""

import keras
import numpy as np
import pytest

from kerasconv.layers import LocallyConnected2D, TiledConv2D, tiled_kernel_from_locally_connected


def test_locally_connected_hand_computed_values():
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    layer = LocallyConnected2D(1, 2)
    layer.build(x.shape)
    # Position p (row-major) has all weights p + 1 and bias 10 * p.
    kernel = np.repeat(np.arange(1, 5, dtype="float32"), 4).reshape(4, 4, 1)
    layer.set_weights([kernel, 10.0 * np.arange(4, dtype="float32").reshape(2, 2, 1)])
    sums = np.array([[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    expected = sums * np.array([[1, 2], [3, 4]]) + np.array([[0, 10], [20, 30]])
    np.testing.assert_array_equal(layer(x).numpy()[0, ..., 0], expected)
    assert layer.count_params() == 4 * 4 + 4


def test_locally_connected_matches_direct_loops():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 6, 3)).astype("float32")
    layer = LocallyConnected2D(4, (3, 2), strides=(2, 1), bias_initializer="random_normal")
    out = layer(x).numpy()
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    oh, ow = out.shape[1:3]
    assert (oh, ow) == (3, 5)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, 2 * i : 2 * i + 3, j : j + 2, :].reshape(2, -1)
            np.testing.assert_allclose(
                out[:, i, j], patch @ kernel[i * ow + j] + bias[i, j], rtol=1e-5, atol=1e-5
            )


def test_tiled_hand_computed_values():
    # 1x1 kernel, tile 2: filter banks 1, 2, 3, 4 repeat every 2 positions.
    layer = TiledConv2D(1, 1, tile_size=2, use_bias=False)
    layer.build((1, 4, 5, 1))
    layer.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1, 1, 1)])
    out = layer(np.ones((1, 4, 5, 1), "float32")).numpy()[0, ..., 0]
    row_a, row_b = [1, 2, 1, 2, 1], [3, 4, 3, 4, 3]
    np.testing.assert_array_equal(out, [row_a, row_b, row_a, row_b])
    assert layer.count_params() == 4


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 1), ("valid", 2), ("same", 2)])
def test_tile_size_one_equals_conv2d(padding, strides):
    x = np.random.default_rng(1).normal(size=(2, 7, 6, 3)).astype("float32")
    conv = keras.layers.Conv2D(
        4, 3, strides=strides, padding=padding, bias_initializer="random_normal"
    )
    expected = conv(x).numpy()
    tiled = TiledConv2D(4, 3, tile_size=1, strides=strides, padding=padding)
    tiled.build(x.shape)
    tiled.set_weights([conv.kernel.numpy()[None, None], conv.bias.numpy()[None, None]])
    np.testing.assert_allclose(tiled(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert tiled.count_params() == conv.count_params()


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2)])
def test_tile_size_equal_to_output_equals_locally_connected(padding, strides):
    x = np.random.default_rng(2).normal(size=(2, 7, 6, 3)).astype("float32")
    local = LocallyConnected2D(
        4, 3, strides=strides, padding=padding, bias_initializer="random_normal"
    )
    expected = local(x).numpy()
    out_hw = expected.shape[1:3]
    tiled = TiledConv2D(4, 3, tile_size=out_hw, strides=strides, padding=padding)
    tiled.build(x.shape)
    kernel = tiled_kernel_from_locally_connected(local.kernel.numpy(), out_hw, (3, 3), 3)
    tiled.set_weights([kernel, local.bias.numpy()])
    np.testing.assert_allclose(tiled(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert tiled.count_params() == local.count_params()


def test_local_layers_reject_bad_arguments():
    with pytest.raises(ValueError, match="filters"):
        TiledConv2D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        LocallyConnected2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="tile_size"):
        TiledConv2D(2, 3, tile_size=(1, 2, 3))
    with pytest.raises(ValueError, match="larger than the input"):
        LocallyConnected2D(2, 5)(keras.Input((3, 3, 1)))
