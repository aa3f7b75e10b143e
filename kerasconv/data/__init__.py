"""kerasconv.data: real datasets offline, through tensorflow-datasets builders.

>>> import kerasconv
>>> train = kerasconv.data.load("fashion_mnist", split="train", batch_size=64)
>>> x_test, y_test = kerasconv.data.load_arrays("digits", split="test", image_size=32)
>>> photos = kerasconv.data.sample_images(size=128)
"""

from kerasconv.data.builders import LfwFaces, SklearnDigits
from kerasconv.data.fashion_mnist import FashionMnist, FashionMnistError
from kerasconv.data.loading import (
    BUNDLED,
    bundled_builder,
    class_names,
    default_data_dir,
    load,
    load_arrays,
)
from kerasconv.data.preprocessing import augmentation, fit_standardization
from kerasconv.data.samples import SAMPLE_NAMES, sample_image, sample_images

__all__ = [
    "BUNDLED",
    "FashionMnist",
    "FashionMnistError",
    "LfwFaces",
    "SAMPLE_NAMES",
    "SklearnDigits",
    "augmentation",
    "bundled_builder",
    "class_names",
    "default_data_dir",
    "fit_standardization",
    "load",
    "load_arrays",
    "sample_image",
    "sample_images",
]
