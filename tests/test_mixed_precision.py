"""Mixed precision across models, visualizers and attacks: half-precision compute, float32 scores."""

import keras
import numpy as np
import pytest

import kerasconv

POLICIES = ["mixed_float16", "mixed_bfloat16"]

# One member of every family, at a small size.
FAMILIES = [
    ("lenet5", {}),
    ("alexnet", {"include_top": False, "input_shape": (67, 67, 3)}),
    ("vgg11_bn", {"include_top": False, "input_shape": (32, 32, 3)}),
    ("googlenet", {"include_top": False, "input_shape": (64, 64, 3)}),
    ("resnet18", {"include_top": False, "input_shape": (32, 32, 3)}),
    ("cifar_resnet20", {"input_shape": (16, 16, 3), "classes": 10}),
    ("all_cnn_c", {"input_shape": (16, 16, 3), "classes": 10}),
    ("maxout_cifar", {"input_shape": (32, 32, 3), "classes": 10}),
]


@pytest.fixture(autouse=True)
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name, kwargs", FAMILIES)
def test_every_family_builds_and_trains_under_mixed_float16(name, kwargs):
    with kerasconv.training.mixed_precision("mixed_float16"):
        model = kerasconv.models.create(name, **kwargs)
    shape = tuple(model.inputs[0].shape[1:])
    x = np.random.default_rng(0).random((2,) + shape, dtype=np.float32)
    compute = {layer.compute_dtype for layer in model.layers if layer.weights}
    assert "float16" in compute
    outputs = model(x, training=False)
    outputs = outputs["predictions"] if isinstance(outputs, dict) else outputs
    if kwargs.get("include_top", True):
        # The classifier stays float32: probabilities keep their range.
        assert outputs.dtype == "float32"
        np.testing.assert_allclose(np.asarray(outputs).sum(-1), 1.0, atol=1e-5)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        out = model(x, training=True)
        out = out["predictions"] if isinstance(out, dict) else out
        loss = tf.reduce_mean(tf.cast(out, tf.float32) ** 2)
    gradients = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None and np.all(np.isfinite(np.asarray(g))) for g in gradients)
    assert all(v.dtype == "float32" for v in model.trainable_variables)


@pytest.fixture(scope="module")
def mixed_lenets(digits_32, trained_lenet):
    models = {}
    for policy in POLICIES:
        with kerasconv.training.mixed_precision(policy):
            model = kerasconv.models.LeNet5()
        model.set_weights(trained_lenet.get_weights())
        models[policy] = model
    return models


@pytest.mark.parametrize("policy", POLICIES)
def test_visualizers_give_float32_maps_close_to_float32_ones(
    policy, mixed_lenets, digits_32, trained_lenet
):
    model = mixed_lenets[policy]
    x = digits_32[2][:4]
    for method in (kerasconv.visualize.saliency_map, kerasconv.visualize.grad_cam):
        half = np.asarray(method(model, x))
        full = np.asarray(method(trained_lenet, x))
        assert half.dtype == np.float32 and np.all(np.isfinite(half))
        # Same explanation up to half-precision noise: strongly correlated maps.
        correlation = np.corrcoef(half.ravel(), full.ravel())[0, 1]
        assert correlation > 0.9, (method.__name__, correlation)


@pytest.mark.parametrize("policy", POLICIES)
def test_attacks_work_under_mixed_precision(policy, mixed_lenets, digits_32, trained_lenet):
    model = mixed_lenets[policy]
    x, y = digits_32[2][:64], digits_32[3][:64]
    eps = 0.2

    def pgd(target):
        return kerasconv.attacks.projected_gradient_descent(
            target, x, eps=eps, eps_iter=0.02, nb_iter=20, clip_min=0.0, clip_max=1.0, y=y
        )

    result = pgd(model)
    x_adv, success = result
    x_adv = np.asarray(x_adv)
    assert x_adv.dtype == np.float32
    assert np.max(np.abs(x_adv - x)) <= eps + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    clean = np.mean(np.argmax(model.predict(x, verbose=0), -1) == y)
    robust = np.mean(np.argmax(model.predict(x_adv, verbose=0), -1) == y)
    # As strong as the same attack on the float32 model (half-precision gradients must not
    # vanish: before the engine scaled them per sample, float16 PGD left 56% of digits intact
    # where float32 left 12%).
    x_full, _ = pgd(trained_lenet)
    robust_full = np.mean(np.argmax(trained_lenet.predict(np.asarray(x_full), verbose=0), -1) == y)
    assert clean >= 0.9
    assert robust <= robust_full + 0.1, (robust, robust_full)
    assert robust < clean - 0.4
    assert np.mean(np.asarray(success)) > 0.5
