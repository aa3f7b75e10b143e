"""The main job end to end, at reduced epochs."""

import os

import keras
import numpy as np

from kerasconv.demo import run_demo


def test_demo_end_to_end(tmp_path):
    result = run_demo(
        out_dir=str(tmp_path / "demo"),
        saved_models_dir=str(tmp_path / "saved_models"),
        epochs=3,
        verbose=0,
    )
    assert result["epochs"] == 3
    assert result["accuracy"] > 0.7  # three epochs; the full demo (20 epochs) reaches >= 97%
    model = keras.saving.load_model(result["model_path"])
    assert model.count_params() == 61_706
    export_dir = result["export_dir"]
    assert os.path.basename(export_dir) == "1"
    assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))
    for path in result["figures"].values():
        assert os.path.getsize(path) > 5_000
        image = keras.utils.load_img(path)
        assert np.asarray(image).std() > 10  # not a blank canvas
