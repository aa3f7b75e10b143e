"""The methods on a LeNet-5 trained on the real digits: invariants, no retracing, sanity."""

import keras
import numpy as np
import pytest

from kerasconv import visualize
from kerasconv.gradients import GradientEngine
from tests._compare import assert_close_nontrivial


def test_integrated_gradients_completeness_within_about_one_percent(trained_lenet, digit_batch):
    x, y = digit_batch
    maps, delta = visualize.integrated_gradients(trained_lenet, x, y, return_delta=True)
    engine = GradientEngine.for_model(trained_lenet)
    at_x = engine(x, y)[0].numpy()
    at_baseline = engine(np.zeros_like(x), y)[0].numpy()
    difference = at_x - at_baseline
    # Measured over fixture seeds 0-2, oneDNN on and off: the smallest |S(x) - S(0)| of the
    # batch 6.6-12.7, so 1.0 only guards against a flat reference.
    assert np.all(np.abs(difference) > 1.0)
    # The attributions sum to S(x) - S(0) within about 1% at the default steps: the largest
    # relative error of the batch measured 0.19%-0.67% (sd 0.17%) over the same runs; 1.2% is
    # the maximum plus 3 sd.
    assert_close_nontrivial(maps.reshape(8, -1).sum(1), difference, rtol=0.012)
    assert_close_nontrivial(delta, maps.reshape(8, -1).sum(1) - difference, atol=1e-3)


@pytest.mark.parametrize(
    "method, options",
    [
        (visualize.saliency_map, {}),
        (visualize.smoothgrad, {"samples": 4}),
        (visualize.integrated_gradients, {"steps": 8}),
        (visualize.grad_cam, {"layer": "c3"}),
        (visualize.grad_cam_plus_plus, {}),
        (visualize.guided_backprop, {}),
        (visualize.occlusion_sensitivity, {"patch_size": 8, "stride": 4}),
    ],
)
def test_batch_of_one_equals_batch_of_eight(trained_lenet, digit_batch, method, options):
    x, y = digit_batch
    batch = method(trained_lenet, x, y, **options)
    # By rule: the two samples whose maps vary most (a ReLU map such as Grad-CAM's can be all
    # zero for a sample, and zero equals zero whatever the batch).
    spread = batch.reshape(len(batch), -1).std(axis=1)
    for index in np.argsort(-spread, kind="stable")[:2]:
        single = method(trained_lenet, x[index : index + 1], y[index : index + 1], **options)
        assert_close_nontrivial(single[0], batch[index], rtol=1e-4, atol=1e-5)


def test_second_call_with_new_data_does_not_retrace(trained_lenet, digits_32):
    x = digits_32[2]
    visualize.saliency_map(trained_lenet, x[:4])
    visualize.integrated_gradients(trained_lenet, x[:4], steps=4)
    visualize.smoothgrad(trained_lenet, x[:4], samples=2)
    visualize.grad_cam(trained_lenet, x[:4])
    engines = [
        GradientEngine.for_model(trained_lenet),
        GradientEngine.for_model(trained_lenet, layer="s4"),
    ]
    counts = [engine.trace_count for engine in engines]
    assert counts[0] >= 3  # gradient, predict, integrated gradients, SmoothGrad
    # New images, another batch size.
    visualize.saliency_map(trained_lenet, x[10:17])
    visualize.integrated_gradients(trained_lenet, x[10:17], steps=4)
    visualize.smoothgrad(trained_lenet, x[10:17], samples=3, seed=5)
    visualize.grad_cam(trained_lenet, x[10:17])
    assert [engine.trace_count for engine in engines] == counts


def test_occlusion_lowers_the_score_when_strokes_are_covered(trained_lenet, ten_digits):
    x, y = ten_digits
    # Black patches (the digits' background): covering background changes nothing, covering
    # strokes removes ink.
    logits, grid, unoccluded = visualize.occlusion_sensitivity(
        trained_lenet,
        x,
        y,
        patch_size=8,
        stride=2,
        patch_value=0.0,
        use_probabilities=False,
        return_grid=True,
    )
    strokes = x[..., 0] > 0.5
    drop_on_strokes = np.array([(unoccluded[i] - logits[i][strokes[i]]).mean() for i in range(10)])
    drop_off_strokes = np.array(
        [(unoccluded[i] - logits[i][~strokes[i]]).mean() for i in range(10)]
    )
    # Over fixture seeds 0-2, oneDNN on and off: strokes beat background on all 10 digits, mean
    # drop ratio 3.2-3.9 (sd 0.24); 0.8 allows two digits to fail, 2 is 5 sd under the minimum.
    assert np.mean(drop_on_strokes > drop_off_strokes) >= 0.8
    assert drop_on_strokes.mean() > 2 * drop_off_strokes.mean() > 0
    probabilities = visualize.occlusion_sensitivity(
        trained_lenet, x, y, patch_size=8, stride=2, patch_value=0.0
    )
    assert np.all(probabilities.min(axis=(1, 2)) <= 1.0)
    # Some patch pushes the true class under 0.9 on 8-10 of the ten (same runs); 0.5 is 3 fewer.
    assert np.mean(probabilities.min(axis=(1, 2)) < 0.9) >= 0.5


def test_randomisation_separates_gradients_from_guided_backprop(trained_lenet, digit_batch):
    x, y = digit_batch
    before = [w.copy() for w in trained_lenet.get_weights()]
    layers = ["predictions", "f6"]
    gradient = visualize.model_randomization_test(trained_lenet, x, "gradient", y, layers=layers)
    guided = visualize.model_randomization_test(
        trained_lenet, x, "guided_backprop", y, layers=layers
    )
    assert gradient.layers == ["original", "predictions", "f6"]
    assert gradient.correlations[0] == pytest.approx(1.0)
    # Adebayo et al.: gradients decorrelate as soon as the top layer is random; guided
    # backpropagation hardly changes. Measured over fixture seeds 0-2, oneDNN on and off, on
    # this batch: gradient -0.13 to 0.16 (sd 0.11), guided 0.88-0.95 (sd 0.03), their gap
    # 0.75-1.02 (sd 0.11). 0.5 is the gradient's maximum plus 3 sd (was 0.4, 2.2 sd); 0.75 and
    # 0.4 are more than 3 sd under the minima.
    assert gradient.correlations[-1] < 0.5
    assert guided.correlations[-1] > 0.75
    assert guided.correlations[-1] - gradient.correlations[-1] > 0.4
    for old, new in zip(before, trained_lenet.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_deletion_and_insertion_curves_of_saliency_beat_random_order(trained_lenet, digit_batch):
    x, y = digit_batch
    saliency = visualize.saliency_map(trained_lenet, x, y)
    random = np.random.default_rng(0).random(saliency.shape)
    ranked = visualize.deletion_insertion(trained_lenet, x, saliency, y, steps=16)
    shuffled = visualize.deletion_insertion(trained_lenet, x, random, y, steps=16)
    assert ranked.deletion.shape == (8, 17)
    # On this batch, over fixture seeds 0-2 with oneDNN on and off, saliency's deletion AUC was
    # 0.39-0.46 (sd 0.02) below the random order's, its insertion AUC 0.117-0.180 (sd 0.025)
    # above: 0.2 and 0.04 are the minima less 3 sd or more (the insertion bound was 0.1, 0.7 sd).
    assert ranked.deletion_auc.mean() < shuffled.deletion_auc.mean() - 0.2
    # Insertion from the default (black) baseline separates them too. Measured on 16 test digits:
    # saliency 0.913 against 0.659-0.690 for four random maps; from a blurred copy (Petsiuk et
    # al.'s baseline) 0.999 against 0.996, which is why black is the default.
    assert ranked.insertion_auc.mean() > shuffled.insertion_auc.mean() + 0.04


def test_top_patches_are_the_strongest_receptive_field_crops(trained_lenet, digits_32):
    images = digits_32[2][:64]
    result = visualize.top_patches(trained_lenet, "c3", images, channel=3, k=5, batch_size=16)
    assert np.all(np.diff(result.values) <= 0)
    assert result.patches.shape == (5, 14, 14, 1)
    activation = visualize.activations(trained_lenet, images, "c3")[..., 3]
    per_image = activation.reshape(64, -1).max(1)
    assert_close_nontrivial(result.values, np.sort(per_image)[::-1][:5], rtol=1e-5)
    for value, index, (row, column), box, patch in zip(
        result.values, result.image_indices, result.positions, result.boxes, result.patches
    ):
        assert activation[index, row, column] == pytest.approx(value, rel=1e-5)
        top, left, bottom, right = box
        assert (top, left) == (2 * row, 2 * column) and bottom - top == 14
        assert_close_nontrivial(patch, images[index, top:bottom, left:right], rtol=0)


def test_filters_activations_and_embeddings(trained_lenet, digits_32):
    x_train, y_train, x_test, y_test = digits_32
    kernels = visualize.filters(trained_lenet)
    assert_close_nontrivial(
        kernels, np.moveaxis(trained_lenet.get_layer("c1").kernel.numpy(), -1, 0), rtol=0
    )
    assert visualize.filters(trained_lenet, "c3").shape == (16, 5, 5, 6)
    maps = visualize.activations(trained_lenet, x_test[:3], ["c1", "s4"])
    assert maps["c1"].shape == (3, 28, 28, 6) and maps["s4"].shape == (3, 5, 5, 16)
    assert visualize.penultimate_layer(trained_lenet) == "f6"
    codes = visualize.collect_embeddings(trained_lenet, x_train[:300], batch_size=128)
    assert codes.shape == (300, 84)
    assert visualize.project(codes[:100], "pca").shape == (100, 2)
    # Every test image, not the first 40 (those gave 0.925-0.983 over fixture seeds 0-2).
    neighbours = visualize.neighbor_comparison(trained_lenet, x_test, x_train[:300], k=3)
    feature_agreement = np.mean(y_train[:300][neighbours["feature"]] == y_test[:, None])
    assert neighbours["pixel"].shape == (len(x_test), 3)
    # Whole split, fixture seeds 0-2, oneDNN on and off: 0.961-0.971 (sd 0.003); 0.93 is 9 sd below.
    assert feature_agreement >= 0.93


def test_guided_backprop_follows_further_training(digit_batch):
    import kerasconv

    x, _ = digit_batch
    model = kerasconv.models.LeNet5(classes=10)
    first = visualize.guided_backprop(model, x[:2], 1)
    for variable in model.trainable_weights:
        variable.assign(variable * 1.5)
    second = visualize.guided_backprop(model, x[:2], 1)
    assert not np.allclose(first, second)
    # The cached clone copied the new weights: same result as a fresh copy of the trained model.
    fresh = keras.models.clone_model(model)
    fresh.set_weights(model.get_weights())
    assert_close_nontrivial(visualize.guided_backprop(fresh, x[:2], 1), second, rtol=1e-5)
