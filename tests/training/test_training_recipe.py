"""The training recipe: the loss falls, runs resume where they stopped, arguments are checked."""

import keras
import numpy as np
import pytest

import kerasconv
from kerasconv.training.recipe import _StopAfterEpoch


def _small_model():
    return kerasconv.models.LeNet5(classes=10)


def test_loss_falls_and_accuracy_rises(digits_32):
    x_train, y_train, x_test, y_test = digits_32
    model = _small_model()
    history = kerasconv.training.train(
        model,
        (x_train, y_train),
        (x_test, y_test),
        epochs=6,
        batch_size=32,
        learning_rate=0.05,
        verbose=0,
    )
    losses = history.history["loss"]
    assert len(losses) == 6
    # Seeds 0-2, oneDNN on and off: the loss fell to 0.006-0.011 of its first epoch's value and
    # validation accuracy reached 0.969-0.978 (sd 0.004); both bounds are far outside that.
    assert losses[-1] < 0.1 * losses[0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.momentum) == pytest.approx(0.9)


def test_logits_models_get_a_from_logits_loss():
    loss = kerasconv.training.default_loss(kerasconv.models.LeNet5(classifier_activation=None))
    assert loss.get_config()["from_logits"] is True
    loss = kerasconv.training.default_loss(kerasconv.models.LeNet5())
    assert loss.get_config()["from_logits"] is False


def test_interrupted_run_resumes_from_the_epoch_it_reached(digits_32, tmp_path):
    x_train, y_train = digits_32[0][:256], digits_32[1][:256]
    model = _small_model()
    with pytest.raises(KeyboardInterrupt):
        kerasconv.training.train(
            model,
            (x_train, y_train),
            epochs=5,
            checkpoint_dir=tmp_path,
            callbacks=[_StopAfterEpoch(2)],
            verbose=0,
        )
    assert (tmp_path / "backup").exists()
    # A new process would build a fresh model: its run must pick up at epoch 3.
    resumed = _small_model()
    epochs_seen = []
    tracker = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_seen.append(e))
    history = kerasconv.training.train(
        resumed,
        (x_train, y_train),
        epochs=5,
        checkpoint_dir=tmp_path,
        callbacks=[tracker],
        verbose=0,
    )
    assert epochs_seen == [2, 3, 4]
    assert len(history.history["loss"]) == 3
    assert (tmp_path / "best.keras").exists()
    # The backup is removed once the run completes, so the next run starts afresh.
    assert not (tmp_path / "backup").exists() or not any((tmp_path / "backup").iterdir())


def test_step_schedule_divides_the_rate(digits_32):
    x_train, y_train = digits_32[0][:64], digits_32[1][:64]
    model = _small_model()
    kerasconv.training.train(
        model,
        (x_train, y_train),
        epochs=3,
        batch_size=32,
        schedule="step",
        step_epochs=1,
        step_factor=10.0,
        learning_rate=0.1,
        verbose=0,
    )
    schedule = model.optimizer._learning_rate
    # Two steps per epoch: epoch 1 is steps 0-1, epoch 2 steps 2-3, epoch 3 steps 4-5.
    rates = [float(schedule(step)) for step in range(6)]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-5)


def test_seeds_make_runs_reproducible(digits_32):
    x, y = digits_32[0][:128], digits_32[1][:128]
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model = _small_model()
        kerasconv.training.train(model, (x, y), epochs=1, seed=3, verbose=0)
        weights.append(model.get_layer("c1").get_weights()[0])
    np.testing.assert_allclose(weights[0], weights[1], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"epochs": 0}, ValueError),
        ({"learning_rate": -1.0}, ValueError),
        ({"schedule": "linear"}, ValueError),
        ({"epochs": 1.5}, TypeError),
    ],
)
def test_bad_arguments(kwargs, error, digits_32):
    with pytest.raises(error):
        kerasconv.training.train(_small_model(), (digits_32[0][:8], digits_32[1][:8]), **kwargs)


def test_bad_data_is_rejected():
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        kerasconv.training.train(_small_model(), "digits")
    with pytest.raises(ValueError, match="samples"):
        kerasconv.training.train(_small_model(), (np.zeros((4, 32, 32, 1)), np.zeros(3)))


def test_tensorboard_without_the_package_or_a_folder_is_a_clear_error(digits_32, tmp_path):
    import importlib.util

    data = (digits_32[0][:8], digits_32[1][:8])
    with pytest.raises(ValueError, match="checkpoint_dir"):
        kerasconv.training.train(_small_model(), data, tensorboard=True, verbose=0)
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ValueError, match="pip install"):
            kerasconv.training.train(
                _small_model(), data, tensorboard=True, checkpoint_dir=tmp_path, verbose=0
            )
    else:
        kerasconv.training.train(
            _small_model(), data, tensorboard=True, checkpoint_dir=tmp_path, verbose=0
        )
        assert (tmp_path / "logs").is_dir()
