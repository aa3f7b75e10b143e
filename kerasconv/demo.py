"""The main job, ``kerasconv demo``: LeNet-5 on the real digits, end to end.

Trains LeNet-5 (LeCun et al. 1998) on scikit-learn's handwritten digits at 32×32, reports the test
accuracy, saves a ``.keras`` file, exports a SavedModel in TF Serving's layout and draws the training
curves, the confusion matrix, the first-layer filters and a grid of predictions.
"""

from __future__ import annotations

import os
import time

import numpy as np


def run_demo(
    out_dir="out/demo",
    saved_models_dir="saved_models",
    epochs=20,
    batch_size=32,
    learning_rate=0.05,
    seed=0,
    verbose=1,
):
    """Run the demo; returns a dict of what it measured and where it wrote things."""
    import keras

    import kerasconv
    from kerasconv.visualize import plot

    start = time.perf_counter()
    # Seed before building: the initial weights are part of a reproducible run.
    keras.utils.set_random_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    class_names = kerasconv.data.class_names("digits")
    train = kerasconv.data.load("digits", "train", batch_size=batch_size, image_size=32, seed=seed)
    test = kerasconv.data.load("digits", "test", batch_size=256, image_size=32)
    model = kerasconv.models.LeNet5(input_shape=(32, 32, 1), classes=len(class_names))
    history = kerasconv.training.train(
        model,
        train,
        test,
        epochs=epochs,
        learning_rate=learning_rate,
        seed=seed,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        verbose=verbose,
    )
    result = kerasconv.training.evaluate(model, test)

    model_path = os.path.join(out_dir, "lenet5_digits.keras")
    model.save(model_path)
    export_dir = kerasconv.export.export_model(
        model, os.path.join(saved_models_dir, "lenet5_digits"), class_names=class_names
    )

    figures = {
        "training_curves": plot.training_curves(
            history, path=os.path.join(out_dir, "training_curves.png"), title="LeNet-5 on digits"
        ),
        "confusion_matrix": plot.confusion_matrix(
            kerasconv.training.confusion_matrix(
                result["labels"], result["predictions"], len(class_names)
            ),
            class_names,
            path=os.path.join(out_dir, "confusion_matrix.png"),
            title=f"LeNet-5, test accuracy {100 * result['accuracy']:.1f}%",
        ),
    }
    kernels = model.get_layer("c1").get_weights()[0]  # (5, 5, 1, 6)
    figures["filters"] = plot.image_grid(
        np.transpose(kernels[:, :, 0, :], (2, 0, 1)),
        titles=[f"c1:{i}" for i in range(kernels.shape[-1])],
        columns=6,
        normalize="all",
        title="LeNet-5 first-layer (c1) filters",
        path=os.path.join(out_dir, "filters_c1.png"),
    )
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=32)
    shown = np.arange(32)
    predictions = np.argmax(model.predict(x_test[shown], verbose=0), axis=-1)
    figures["predictions"] = plot.prediction_grid(
        x_test[shown],
        y_test[shown],
        predictions,
        class_names,
        path=os.path.join(out_dir, "predictions.png"),
    )
    files = {
        name: os.path.join(out_dir, f"{stem}.png")
        for name, stem in (
            ("training_curves", "training_curves"),
            ("confusion_matrix", "confusion_matrix"),
            ("filters", "filters_c1"),
            ("predictions", "predictions"),
        )
    }
    return {
        "accuracy": result["accuracy"],
        "test_samples": result["samples"],
        "epochs": len(history.history["loss"]),
        "model_path": model_path,
        "export_dir": os.fspath(export_dir),
        "figures": files,
        "seconds": time.perf_counter() - start,
    }
