"""A small CIFAR-ResNet and an All-CNN trained briefly on the real digits beat chance widely."""

import keras
import numpy as np
import pytest

import kerasconv

# Test accuracy each must beat, from the spread over seeds of this exact recipe (4 epochs, 16×16):
# CIFAR ResNet-8: 0.986, 0.986, 0.989, 0.981 (seeds 0-3); 0.85 leaves 13 points. All-CNN-C, paper
# head (ReLU on the class maps before the averaging): 0.766, 0.955, 0.649, 0.858 (seeds 0-3, oneDNN)
# and 0.763 (seed 0, TF_ENABLE_ONEDNN_OPTS=0) - a class whose map is negative everywhere gets a
# zero logit and no gradient, so how many classes start dead varies with the initial weights.
# Mean 0.81, standard deviation 0.13: 0.4 is 3 deviations below the mean and 4x chance (0.1).
MINIMUM_ACCURACY = {"cifar_resnet20": 0.85, "all_cnn_c": 0.4}


@pytest.mark.parametrize(
    "name,kwargs,train_kwargs",
    [
        ("cifar_resnet20", dict(depth=8, width=8), dict(learning_rate=0.05)),
        # No batch norm: the all-convolutional net starts slowly under SGD; Adam gets it going.
        (
            "all_cnn_c",
            dict(width_multiplier=0.25, dropout=0.0, input_dropout=0.0),
            dict(optimizer="adam", learning_rate=0.003, weight_decay=0.0),
        ),
    ],
)
def test_small_models_learn_the_digits(digits_32, name, kwargs, train_kwargs):
    x_train, y_train, x_test, y_test = digits_32
    # 16×16 (every other pixel) keeps the test fast; both nets accept any size this large.
    x_train, x_test = x_train[:, ::2, ::2], x_test[:, ::2, ::2]
    # Seed before building: otherwise the initial weights depend on which tests ran before.
    keras.utils.set_random_seed(0)
    model = kerasconv.models.create(name, input_shape=(16, 16, 1), classes=10, **kwargs)
    kerasconv.training.train(
        model, (x_train, y_train), epochs=4, batch_size=32, seed=0, verbose=0, **train_kwargs
    )
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    assert accuracy > MINIMUM_ACCURACY[name], f"{name} reached {accuracy:.3f} (chance is 0.1)"
