"""tf-keras-vis's saliency tests, run against kerasconv.

Adapted from tf-keras-vis (https://github.com/keisen/tf-keras-vis, MIT licence, Copyright (c) 2019
keisen), file ``tests/tf-keras-vis/saliency_test.py`` (commit 0dd534b) and
``tests/tf_keras_vis/saliency_test.py`` (commit 9beb421); its mock models and ``dummy_sample`` come
from ``tf_keras_vis/utils/test.py`` and its model fixtures from ``tests/tf_keras_vis/conftest.py``.
The calls are translated to kerasconv's API; the assertions are theirs, unchanged.

Translation: ``Saliency(model)(score, seed_input, keepdims=k, smooth_samples=n)`` is
``saliency_map(model, x, target, reduce_channels=None if k else "max_abs")`` (``smoothgrad(...,
samples=n)`` when smoothing); ``MockScore()`` (the output itself as the score) is the score
function ``lambda outputs, target: outputs``, ``CategoricalScore(0)`` is ``target=0``. The fixture
models are written afresh with the same layers, and tf-keras-vis's ``.h5`` round trip is a
``.keras`` round trip. The multi-output model's output is chosen with ``output=`` (kerasconv scores
one output per call).

Cases where kerasconv deliberately differs are kept and marked ``xfail(strict=True)`` with the
convention as the reason (so a change of behaviour is noticed):
* ``scores=None``: kerasconv uses the model's own prediction (as CleverHans does), no error;
* ``seed_input=None``: a ``TypeError`` (wrong type), not a ``ValueError``;
* a list of arrays is read as one batch (kerasconv models have one image input), so the result is
  an array, not a list;
* non-image inputs (the dense model's ``(3,)`` vectors): kerasconv's visualisers take images.
Not adapted: the multiple-*input* classes (kerasconv's visualisers take one image input).
"""

from contextlib import nullcontext

import keras
import numpy as np
import pytest

from kerasconv import visualize

# --- tf-keras-vis's test utilities, rewritten for Keras 3 -------------------------------------


def dummy_sample(shape, dtype=np.float32):
    return np.arange(int(np.prod(shape))).reshape(shape).astype(dtype)


def does_not_raise():
    # A reusable context manager: the parametrised cases run once per fixture model.
    return nullcontext()


class MockScore:
    """tf-keras-vis's MockScore: the model's output is the score (kerasconv score function)."""

    def __call__(self, outputs, target):
        return outputs

    # Every MockScore is the same score function, so kerasconv's compiled engines are reused.
    def __eq__(self, other):
        return isinstance(other, MockScore)

    def __hash__(self):
        return hash(MockScore)


def mock_dense_model():
    inputs = keras.Input((3,), name="input-1")
    x = keras.layers.Dense(5, activation="relu", name="dense-1")(inputs)
    x = keras.layers.Dense(2, activation="softmax", name="dense-2")(x)
    return keras.Model(inputs, x)


def mock_conv_model(output_dtype=None):
    inputs = keras.Input((8, 8, 3), name="input-1")
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv-1")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(2, activation="softmax", name="dense-1", dtype=output_dtype)(x)
    return keras.Model(inputs, x)


def mock_multiple_outputs_model():
    inputs = keras.Input((8, 8, 3), name="input-1")
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv-1")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x1 = keras.layers.Dense(2, activation="softmax", name="dense-1")(x)
    x2 = keras.layers.Dense(1, name="dense-2")(x)
    return keras.Model(inputs, [x1, x2])


# tf-keras-vis's conftest builds each fixture model as is and after a save/load round trip, in
# float32 and mixed_float16; here each is built in float32 and in mixed_float16 (module scope keeps
# the suite fast); the save/load round trips are in TestSaliencyWithMixedPrecision.
SOURCES = ["float32", "mixed_float16"]


def _build(builder, source, folder):
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("float32" if source == "float32" else "mixed_float16")
    try:
        model = builder()
    finally:
        keras.config.set_dtype_policy(previous)
    if source.endswith("_saved"):
        path = str(folder / "model.keras")
        model.save(path)
        model = keras.models.load_model(path)
    return model


@pytest.fixture(scope="module", params=SOURCES)
def conv_model(request, tmp_path_factory):
    return _build(mock_conv_model, request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module", params=SOURCES)
def dense_model(request, tmp_path_factory):
    return _build(mock_dense_model, request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module", params=SOURCES)
def multiple_outputs_model(request, tmp_path_factory):
    return _build(
        mock_multiple_outputs_model, request.param, tmp_path_factory.mktemp(request.param)
    )


def convention(reason):
    return pytest.mark.xfail(strict=True, reason=f"kerasconv convention: {reason}")


NONE_TARGET = convention("target None is the model's own prediction, not an error")
NONE_INPUT = convention("a None input is a TypeError (wrong type), not a ValueError")
LIST_INPUT = convention("a list of arrays is one batch for a one-input model, not a list")
VECTORS = convention("the visualisers take image batches, not vectors")


def saliency(model, scores, seed_input, keepdims=False, smooth_samples=0, output=None):
    """tf-keras-vis's ``Saliency(model)(scores, seed_input, ...)`` in kerasconv's terms."""
    if isinstance(scores, list) and len(scores) == 1:
        scores = scores[0]  # one score for the one scored output; longer lists go to kerasconv
    reduce = None if keepdims else "max_abs"
    if smooth_samples:
        return visualize.smoothgrad(
            model, seed_input, scores, samples=smooth_samples, reduce_channels=reduce, output=output
        )
    return visualize.saliency_map(model, seed_input, scores, reduce_channels=reduce, output=output)


# --- the tests --------------------------------------------------------------------------------


class TestSaliency:
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
            result = saliency(conv_model, scores, dummy_sample((1, 8, 8, 3)))
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
            result = saliency(conv_model, MockScore(), seed_input)
            if type(expected) is list:
                assert type(result) is list
                expected = expected[0]
                result = result[0]
            assert result.shape == expected

    @pytest.mark.parametrize("keepdims,expected", [(False, (1, 8, 8)), (True, (1, 8, 8, 3))])
    def test__call__if_keepdims_is_(self, keepdims, expected, conv_model):
        result = saliency(conv_model, MockScore(), dummy_sample((1, 8, 8, 3)), keepdims=keepdims)
        assert result.shape == expected

    @pytest.mark.parametrize("smooth_samples", [1, 3])
    def test__call__if_smoothing_is_active(self, smooth_samples, conv_model):
        result = saliency(
            conv_model, MockScore(), dummy_sample((1, 8, 8, 3)), smooth_samples=smooth_samples
        )
        assert result.shape == (1, 8, 8)

    @VECTORS
    def test__call__if_model_has_only_dense_layers(self, dense_model):
        result = saliency(dense_model, MockScore(), dummy_sample((3,)), keepdims=True)
        assert result.shape == (1, 3)


class TestSaliencyWithMultipleOutputsModel:
    @pytest.mark.parametrize(
        "scores,expectation",
        [
            pytest.param(None, pytest.raises(ValueError), marks=NONE_TARGET),
            pytest.param([None], pytest.raises(ValueError), marks=NONE_TARGET),
            (MockScore(), does_not_raise()),
            ([MockScore()], does_not_raise()),
            ([MockScore(), None], pytest.raises(ValueError)),
        ],
    )
    def test__call__if_score_is_(self, scores, expectation, multiple_outputs_model):
        with expectation:
            result = saliency(
                multiple_outputs_model, scores, dummy_sample((1, 8, 8, 3)), output="dense-1"
            )
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
    def test__call__if_seed_input_is_(
        self, seed_input, expected, expectation, multiple_outputs_model
    ):
        with expectation:
            result = saliency(multiple_outputs_model, MockScore(), seed_input, output="dense-2")
            if type(expected) is list:
                assert type(result) is list
                expected = expected[0]
                result = result[0]
            assert result.shape == expected


class TestSaliencyWithMixedPrecision:
    def test__call__with_single_io(self, tmp_path):
        keras.config.set_dtype_policy("mixed_float16")
        try:
            model = mock_conv_model()
            self._test_for_single_io(model)
            path = str(tmp_path / "single_io.keras")
            model.save(path)
            model = keras.models.load_model(path)
            self._test_for_single_io(model)
        finally:
            keras.config.set_dtype_policy("float32")
        model = keras.models.load_model(path)
        self._test_for_single_io(model)

    def test__call__with_float32_output_model(self, tmp_path):
        keras.config.set_dtype_policy("mixed_float16")
        try:
            model = mock_conv_model(output_dtype="float32")
            self._test_for_single_io(model)
            path = str(tmp_path / "float32_output.keras")
            model.save(path)
            model = keras.models.load_model(path)
            self._test_for_single_io(model)
        finally:
            keras.config.set_dtype_policy("float32")
        model = keras.models.load_model(path)
        self._test_for_single_io(model)

    def _test_for_single_io(self, model):
        result = saliency(model, 0, dummy_sample((1, 8, 8, 3)))
        assert result.shape == (1, 8, 8)
