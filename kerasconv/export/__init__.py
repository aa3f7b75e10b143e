"""kerasconv.export: SavedModels in TensorFlow Serving's layout.

    import kerasconv
    path = kerasconv.export.export_model(model, "saved_models/lenet5_digits", class_names=names)
    # -> "saved_models/lenet5_digits/1" with signatures serving_default, predict_images, saliency

See ``docs/serving.md``.
"""

from kerasconv.export.saved_model import (
    CLASS_NAMES_ASSET,
    EXAMPLE_IMAGE_FEATURE,
    EXAMPLE_SIGNATURES,
    SIGNATURES,
    export_model,
    list_versions,
    read_class_names,
    remove_stale_staging,
)

__all__ = [
    "CLASS_NAMES_ASSET",
    "EXAMPLE_IMAGE_FEATURE",
    "EXAMPLE_SIGNATURES",
    "SIGNATURES",
    "export_model",
    "list_versions",
    "read_class_names",
    "remove_stale_staging",
]
