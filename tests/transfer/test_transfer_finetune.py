"""Fine-tuning: new heads, freezing, per-group learning rates, gradual unfreezing, the payoff."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasconv
from kerasconv.transfer import (
    GroupedOptimizer,
    UnfreezeSchedule,
    fine_tune,
    freeze,
    replace_head,
    trainable_layer_names,
)
from kerasconv.transfer.tasks import per_class_subset


def _toy(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,), name="input")
    x = keras.layers.Dense(4, activation="tanh", name="body")(inputs)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    return keras.Model(inputs, outputs, name="toy")


def test_replace_head_keeps_trained_weights_and_never_touches_the_source():
    source = kerasconv.models.LeNet5(classes=5)
    before = [w.copy() for w in source.get_weights()]
    target = replace_head(source, classes=3)
    assert target.get_layer("predictions").units == 3
    assert target.output.shape == (None, 3)
    assert target.get_layer("f6") is not source.get_layer("f6")
    np.testing.assert_array_equal(target.get_layer("c3").get_weights()[0], before[2])
    at_s4 = replace_head(source, classes=4, at="s4", classifier_activation=None)
    assert [layer.name for layer in at_s4.layers][-3:] == ["s4", "head_flatten", "predictions"]
    assert at_s4.get_layer("predictions").kernel.shape == (400, 4)
    target.get_layer("c1").kernel.assign(tf.zeros_like(target.get_layer("c1").kernel))
    for old, new in zip(before, source.get_weights()):
        np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="no layer"):
        replace_head(source, classes=3, at="c9")


def test_freeze_up_to_and_everything_but_the_head():
    model = kerasconv.models.LeNet5(classes=10)
    assert freeze(model, up_to="c3") == ["input", "c1", "s2", "c3"]
    assert trainable_layer_names(model) == ["c5", "f6", "predictions"]
    freeze(model, up_to="c3", trainable=True)
    freeze(model)
    assert trainable_layer_names(model) == ["predictions"]
    assert len(model.trainable_weights) == 2


def test_grouped_optimizer_moves_each_group_at_its_own_rate():
    # SGD without momentum: each step is exactly -rate * gradient, so the ratio is checkable.
    model = _toy()
    x = np.random.default_rng(0).normal(size=(8, 6)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    grads = dict(
        zip([v.path for v in model.trainable_weights], tape.gradient(loss, model.trainable_weights))
    )
    before = {v.path: v.numpy().copy() for v in model.trainable_weights}
    # The reference steps are real ones: every gradient is finite and none is all zero.
    for path, gradient in grads.items():
        gradient = gradient.numpy()
        assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0, path
    optimizer = GroupedOptimizer(
        [keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.05)], [["predictions"], None]
    )
    model.compile(optimizer=optimizer, loss=loss_fn)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for variable in model.trainable_weights:
        rate = 0.5 if variable.path.startswith("predictions") else 0.05
        np.testing.assert_allclose(
            variable.numpy() - before[variable.path],
            -rate * grads[variable.path].numpy(),
            rtol=1e-3,
            atol=2e-7,
        )
    assert int(optimizer.iterations) == 1
    assert [int(o.iterations) for o in optimizer.optimizers] == [1, 1]
    # The configuration round-trips (for model.save with the optimizer).
    copy = GroupedOptimizer.from_config(optimizer.get_config())
    assert copy.groups == [["predictions"], None]
    assert float(copy.optimizers[1].learning_rate) == pytest.approx(0.05)


def test_grouped_optimizer_rejects_variables_outside_every_group():
    model = _toy()
    optimizer = GroupedOptimizer([keras.optimizers.SGD(0.1)], [["predictions"]])
    with pytest.raises(ValueError, match="no group"):
        optimizer.build(model.trainable_weights)
    with pytest.raises(ValueError, match="one group per optimizer"):
        GroupedOptimizer([keras.optimizers.SGD(0.1)], [None, None])


def test_unfreeze_schedule_trains_the_backbone_only_from_its_epoch():
    model = _toy()
    optimizer = GroupedOptimizer(
        [keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.05)], [["predictions"], None]
    )
    optimizer.build(model.trainable_variables)  # every variable, before freezing
    freeze(model)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(True))
    x = np.random.default_rng(1).normal(size=(16, 6)).astype("float32")
    y = np.arange(16) % 3
    body = model.get_layer("body").kernel
    snapshots = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(body.numpy().copy())

    schedule = UnfreezeSchedule({2: ["body"]})
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[schedule, Record()])
    start = snapshots[0]
    np.testing.assert_array_equal(snapshots[1], start)  # still frozen in epoch 1
    assert np.abs(snapshots[2] - start).max() > 1e-4  # trains from epoch 2
    assert schedule.unfrozen == {2: ["body"]}
    # An optimizer built without the frozen variables cannot be asked to update them later.
    other = _toy(1)
    freeze(other)
    other.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="not built with"):
        other.fit(x, y, epochs=1, verbose=0, callbacks=[UnfreezeSchedule({0: "all"})])


def test_fine_tuning_beats_training_from_scratch_on_a_small_split(source_lenet, digits_task):
    # Digits 5-9 (never seen by the source) from 5 labelled images per class.
    x_train, y_train, x_test, y_test = digits_task["target"]
    x_small, y_small = per_class_subset(x_train, y_train, 5, seed=0)
    before = [w.copy() for w in source_lenet.get_weights()]
    tuned, history = fine_tune(
        source_lenet,
        (x_small, y_small),
        classes=5,
        at="s4",
        head_learning_rate=0.05,
        backbone_learning_rate=0.005,
        epochs=20,
        batch_size=16,
    )
    tuned_accuracy = kerasconv.training.evaluate(tuned, (x_test, y_test))["accuracy"]
    scratch = []
    for seed in (0, 1, 2):
        keras.utils.set_random_seed(seed)  # before building: the initial weights are seeded too
        model = kerasconv.models.LeNet5(classes=5)
        kerasconv.training.train(
            model,
            (x_small, y_small),
            epochs=20,
            batch_size=16,
            learning_rate=0.05,
            seed=seed,
            verbose=0,
        )
        scratch.append(kerasconv.training.evaluate(model, (x_test, y_test))["accuracy"])
    # Measured over source seeds 0-7, oneDNN on and off (16 runs): fine-tuned 0.799-0.905 (sd
    # 0.028), so the old bound of 0.8 failed two runs; 0.7 is the minimum less 3.5 sd. A LeNet-5
    # trained from scratch on these 25 images is bimodal (0.20-0.84 over scratch seeds 0-23, sd
    # 0.20: it sometimes never gets going) and mostly kernel-independent: seeds 0-2 gave 0.788,
    # 0.380 and 0.374 (0.369 without oneDNN). With them fixed, as here, the fine-tuned lead over
    # their mean was 0.29-0.39; with the scratch seeds varied along (3 per run) it was 0.05-0.45
    # (sd 0.11): no margin of 0.05 holds against that, so the claim is only that fine-tuning wins.
    assert tuned_accuracy > 0.7, tuned_accuracy
    assert tuned_accuracy > np.mean(scratch), (tuned_accuracy, scratch)
    for old, new in zip(before, source_lenet.get_weights()):
        np.testing.assert_array_equal(old, new)  # the source model is untouched
    assert len(history.history["loss"]) == 20


def test_fine_tune_with_a_frozen_backbone_and_gradual_unfreezing(source_lenet, digits_task):
    x_train, y_train, _, _ = digits_task["target"]
    x_small, y_small = per_class_subset(x_train, y_train, 4, seed=1)
    frozen, _ = fine_tune(source_lenet, (x_small, y_small), classes=5, freeze_up_to="all", epochs=2)
    np.testing.assert_array_equal(
        frozen.get_layer("c1").kernel.numpy(), source_lenet.get_layer("c1").kernel.numpy()
    )
    gradual, _ = fine_tune(
        source_lenet,
        (x_small, y_small),
        classes=5,
        freeze_up_to="all",
        unfreeze={1: "all"},
        epochs=2,
    )
    assert not np.array_equal(
        gradual.get_layer("c1").kernel.numpy(), source_lenet.get_layer("c1").kernel.numpy()
    )
    assert trainable_layer_names(gradual) == ["c1", "c3", "c5", "f6", "predictions"]
