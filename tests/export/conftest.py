"""An exported copy of the session's trained LeNet-5, shared by the export tests."""

import pytest

CLASS_NAMES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"
]  # fmt: skip


@pytest.fixture(scope="session")
def exported_lenet(tmp_path_factory, trained_lenet):
    """``(base_path, version_dir, class_names)`` of ``trained_lenet`` exported as version 1."""
    import kerasconv

    base = tmp_path_factory.mktemp("export") / "lenet5_digits"
    path = kerasconv.export.export_model(trained_lenet, base, class_names=CLASS_NAMES, top_k=3)
    return base, path, CLASS_NAMES
