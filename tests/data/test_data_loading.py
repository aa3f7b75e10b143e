"""The bundled real datasets: sizes, pixel statistics, labels, pipelines and errors."""

import numpy as np
import pytest
import tensorflow as tf

import kerasconv


def test_digits_split_sizes_and_labels(digits_28):
    x_train, y_train, x_test, y_test = digits_28
    # 1,797 real digits, 20% of each class held out.
    assert len(x_train) + len(x_test) == 1797
    assert (len(x_train), len(x_test)) == (1438, 359)
    assert x_train.shape[1:] == (28, 28, 1) and x_train.dtype == np.float32
    assert set(np.unique(y_train)) == set(range(10))
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified


def test_digits_pixels_are_the_real_sklearn_digits():
    from sklearn.datasets import load_digits

    x, y = kerasconv.data.load_arrays("digits", "train", image_size=8)
    x_test, y_test = kerasconv.data.load_arrays("digits", "test", image_size=8)
    digits = load_digits()
    # At the native 8×8 size the pixels are scikit-learn's grey levels (0-16) scaled to [0, 1].
    ours = np.concatenate([x, x_test])[..., 0]
    theirs = digits.images / 16.0
    ours_sorted = np.sort(ours.reshape(len(ours), -1).sum(1))
    theirs_sorted = np.sort(theirs.reshape(len(theirs), -1).sum(1))
    np.testing.assert_allclose(ours_sorted, theirs_sorted, atol=64 * 0.5 / 255)
    assert np.bincount(np.concatenate([y, y_test])).tolist() == np.bincount(digits.target).tolist()
    # Real strokes: about a third of the pixels are ink, mean intensity near 0.3.
    assert 0.25 < ours.mean() < 0.36
    assert ours.min() == 0.0 and ours.max() == 1.0


def test_split_is_fixed_across_calls():
    a, ya = kerasconv.data.load_arrays("digits", "test", image_size=8)
    b, yb = kerasconv.data.load_arrays("digits", "test", image_size=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)


def test_lfw_faces():
    x, y = kerasconv.data.load_arrays("lfw_faces", "train")
    x_test, y_test = kerasconv.data.load_arrays("lfw_faces", "test")
    assert x.shape == (160, 25, 25, 1) and x_test.shape == (40, 25, 25, 1)
    assert np.bincount(y).tolist() == [80, 80]
    assert kerasconv.data.class_names("lfw_faces") == ["non_face", "face"]
    # Faces and non-faces differ in their pixel statistics (a real signal to learn).
    assert (
        abs(x[y == 1].mean() - x[y == 0].mean()) > 0.01
        or abs(x[y == 1].std() - x[y == 0].std()) > 0.01
    )


def test_load_pipeline_batches_and_sizes():
    dataset = kerasconv.data.load("digits", "train", batch_size=50, image_size=(20, 24))
    images, labels = next(iter(dataset))
    assert images.shape == (50, 20, 24, 1)
    assert images.dtype == tf.float32 and labels.dtype == tf.int32
    assert float(tf.reduce_min(images)) >= 0.0 and float(tf.reduce_max(images)) <= 1.0
    total = sum(int(b.shape[0]) for b, _ in dataset)
    assert total == 1438
    rgb = next(iter(kerasconv.data.load("digits", "test", batch_size=4, channels=3)))[0]
    assert rgb.shape == (4, 28, 28, 3)


def test_augmentation_changes_training_batches_only():
    layer = kerasconv.data.augmentation(translate=0.2, seed=1)
    x = kerasconv.data.load_arrays("digits", "test", image_size=28)[0][:8]
    shifted = np.asarray(layer(x, training=True))
    assert not np.allclose(shifted, x)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), x)


def _zero_shift(image, dy, dx):
    """``image`` moved by whole pixels, zeros where it moved away."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def _whole_pixel_shift(original, moved, reach=7):
    """The ``(dy, dx)`` that turns ``original`` into ``moved`` with zero fill, or ``None``."""
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if np.array_equal(_zero_shift(original, dy, dx), moved):
                return dy, dx
    return None


def test_augmentation_zero_fill_is_pad_and_crop_and_reflect_is_not():
    x = kerasconv.data.load_arrays("digits", "test", image_size=28)[0][:8]
    zero = kerasconv.data.augmentation(
        translate=0.2, fill_mode="constant", interpolation="nearest", seed=1
    )
    moved = np.asarray(zero(x, training=True))
    shifts = [_whole_pixel_shift(a, b) for a, b in zip(x, moved)]
    assert None not in shifts, shifts
    assert any(s != (0, 0) for s in shifts), shifts
    # Keras's default (reflect, bilinear) is no zero-filled whole-pixel shift of the image.
    reflected = np.asarray(kerasconv.data.augmentation(translate=0.2, seed=1)(x, training=True))
    assert sum(_whole_pixel_shift(a, b) is None for a, b in zip(x, reflected)) >= 6
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        kerasconv.data.augmentation(fill_mode="black")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        kerasconv.data.augmentation(interpolation="cubic")


def test_standardization_is_fitted_on_the_data(digits_28):
    x_train = digits_28[0]
    layer = kerasconv.data.fit_standardization(x_train)
    out = np.asarray(layer(x_train))
    assert abs(out.mean()) < 1e-3
    assert abs(out.std() - 1.0) < 1e-2


def test_imagefolder(tmp_path):
    x, y = kerasconv.data.load_arrays("digits", "test", image_size=16)
    for split in ("train", "test"):
        for label in (0, 1):
            folder = tmp_path / split / f"digit{label}"
            folder.mkdir(parents=True)
            for i in np.flatnonzero(y == label)[:3]:
                png = tf.io.encode_png(tf.cast(x[i] * 255, tf.uint8))
                tf.io.write_file(str(folder / f"{i}.png"), png)
    dataset = kerasconv.data.load(
        "imagefolder", "train", batch_size=6, image_size=16, data_dir=str(tmp_path), channels=1
    )
    images, labels = next(iter(dataset))
    assert images.shape == (6, 16, 16, 1)
    assert sorted(np.asarray(labels).tolist()) == [0, 0, 0, 1, 1, 1]


def test_missing_tfds_data_says_how_to_get_it(tmp_path):
    with pytest.raises(ValueError, match="download=True") as error:
        kerasconv.data.load("mnist", data_dir=str(tmp_path))
    assert "data_dir" in str(error.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "digits", "image_size": 0}, "image_size"),
        ({"name": "digits", "batch_size": 0}, "batch_size"),
        ({"name": "digits", "split": "validation"}, "split"),
        ({"name": "digits", "channels": 2}, "channels"),
        ({"name": "imagefolder", "image_size": 8}, "data_dir"),
        ({"name": "imagefolder"}, "image_size"),
        ({"name": "no_such_dataset_anywhere"}, "Unknown dataset"),
    ],
)
def test_bad_arguments_are_clear(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kerasconv.data.load(**kwargs)


def test_sample_images_are_real_photographs():
    photos = kerasconv.data.sample_images()
    assert set(photos) == set(kerasconv.data.SAMPLE_NAMES)
    for name, image in photos.items():
        assert image.ndim == 3 and image.shape[-1] == 3, name
        assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
        assert image.std() > 0.1, name  # not a flat placeholder
    assert photos["astronaut"].shape == (512, 512, 3)
    small = kerasconv.data.sample_images(["chelsea"], size=(40, 50))
    assert small["chelsea"].shape == (40, 50, 3)
    with pytest.raises(ValueError, match="Unknown sample image"):
        kerasconv.data.sample_image("mona_lisa")
