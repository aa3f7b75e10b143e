"""One compiled call per attack, chunking (``batch_size``), ``sanity_checks``, dtypes and the
smaller conventions of issue 22."""

import keras
import numpy as np
import pytest

from kerasconv import attacks


class Counting:
    """A model callable that counts how often it runs in Python (eager calls or traces)."""

    def __init__(self, model):
        self.model = model
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.model(x)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(4, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    x = np.random.default_rng(0).random((23, 6, 6, 1)).astype("float32")
    return model, x


def test_no_model_call_outside_the_compiled_function(tiny):
    model = Counting(tiny[0])
    x = tiny[1][:5]
    for attack in (
        lambda: attacks.fast_gradient_method(model, x, 0.1, clip_min=0, clip_max=1),
        lambda: attacks.projected_gradient_descent(
            model, x, 0.1, eps_iter=0.05, nb_iter=3, clip_min=0, clip_max=1, seed=0
        ),
    ):
        attack()  # traces
        before = model.calls
        result = attack()
        assert model.calls == before  # no eager forward pass, no retrace
        assert result.success.shape == (5,)


@pytest.mark.parametrize("name", ["fgsm", "pgd", "mim"])
def test_chunks_give_the_same_results_as_one_call(tiny, name):
    model, x = tiny
    eps = [0.05, 0.2]
    y = np.arange(len(x)) % 3

    def run(batch_size):
        if name == "fgsm":
            return attacks.fast_gradient_method(
                model, x, eps, clip_min=0, clip_max=1, y=y, batch_size=batch_size
            )
        if name == "pgd":
            return attacks.projected_gradient_descent(
                model,
                x,
                eps,
                eps_iter=0.02,
                nb_iter=4,
                clip_min=0,
                clip_max=1,
                y=y,
                rand_init=False,
                batch_size=batch_size,
            )
        return attacks.momentum_iterative_method(
            model,
            x,
            eps,
            eps_iter=0.02,
            nb_iter=4,
            clip_min=0,
            clip_max=1,
            y=y,
            batch_size=batch_size,
        )

    whole, chunked = run(256), run(5)
    assert whole.x_adv.shape == (2, 23, 6, 6, 1)
    assert np.abs(whole.x_adv - x[None]).max() > 0.01  # the attack moved the images
    np.testing.assert_allclose(chunked.x_adv, whole.x_adv, atol=1e-6)
    np.testing.assert_array_equal(chunked.adversarial_predictions, whole.adversarial_predictions)
    np.testing.assert_array_equal(chunked.clean_predictions, whole.clean_predictions)
    np.testing.assert_allclose(
        chunked.linf, np.abs(whole.x_adv - x[None]).max(axis=(2, 3, 4)), atol=1e-6
    )


def test_one_pixel_attack_in_chunks_stays_within_its_pixels(tiny):
    model, x = tiny
    result = attacks.one_pixel_attack(
        model, x, pixels=2, population=8, max_iter=3, batch_size=24
    )  # 3 images per chunk
    changed = np.sum(np.any(result.x_adv != x, axis=-1), axis=(1, 2))
    assert changed.max() <= 2 and changed.max() >= 1
    assert result.locations.shape == (23, 2, 2)
    np.testing.assert_array_equal(
        result.clean_predictions, np.argmax(model.predict(x, verbose=0), -1)
    )


def test_sanity_checks_switch(tiny):
    model, x = tiny
    with pytest.raises(ValueError, match="sanity_checks=False"):
        attacks.fast_gradient_method(model, x, 0.1, clip_min=0.2, clip_max=0.6)
    result = attacks.projected_gradient_descent(
        model,
        x,
        0.1,
        eps_iter=0.05,
        nb_iter=3,
        clip_min=0.2,
        clip_max=0.6,
        sanity_checks=False,
        seed=0,
    )
    assert result.x_adv.min() >= 0.2 and result.x_adv.max() <= 0.6
    with pytest.raises(TypeError, match="sanity_checks"):
        attacks.fast_gradient_method(model, x, 0.1, sanity_checks="no")


def test_input_dtype_is_kept_and_eps_iter_zero_returns_x(tiny):
    model, x = tiny
    x64 = x.astype("float64")
    fgsm = attacks.fast_gradient_method(model, x64, 0.0)
    assert fgsm.x_adv.dtype == np.float64
    np.testing.assert_array_equal(fgsm.x_adv, x64)
    pgd = attacks.projected_gradient_descent(model, x, 0.3, eps_iter=0.0, nb_iter=3, seed=0)
    np.testing.assert_array_equal(pgd.x_adv, x)
    assert attacks.fast_gradient_method(model, x, 0.1).x_adv.dtype == np.float32


def test_one_hot_labels_are_accepted(tiny):
    model, x = tiny
    y = np.arange(len(x)) % 3
    plain = attacks.fast_gradient_method(model, x, 0.1, y=y)
    one_hot = attacks.fast_gradient_method(model, x, 0.1, y=np.eye(3)[y])
    np.testing.assert_array_equal(plain.x_adv, one_hot.x_adv)
    np.testing.assert_array_equal(one_hot.labels, y)


def test_fooling_rate_checks_the_clip_range(tiny):
    model, x = tiny
    with pytest.raises(ValueError, match="clip_min"):
        attacks.fooling_rate(model, x, np.zeros((6, 6, 1)), clip_min=1, clip_max=0)
    assert attacks.fooling_rate(model, x, np.zeros((6, 6, 1)), 0, 1) == 0.0


def test_patch_success_rate_counts_only_images_not_already_of_the_target(tiny):
    model, x = tiny
    predictions = np.argmax(model.predict(x, verbose=0), -1)
    target = int(np.bincount(predictions, minlength=3).argmax())
    already = predictions == target
    assert 0 < already.sum() < len(x)
    # "Patched" images identical to x: a naive rate counts the images already of the target.
    assert attacks.patch_success_rate(model, x, target) == pytest.approx(already.mean())
    assert attacks.patch_success_rate(model, x, target, x=x) == 0.0


def _loop_step_function(function):
    """The one function a compiled attack's step loop calls: the loop runs one iteration at a
    time and its body calls a single non-inlined function holding the model and its gradient."""
    graph = function.get_concrete_function().graph.as_graph_def()
    library = {f.signature.name: f for f in graph.library.function}
    loops = [node for node in graph.node if node.op in ("While", "StatelessWhile")]
    # The steps loop runs one iteration at a time (PGD's random starts are a map_fn loop).
    (loop,) = [node for node in loops if node.attr["parallel_iterations"].i == 1]
    body = library[loop.attr["body"].func.name]
    calls = [n for n in body.node_def if n.op in ("PartitionedCall", "StatefulPartitionedCall")]
    assert len(calls) == 1
    step = library[calls[0].attr["f"].func.name]
    assert step.attr["_noinline"].b
    # The step holds the model and its gradient; the loop body itself has no model ops.
    assert any("Backprop" in n.op for n in step.node_def)
    assert not any(n.op.startswith("Conv2D") for n in body.node_def)
    return step


@pytest.mark.parametrize("attack", ["iterative", "universal", "patch", "fooling"])
def test_attack_step_is_its_own_graph_function_inside_the_loop(tiny, attack):
    # Without XLA, each step runs as a non-inlined function called from the tf.range loop:
    # inside the loop's cyclic graph oneDNN's layout pass may keep the slow MaxPoolGrad (see
    # _common.loop_step); an acyclic step function gets the same kernels as a flat graph.
    model, x = tiny
    if attack == "iterative":
        attacks.projected_gradient_descent(
            model, x[:4], 0.1, eps_iter=0.05, nb_iter=2, clip_min=0, clip_max=1, jit_compile=False
        )
    elif attack == "universal":
        attacks.universal_perturbation(
            model, x, 0.1, nb_epochs=1, batch_size=8, clip_min=0, clip_max=1, jit_compile=False
        )
    elif attack == "patch":
        attacks.adversarial_patch(model, x, 0, patch_size=0.5, steps=2, batch_size=4, seed=0)
    else:
        attacks.fooling_images(model, [0, 1], image_shape=(6, 6, 1), steps=2, jit_compile=False)
    # PGD's key: ("iterative", image shape, norm, targeted, momentum, jit_compile, weights); the
    # others end with jit_compile. Other tests may have compiled other variants for this model.
    (function,) = [
        f
        for key, f in attacks.compiled_functions(model).items()
        if key[1][0] == attack
        and (
            key[1][2:6] == (np.inf, False, False, False)
            if attack == "iterative"
            else not key[1][-1]
        )
    ]
    _loop_step_function(function)
