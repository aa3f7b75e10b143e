"""tf-keras-vis's Grad-CAM and Grad-CAM++ tests, run against kerasconv.

Adapted from tf-keras-vis (https://github.com/keisen/tf-keras-vis, MIT licence, Copyright (c) 2019
keisen), files ``tests/tf-keras-vis/gradcam_test.py`` (commit 0dd534b),
``tests/tf_keras_vis/gradcam_test.py`` and ``tests/tf_keras_vis/gradcam_plus_plus_test.py`` (commit
19489dc). The calls are translated to kerasconv's API; the assertions are theirs, unchanged. The
mock models, ``dummy_sample`` and the fixtures are those of ``test_tf_keras_vis_saliency.py``.

Translation: ``Gradcam(model)(score, seed_input, penultimate_layer=L, expand_cam=e)`` is
``grad_cam(model, x, target, layer=L, upsample=e)``; ``GradcamPlusPlus`` is
``grad_cam_plus_plus``. ``seek_penultimate_conv_layer=True`` with a non-spatial layer searches
backwards for the last spatial layer in tf-keras-vis; kerasconv does that only for ``layer=None``
and otherwise reports the layer as non-spatial, so those cases carry the convention marks below.

Deliberate differences (``xfail(strict=True)``, reason given): ``scores=None`` (kerasconv uses the
prediction), ``seed_input=None`` (a ``TypeError``), lists of arrays (one batch for a one-input
model), a layer given by index or by a non-name object (a ``TypeError``: kerasconv names layers),
and seeking back from a non-spatial layer. Not adapted: ``normalize_gradient`` (kerasconv has no
such option), ``activation_modifier=None`` (kerasconv's Grad-CAM++ always applies the ReLU of the
paper) and the multiple-input classes.
"""

import keras
import pytest

import tests.peers.test_tf_keras_vis_saliency as saliency_tests
from kerasconv import visualize
from tests.peers.test_tf_keras_vis_saliency import (
    LIST_INPUT,
    NONE_INPUT,
    NONE_TARGET,
    MockScore,
    convention,
    does_not_raise,
    dummy_sample,
    mock_conv_model,
)

# The fixture models of the saliency tests.
conv_model = saliency_tests.conv_model
dense_model = saliency_tests.dense_model
multiple_outputs_model = saliency_tests.multiple_outputs_model

LAYER_INDEX = convention("layers are named; an index is a TypeError")
LAYER_OBJECT = convention("a layer argument that is not a name is a TypeError")
SEEK_BACK = convention("a named non-spatial layer is an error, not a start for a backward search")


def gradcam(model, scores, seed_input, penultimate_layer=None, expand_cam=True, output=None):
    """tf-keras-vis's ``Gradcam(model)(scores, seed_input, ...)`` in kerasconv's terms."""
    if isinstance(scores, list) and len(scores) == 1:
        scores = scores[0]
    return visualize.grad_cam(
        model, seed_input, scores, layer=penultimate_layer, upsample=expand_cam, output=output
    )


class TestGradcamWithDenseModel:
    def test__call__(self, dense_model):
        with pytest.raises(ValueError):
            result = gradcam(dense_model, MockScore(), dummy_sample((1, 8, 8, 3)))
            assert result.shape == (1, 8, 8)


class TestGradcam:
    @pytest.mark.parametrize(
        "scores,expectation",
        [
            pytest.param(None, pytest.raises(ValueError), marks=NONE_TARGET),
            (MockScore(), does_not_raise()),
            ([MockScore()], does_not_raise()),
        ],
    )
    def test__call__if_score_is_(self, scores, expectation, conv_model):
        with expectation:
            result = gradcam(conv_model, scores, dummy_sample((1, 8, 8, 3)))
            assert result.shape == (1, 8, 8)

    @pytest.mark.parametrize(
        "seed_input,expected,expectation",
        [
            pytest.param(None, None, pytest.raises(ValueError), marks=NONE_INPUT),
            (dummy_sample((8,)), None, pytest.raises(ValueError)),
            (dummy_sample((8, 8, 3)), (1, 8, 8), does_not_raise()),
            pytest.param(
                [dummy_sample((8, 8, 3))], [(1, 8, 8)], does_not_raise(), marks=LIST_INPUT
            ),
            (dummy_sample((1, 8, 8, 3)), (1, 8, 8), does_not_raise()),
            pytest.param(
                [dummy_sample((1, 8, 8, 3))], [(1, 8, 8)], does_not_raise(), marks=LIST_INPUT
            ),
        ],
    )
    def test__call__if_seed_input_is_(self, seed_input, expected, expectation, conv_model):
        with expectation:
            result = gradcam(conv_model, MockScore(), seed_input)
            if type(expected) is list:
                assert type(result) is list
                expected = expected[0]
                result = result[0]
            assert result.shape == expected

    @pytest.mark.parametrize(
        "penultimate_layer,seek_penultimate_conv_layer,expectation",
        [
            (None, True, does_not_raise()),
            pytest.param(-1, True, does_not_raise(), marks=LAYER_INDEX),
            pytest.param("dense-1", True, does_not_raise(), marks=SEEK_BACK),
            ("dense-1", False, pytest.raises(ValueError)),
            pytest.param(1, False, does_not_raise(), marks=LAYER_INDEX),
            pytest.param(1, True, does_not_raise(), marks=LAYER_INDEX),
            ("conv-1", True, does_not_raise()),
            pytest.param(0, True, pytest.raises(ValueError), marks=LAYER_INDEX),
            ("inupt-1", True, pytest.raises(ValueError)),
            pytest.param(MockScore(), True, pytest.raises(ValueError), marks=LAYER_OBJECT),
        ],
    )
    def test__call__if_penultimate_layer_is(
        self, penultimate_layer, seek_penultimate_conv_layer, expectation, conv_model
    ):
        with expectation:
            result = gradcam(
                conv_model,
                MockScore(),
                dummy_sample((1, 8, 8, 3)),
                penultimate_layer=penultimate_layer,
            )
            assert result.shape == (1, 8, 8)

    def test__call__if_expand_cam_is_False(self, conv_model):
        result = gradcam(conv_model, MockScore(), dummy_sample((1, 8, 8, 3)), expand_cam=False)
        assert result.shape == (1, 6, 6)


class TestGradcamWithMultipleOutputsModel:
    @pytest.mark.parametrize(
        "scores,expectation",
        [
            pytest.param(None, pytest.raises(ValueError), marks=NONE_TARGET),
            pytest.param([None], pytest.raises(ValueError), marks=NONE_TARGET),
            (MockScore(), does_not_raise()),
            ([MockScore()], does_not_raise()),
        ],
    )
    def test__call__if_score_is_(self, scores, expectation, multiple_outputs_model):
        with expectation:
            result = gradcam(
                multiple_outputs_model, scores, dummy_sample((1, 8, 8, 3)), output="dense-1"
            )
            assert result.shape == (1, 8, 8)


class TestGradcamWithMixedPrecision:
    def test__call__with_single_io(self, tmp_path):
        keras.config.set_dtype_policy("mixed_float16")
        try:
            model = mock_conv_model()
            self._test_for_single_io(model)
            path = str(tmp_path / "single_io.keras")
            model.save(path)
        finally:
            keras.config.set_dtype_policy("float32")
        model = keras.models.load_model(path)
        self._test_for_single_io(model)

    def _test_for_single_io(self, model):
        result = gradcam(model, MockScore(), dummy_sample((1, 8, 8, 3)))
        assert result.shape == (1, 8, 8)


class TestGradcamPlusPlus:
    def test__call__if_activation_modifier_is_relu(self, conv_model):
        result = visualize.grad_cam_plus_plus(conv_model, dummy_sample((1, 8, 8, 3)), 0)
        assert result.shape == (1, 8, 8)
