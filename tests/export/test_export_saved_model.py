"""export_model: TF Serving's layout and the three signatures, checked with TensorFlow's tools."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasconv
from kerasconv.export import export_model, list_versions, read_class_names


def _signatures(path):
    return tf.saved_model.load(path).signatures


def test_layout_versions_and_class_names_asset(exported_lenet, trained_lenet, tmp_path):
    base, path, names = exported_lenet
    assert Path(path) == base / "1"
    assert sorted(os.listdir(path)) == ["assets", "fingerprint.pb", "saved_model.pb", "variables"]
    assert read_class_names(path) == names
    # The next export is version 2; hidden staging folders and non-numeric folders never count.
    copy = tmp_path / "lenet"
    shutil.copytree(base, copy)
    (copy / "README").mkdir()
    (copy / "10abc").mkdir()
    assert list_versions(copy) == [1]
    assert list(copy.glob(".tmp-*")) == []
    second = export_model(trained_lenet, copy)
    assert Path(second) == copy / "2" and list_versions(copy) == [1, 2]
    assert read_class_names(second) == [str(i) for i in range(10)]  # default names
    assert list(copy.glob(".tmp-*")) == []
    with pytest.raises(ValueError, match="already exists"):
        export_model(trained_lenet, copy, version=2)


def test_saved_model_cli_lists_the_named_signatures(exported_lenet):
    _, path, _ = exported_lenet
    cli = Path(sys.executable).with_name("saved_model_cli")
    result = subprocess.run(
        [str(cli), "show", "--dir", path, "--all"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for signature in ("serving_default", "predict_images", "saliency"):
        assert f"signature_def['{signature}']" in out
    # Named inputs and outputs with their dtypes and shapes.
    assert (
        "inputs['images'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 32, 32, 1)"
        in out
    )
    assert (
        "inputs['image_bytes'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)" in out
    )
    assert (
        "outputs['probabilities'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 10)"
        in out
    )
    assert (
        "outputs['classes'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1, 3)" in out
    )
    assert "outputs['scores'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 3)" in out
    assert (
        "outputs['saliency'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 32, 32)"
        in out
    )
    assert "outputs['class_index'] tensor_info:\n        dtype: DT_INT32" in out
    assert out.count("Method name is: tensorflow/serving/predict") == 3


def test_tfsm_layer_reload_matches_keras_model(exported_lenet, trained_lenet, digits_test):
    _, path, _ = exported_lenet
    x, y = digits_test
    layer = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    reloaded = layer(x[:64])["probabilities"]
    expected = trained_lenet.predict(x[:64], verbose=0)
    assert np.max(np.abs(np.asarray(reloaded) - expected)) <= 1e-5
    # Accuracy over the whole test split, not its first 64 images (0.922-0.969 over fixture seeds
    # 0-2, oneDNN on and off: too close to 0.9). Whole split: 0.964-0.983 (sd 0.007), same runs.
    accuracy = np.mean(np.argmax(layer(x)["probabilities"], -1) == y)
    assert accuracy >= 0.9


def test_no_xla_in_the_exported_graph(exported_lenet):
    from tensorflow.core.protobuf import saved_model_pb2

    _, path, _ = exported_lenet
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(Path(path, "saved_model.pb").read_bytes())
    functions = proto.meta_graphs[0].graph_def.library.function
    assert len(functions) > 0
    for function in functions:
        attr = function.attr.get("_XlaMustCompile")
        assert attr is None or not attr.b, function.signature.name


def test_predict_images_decodes_resizes_and_names_classes(
    exported_lenet, trained_lenet, digits_test
):
    _, path, names = exported_lenet
    x, _ = digits_test
    pixels = np.round(x[:4] * 255).astype(np.uint8)
    files = [tf.io.encode_png(p).numpy() for p in pixels[:2]]
    # A colour JPEG at twice the size: converted to one channel and resized inside the graph.
    big = tf.image.resize(tf.image.grayscale_to_rgb(tf.constant(pixels[2:4])), (64, 64), "nearest")
    files += [tf.io.encode_jpeg(tf.cast(b, tf.uint8), quality=100).numpy() for b in big]
    out = _signatures(path)["predict_images"](image_bytes=tf.constant(files))
    probabilities = out["probabilities"].numpy()
    expected = trained_lenet.predict(pixels[:2].astype("float32") / 255.0, verbose=0)
    # PNG is lossless and 32x32 needs no resize: the Keras model's answer on the same pixels.
    assert np.max(np.abs(probabilities[:2] - expected)) <= 1e-5
    top = np.argsort(-probabilities, axis=-1)[:, :3]
    classes = out["classes"].numpy().astype(str)
    assert classes.shape == (4, 3)
    assert classes.tolist() == [[names[i] for i in row] for row in top]
    scores = out["scores"].numpy()
    assert np.allclose(scores, np.take_along_axis(probabilities, top, axis=-1), atol=1e-7)
    assert np.all(np.diff(scores, axis=-1) <= 0)
    # The resized JPEGs are the same digits: the top class agrees with the model on the originals.
    originals = trained_lenet.predict(pixels[2:4].astype("float32") / 255.0, verbose=0)
    assert classes[2:, 0].tolist() == [names[i] for i in np.argmax(originals, -1)]


def test_saliency_is_the_gradient_of_the_predicted_logit(
    exported_lenet, trained_lenet, digits_test
):
    _, path, _ = exported_lenet
    x = digits_test[0][:3]
    out = _signatures(path)["saliency"](images=tf.constant(x))
    predicted = np.argmax(trained_lenet.predict(x, verbose=0), -1)
    assert out["class_index"].numpy().tolist() == predicted.tolist()
    # Independent computation: the logits are the 'predictions' Dense layer without its softmax.
    dense = trained_lenet.get_layer("predictions")
    body = keras.Model(trained_lenet.inputs, dense.input)
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = tf.matmul(body(images), dense.kernel) + dense.bias
        score = tf.reduce_sum(tf.gather(logits, predicted, axis=1, batch_dims=1))
    expected = tf.reduce_max(tf.abs(tape.gradient(score, images)), axis=-1).numpy()
    saliency = out["saliency"].numpy()
    assert saliency.shape == (3, 32, 32)
    assert np.max(np.abs(saliency - expected)) <= 1e-5 * max(1.0, float(expected.max()))
    assert float(saliency.max()) > 0
    probability = trained_lenet.predict(x, verbose=0)[np.arange(3), predicted]
    assert np.allclose(out["probability"].numpy(), probability, atol=1e-5)
    # loss_gradient: the signed FGSM direction, matching kerasconv.attacks in process.
    fgsm = kerasconv.attacks.fast_gradient_method(trained_lenet, x, eps=0.1)
    served = x + 0.1 * np.sign(out["loss_gradient"].numpy())
    assert out["loss_gradient"].shape == (3, 32, 32, 1)
    moved = np.sign(out["loss_gradient"].numpy()) != 0
    assert moved.mean() > 0.5
    np.testing.assert_allclose(served[moved], np.asarray(fgsm.x_adv)[moved], atol=1e-5)


def test_logits_model_serves_probabilities(tmp_path):
    model = kerasconv.models.LeNet5(classes=4, classifier_activation=None, name="logits_lenet")
    x = np.random.default_rng(0).random((5, 32, 32, 1)).astype("float32")
    path = export_model(model, tmp_path / "logits", version=7, top_k=10)
    assert Path(path).name == "7"
    signatures = _signatures(path)
    probabilities = signatures["serving_default"](images=tf.constant(x))["probabilities"].numpy()
    expected = tf.nn.softmax(model.predict(x, verbose=0)).numpy()
    assert np.max(np.abs(probabilities - expected)) <= 1e-5
    assert np.allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    png = tf.io.encode_png(tf.constant(np.zeros((32, 32, 1), np.uint8))).numpy()
    assert signatures["predict_images"](image_bytes=tf.constant([png]))["classes"].shape == (1, 4)


def test_bad_arguments_get_clear_errors(trained_lenet, tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        export_model("model.keras", tmp_path)
    with pytest.raises(ValueError, match="one name per class"):
        export_model(trained_lenet, tmp_path / "m", class_names=["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        export_model(trained_lenet, tmp_path / "m", class_names=["a"] * 10)
    with pytest.raises(ValueError, match=">= 1"):
        export_model(trained_lenet, tmp_path / "m", version=0)
    with pytest.raises(ValueError, match="std"):
        export_model(trained_lenet, tmp_path / "m", std=0.0)
    inputs = [keras.Input((8, 8, 1)), keras.Input((8, 8, 1))]
    two = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs[0] + inputs[1])))
    with pytest.raises(ValueError, match="single-input"):
        export_model(two, tmp_path / "m")
    assert not (tmp_path / "m").exists() or list_versions(tmp_path / "m") == []


def test_cli_export(trained_lenet, tmp_path):
    from kerasconv.cli import main

    model_file = tmp_path / "lenet.keras"
    trained_lenet.save(model_file)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"d{i}" for i in range(10)) + "\n")
    base = tmp_path / "saved_models" / "digits"
    code = main(["export", "--model", str(model_file), "--base_path", str(base),
                 "--class_names", str(names), "--version", "3"])  # fmt: skip
    assert code == 0
    assert list_versions(base) == [3]
    assert read_class_names(base / "3") == [f"d{i}" for i in range(10)]
    assert main(["export", "--model", str(model_file), "--base_path", str(base),
                 "--class_names", "a,b"]) == 2  # fmt: skip
