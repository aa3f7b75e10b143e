"""tensorflow-datasets builders for the real data that ships inside Python packages.

Nothing is downloaded: ``download_and_prepare`` reads the arrays bundled with scikit-learn and
scikit-image and writes ordinary tfds records, so everything downstream (``tfds.load``, splits,
``DatasetInfo``) works exactly as for a catalogue dataset.

* ``sklearn_digits``: the UCI handwritten digits bundled with scikit-learn (1,797 real 8×8 images
  with 17 grey levels, 10 classes), stored as 8×8 uint8 images (grey levels scaled 0–16 → 0–255).
  Fixed stratified split: 1,438 train / 359 test (20% of each class, seed 0).
* ``lfw_faces``: scikit-image's LFW subset, 200 real 25×25 grey images — 100 faces from Labeled
  Faces in the Wild and 100 non-face patches. Labels: 0 ``non_face``, 1 ``face``. Fixed stratified
  split: 160 train / 40 test (seed 0).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

_SPLIT_SEED = 0


def stratified_split(labels, test_fraction, seed=_SPLIT_SEED):
    """Indices ``(train, test)`` of a fixed stratified split (same every time, on every machine)."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        n_test = int(round(len(members) * test_fraction))
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return np.sort(np.array(train)), np.sort(np.array(test))


class SklearnDigits(tfds.core.GeneratorBasedBuilder):
    """scikit-learn's bundled handwritten digits (UCI optdigits test set, Alpaydin & Kaynak 1998)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: 8×8 uint8 images, fixed 1,438/359 split."}

    def _info(self):
        return self.dataset_info_from_configs(
            description=(
                "1,797 real 8×8 handwritten digits bundled with scikit-learn (grey levels 0-16 "
                "scaled to 0-255), 10 classes, fixed stratified 80/20 split."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://archive.ics.uci.edu/dataset/80",
            citation="Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {"train": self._generate_examples("train"), "test": self._generate_examples("test")}

    def _generate_examples(self, split):
        from sklearn.datasets import load_digits

        digits = load_digits()
        train, test = stratified_split(digits.target, 0.2)
        indices = train if split == "train" else test
        images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
        for index in indices:
            yield int(index), {"image": images[index], "label": int(digits.target[index])}


class LfwFaces(tfds.core.GeneratorBasedBuilder):
    """scikit-image's LFW subset: 100 faces and 100 non-faces, 25×25 grey."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: 25×25 uint8 images, fixed 160/40 split."}

    def _info(self):
        return self.dataset_info_from_configs(
            description=(
                "200 real 25×25 grey images bundled with scikit-image: 100 faces from Labeled "
                "Faces in the Wild and 100 non-face image patches. Fixed stratified 80/20 split."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(25, 25, 1)),
                    "label": tfds.features.ClassLabel(names=["non_face", "face"]),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="http://vis-www.cs.umass.edu/lfw/",
            citation="Huang, G. B. et al. (2007). Labeled Faces in the Wild.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {"train": self._generate_examples("train"), "test": self._generate_examples("test")}

    def _generate_examples(self, split):
        from skimage import data

        images = data.lfw_subset()
        labels = np.array([1] * 100 + [0] * 100)
        train, test = stratified_split(labels, 0.2)
        indices = train if split == "train" else test
        images = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)[..., None]
        for index in indices:
            yield int(index), {"image": images[index], "label": int(labels[index])}
