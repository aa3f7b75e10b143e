"""Offline transfer tasks built from the bundled real data.

The main task splits the real handwritten digits by class: a network is trained on digits 0–4
(the source task, plenty of labels) and its features are reused for digits 5–9 (the target task,
a handful of labels per class). The two tasks share no class, so nothing the target is scored on
was seen during pre-training, yet both are handwriting, as ImageNet and Caltech share photographs.
``lfw_faces`` (faces vs. non-faces, resized to the digits' size) is the far transfer.
"""

from __future__ import annotations

import numpy as np

from kerasconv._validation import check_int

SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)


def split_classes(x, y, classes, relabel=True):
    """The examples of ``classes`` only; with ``relabel`` their labels become ``0..len(classes)-1``
    in the order given."""
    y = np.asarray(y)
    classes = [int(c) for c in classes]
    if not classes:
        raise ValueError("classes must name at least one class.")
    missing = [c for c in classes if not np.any(y == c)]
    if missing:
        raise ValueError(f"classes {missing} do not occur in the labels.")
    keep = np.isin(y, classes)
    labels = y[keep]
    if relabel:
        lookup = {c: i for i, c in enumerate(classes)}
        labels = np.array([lookup[int(v)] for v in labels], dtype="int64")
    return np.asarray(x)[keep], labels


def per_class_subset(x, y, per_class, seed=0):
    """``per_class`` random examples of each class (a "small split")."""
    per_class = check_int("per_class", per_class, minimum=1)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has only {len(members)} examples; asked for {per_class}.")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    chosen = np.sort(np.concatenate(chosen))
    return np.asarray(x)[chosen], y[chosen]


def parse_classes(text):
    """``"5-9"`` or ``"5,6,7"`` -> ``[5, 6, 7, 8, 9]`` / ``[5, 6, 7]`` (for the command line)."""
    classes = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            try:
                low, high = int(low), int(high)
            except ValueError:
                raise ValueError(f"bad class range {part!r}; expected like 5-9.") from None
            if high < low:
                raise ValueError(f"bad class range {part!r}: the end is below the start.")
            classes.extend(range(low, high + 1))
        else:
            try:
                classes.append(int(part))
            except ValueError:
                raise ValueError(
                    f"bad class {part!r}; expected integers like 5-9 or 0,2,4."
                ) from None
    if not classes:
        raise ValueError(f"no classes in {text!r}.")
    return classes


def digits_transfer_task(image_size=32, source=SOURCE_CLASSES, target=TARGET_CLASSES):
    """Arrays for the digits split task: ``{"source": (x_train, y_train, x_test, y_test),
    "target": (...)}``, labels relabelled to ``0..4`` in each task."""
    from kerasconv.data import load_arrays

    x_train, y_train = load_arrays("digits", "train", image_size=image_size)
    x_test, y_test = load_arrays("digits", "test", image_size=image_size)
    task = {}
    for name, classes in (("source", source), ("target", target)):
        task[name] = split_classes(x_train, y_train, classes) + split_classes(
            x_test, y_test, classes
        )
    return task
