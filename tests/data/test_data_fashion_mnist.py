"""Fashion-MNIST offline: the tfds builder over Debian's IDX files, its checks and its errors.

These tests need Debian's ``dataset-fashion-mnist`` (``make test`` installs it). Without it they
fail with the loader's own message saying how to get the files; they are never skipped.
"""

import gzip
import os
import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

import kerasconv
from kerasconv.data import fashion_mnist as fm


@pytest.fixture(scope="module")
def fashion_test():
    return kerasconv.data.load_arrays("fashion_mnist", "test")


@pytest.fixture(scope="module")
def fashion_train():
    return kerasconv.data.load_arrays("fashion_mnist", "train")


def test_splits_classes_and_pixels_are_zalandos(fashion_train, fashion_test):
    x_train, y_train = fashion_train
    x_test, y_test = fashion_test
    assert x_train.shape == (60_000, 28, 28, 1) and x_test.shape == (10_000, 28, 28, 1)
    assert x_train.dtype == np.float32 and x_train.min() == 0.0 and x_train.max() == 1.0
    # Balanced: 6,000 / 1,000 images of each of the ten classes.
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # The published pixel statistics of the training set: mean 72.94 / 255, std 90.02 / 255.
    assert abs(x_train.mean() - 72.94 / 255) < 0.5 / 255
    assert abs(x_train.std() - 90.02 / 255) < 0.5 / 255
    # Every image is a real garment, not a blank: the emptiest still has ink on 5% of its pixels.
    ink = (x_test > 0.1).mean(axis=(1, 2, 3))
    assert ink.min() > 0.05


def test_the_prepared_data_is_exactly_the_idx_files(fashion_test):
    x_test, y_test = fashion_test
    images, labels = fm.read_split("test")
    assert images.shape == (10_000, 28, 28, 1) and images.dtype == np.uint8
    # tfds stores examples in its own (hashed) order; as multisets they are the same images.
    ours = np.sort(np.round(x_test * 255).astype(np.int64).reshape(10_000, -1).sum(1))
    theirs = np.sort(images.reshape(10_000, -1).astype(np.int64).sum(1))
    np.testing.assert_array_equal(ours, theirs)
    assert np.bincount(labels).tolist() == np.bincount(y_test).tolist()


def test_class_names_and_features_match_the_tfds_catalogue(tmp_path):
    ours = kerasconv.data.bundled_builder("fashion_mnist").info
    catalogue = tfds.builder("fashion_mnist", data_dir=str(tmp_path)).info  # info only, offline
    assert ours.name == catalogue.name == "fashion_mnist"
    assert str(ours.version) == str(catalogue.version)
    assert ours.features["label"].names == catalogue.features["label"].names
    assert kerasconv.data.class_names("fashion_mnist")[0] == "T-shirt/top"
    assert kerasconv.data.class_names("fashion_mnist")[9] == "Ankle boot"
    for key in ("image", "label"):
        assert ours.features[key].shape == catalogue.features[key].shape
        assert ours.features[key].dtype == catalogue.features[key].dtype
    assert ours.supervised_keys == catalogue.supervised_keys
    assert {k: v.num_examples for k, v in ours.splits.items()} == {"train": 60_000, "test": 10_000}


def test_code_written_for_tfds_load_runs_unchanged():
    # Once kerasconv has prepared it, the catalogue's own tfds.load finds the dataset offline.
    data_dir = kerasconv.data.default_data_dir()
    kerasconv.data.bundled_builder("fashion_mnist", data_dir)
    dataset, info = tfds.load(
        "fashion_mnist", split="test", data_dir=data_dir, download=False, with_info=True
    )
    example = next(iter(dataset))
    assert example["image"].dtype.name == "uint8" and tuple(example["image"].shape) == (28, 28, 1)
    assert info.features["label"].int2str(int(example["label"])) in fm.CLASS_NAMES
    assert info.splits["train"].num_examples == 60_000
    images, labels = next(
        iter(
            tfds.load(
                "fashion_mnist",
                split="train[:64]",
                data_dir=data_dir,
                as_supervised=True,
                download=False,
            ).batch(64)
        )
    )
    assert images.shape == (64, 28, 28, 1) and labels.dtype.name == "int64"


def test_pipeline_batches_and_resizes():
    batch, labels = next(
        iter(kerasconv.data.load("fashion_mnist", "train", batch_size=16, image_size=32))
    )
    assert batch.shape == (16, 32, 32, 1) and labels.dtype.name == "int32"
    assert float(batch.numpy().min()) >= 0.0 and float(batch.numpy().max()) <= 1.0


def test_pad_keeps_every_pixel_and_adds_a_black_frame(fashion_test):
    x_native = fashion_test[0][:64]
    padded, _ = kerasconv.data.load_arrays(
        "fashion_mnist", "test[:64]", image_size=32, resize="pad"
    )
    resized, _ = kerasconv.data.load_arrays("fashion_mnist", "test[:64]", image_size=32)
    assert padded.shape == resized.shape == (64, 32, 32, 1)
    assert x_native.std() > 0.1  # real images, not a blank reference
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], x_native)  # bit-exact, centred
    frame = np.ones((32, 32), bool)
    frame[2:30, 2:30] = False
    assert not padded[:, frame].any()
    # The default resamples instead: the same images, different pixels.
    assert np.abs(resized - padded).max() > 0.1
    # Cropping works the same way, centred.
    cropped, _ = kerasconv.data.load_arrays(
        "fashion_mnist", "test[:64]", image_size=24, resize="pad"
    )
    np.testing.assert_array_equal(cropped, x_native[:, 2:26, 2:26])
    with pytest.raises(ValueError, match="resize must be one of 'bilinear', 'pad'"):
        kerasconv.data.load("fashion_mnist", "test", image_size=32, resize="nearest")


def _copy_sources(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(fm.source_dir(), folder)
    return folder


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv(fm.SOURCE_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist") as info:
        kerasconv.data.load("fashion_mnist", "train", data_dir=tmp_path / "tfds")
    assert str(tmp_path / "nowhere") in str(info.value)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    # The argument wins over the environment.
    with pytest.raises(fm.FashionMnistError, match="empty"):
        fm.source_files(tmp_path / "empty")


def test_truncated_and_corrupt_files_are_named(tmp_path):
    folder = _copy_sources(tmp_path)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    # A cut gzip stream.
    labels.write_bytes(gzip.compress(raw)[:-40])
    with pytest.raises(fm.FashionMnistError, match="truncated or corrupt"):
        fm.read_split("test", folder)
    # A complete gzip of a short file.
    labels.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(fm.FashionMnistError, match="9990 data bytes"):
        fm.read_split("test", folder)
    # A wrong magic number (an image file where labels should be).
    shutil.copy(folder / "t10k-images-idx3-ubyte.gz", labels)
    with pytest.raises(fm.FashionMnistError, match="magic number 0x00000803"):
        fm.read_split("test", folder)
    # A wrong count in the header.
    bad = bytearray(raw)
    bad[4:8] = (9999).to_bytes(4, "big")
    labels.write_bytes(gzip.compress(bytes(bad)))
    with pytest.raises(fm.FashionMnistError, match=r"shape \(9999,\)"):
        fm.read_split("test", folder)
    # A label out of range.
    bad = bytearray(raw)
    bad[8] = 12
    labels.write_bytes(gzip.compress(bytes(bad)))
    with pytest.raises(fm.FashionMnistError, match="label 12"):
        fm.read_split("test", folder)
    # Uncompressed files are read too.
    labels.unlink()
    (folder / "t10k-labels-idx1-ubyte").write_bytes(raw)
    images, y = fm.read_split("test", folder)
    assert len(y) == 10_000 and np.bincount(y).tolist() == [1000] * 10
    assert os.path.basename(fm.source_files(folder)["test"][1]) == "t10k-labels-idx1-ubyte"


def test_split_expressions_and_the_cached_pipeline():
    # tfds split expressions work on the bundled builder; bad split names are still refused.
    data = kerasconv.data.load(
        "fashion_mnist", "train[:300]", batch_size=128, image_size=32, seed=1
    )
    epoch1 = [(x.numpy(), y.numpy()) for x, y in data]
    epoch2 = [(x.numpy(), y.numpy()) for x, y in data]
    assert [len(y) for _, y in epoch1] == [128, 128, 44]
    labels1 = np.concatenate([y for _, y in epoch1])
    labels2 = np.concatenate([y for _, y in epoch2])
    # Each epoch reshuffles the same 300 examples (served from the cache).
    assert sorted(labels1.tolist()) == sorted(labels2.tolist())
    assert not np.array_equal(labels1, labels2)
    # The per-chunk conversion and resize give the pixels that one image at a time would.
    import tensorflow as tf

    x32, y32 = kerasconv.data.load_arrays("fashion_mnist", "train[:300]", image_size=32)
    x28, y28 = kerasconv.data.load_arrays("fashion_mnist", "train[:300]")
    np.testing.assert_array_equal(y32, y28)
    singly = np.stack(
        [
            np.clip(tf.image.resize(image, (32, 32), antialias=True).numpy(), 0.0, 1.0)
            for image in x28[:20]
        ]
    )
    assert singly.std() > 0.1
    np.testing.assert_allclose(x32[:20], singly, atol=1e-6)  # float32 rounding of one resize
    with pytest.raises(ValueError, match="split must be one of"):
        kerasconv.data.load("fashion_mnist", "validation[:10]")
