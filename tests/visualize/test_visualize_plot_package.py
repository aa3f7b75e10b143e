"""The drawing package: one module per area, every name still reachable from ``kerasconv.visualize.plot``."""

import importlib

import numpy as np

from kerasconv.visualize import plot
from tests._compare import assert_close_nontrivial

# Every public name of the former single-module plot.py, with the area module that now holds it.
AREAS = {
    "images": ["image_grid", "heatmap_overlay", "labelled_image_rows"],
    "training": ["training_curves", "confusion_matrix", "prediction_grid", "accuracy_curves"],
    "attacks": ["adversarial_example", "transferability_heatmap", "accuracy_vs_eps"],
    "filters": ["filter_grid", "feature_map_grid", "whitening_filters", "feature_evolution"],
    "attributions": [
        "attribution_grid",
        "top_patch_grid",
        "randomization_curves",
        "faithfulness_curves",
    ],
    "embeddings": ["embedding_scatter", "embedding_thumbnails", "neighbor_rows"],
    "transfer": ["invariance_curves", "probe_accuracy_by_layer"],
    "autoencoders": ["latent_scatter", "latent_manifold"],
    "synthesis": ["optimization_curves", "loss_surfaces", "interpolation_curves"],
}


def test_every_former_name_is_reachable_from_the_package_and_its_area_module():
    for area, names in AREAS.items():
        module = importlib.import_module(f"kerasconv.visualize.plot.{area}")
        for name in names:
            assert getattr(plot, name) is getattr(module, name), (area, name)
    for name in ("save_figure", "to_displayable"):
        assert callable(getattr(plot, name))
    assert sorted(n for names in AREAS.values() for n in names) == sorted(
        n for n in plot.__all__ if n not in ("save_figure", "to_displayable", "_finish")
    )


def test_heatmap_overlay_blends_the_colour_map_over_the_scaled_image():
    image = np.linspace(0, 2, 16, dtype="float32").reshape(4, 4)
    heat = np.zeros((4, 4), "float32")
    heat[0, 0] = 1.0
    blended = plot.heatmap_overlay(image, heat, alpha=0.5, cmap="gray")
    grey = image / 2
    expected = 0.5 * grey[..., None] + 0.5 * heat[..., None]
    assert_close_nontrivial(blended, np.repeat(expected, 3, axis=-1), atol=1e-6)
