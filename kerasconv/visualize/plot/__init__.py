"""All of kerasconv's drawing, on matplotlib (Agg, so it works with no screen).

Compute functions elsewhere return arrays; the functions here turn arrays into figures. Each returns
the ``matplotlib.figure.Figure`` and, when ``path`` is given, also saves a PNG there.

One module per area, so a drawing is found next to the name of what it draws:

==========================  =====================================================================
``plot.images``             ``image_grid``, ``heatmap_overlay``, ``labelled_image_rows``
``plot.training``           ``training_curves``, ``confusion_matrix``, ``prediction_grid``,
                            ``accuracy_curves``
``plot.attacks``            ``adversarial_example``, ``transferability_heatmap``, ``accuracy_vs_eps``
``plot.filters``            ``filter_grid``, ``feature_map_grid``, ``whitening_filters``,
                            ``feature_evolution``
``plot.attributions``       ``attribution_grid``, ``top_patch_grid``, ``randomization_curves``,
                            ``faithfulness_curves``
``plot.embeddings``         ``embedding_scatter``, ``embedding_thumbnails``, ``neighbor_rows``
``plot.transfer``           ``invariance_curves``, ``probe_accuracy_by_layer``
``plot.autoencoders``       ``latent_scatter``, ``latent_manifold``
``plot.synthesis``          ``optimization_curves``, ``loss_surfaces``, ``interpolation_curves``
==========================  =====================================================================

Every name is also importable from the package itself (``from kerasconv.visualize.plot import X``).
"""

from kerasconv.visualize.plot._figure import _finish, save_figure, to_displayable
from kerasconv.visualize.plot.attacks import (
    accuracy_vs_eps,
    adversarial_example,
    transferability_heatmap,
)
from kerasconv.visualize.plot.attributions import (
    attribution_grid,
    faithfulness_curves,
    randomization_curves,
    top_patch_grid,
)
from kerasconv.visualize.plot.autoencoders import latent_manifold, latent_scatter
from kerasconv.visualize.plot.embeddings import (
    embedding_scatter,
    embedding_thumbnails,
    neighbor_rows,
)
from kerasconv.visualize.plot.filters import (
    feature_evolution,
    feature_map_grid,
    filter_grid,
    whitening_filters,
)
from kerasconv.visualize.plot.images import heatmap_overlay, image_grid, labelled_image_rows
from kerasconv.visualize.plot.synthesis import (
    interpolation_curves,
    loss_surfaces,
    optimization_curves,
)
from kerasconv.visualize.plot.training import (
    accuracy_curves,
    confusion_matrix,
    prediction_grid,
    training_curves,
)
from kerasconv.visualize.plot.transfer import invariance_curves, probe_accuracy_by_layer

__all__ = [
    "accuracy_curves",
    "accuracy_vs_eps",
    "adversarial_example",
    "attribution_grid",
    "confusion_matrix",
    "embedding_scatter",
    "embedding_thumbnails",
    "faithfulness_curves",
    "feature_evolution",
    "feature_map_grid",
    "filter_grid",
    "heatmap_overlay",
    "image_grid",
    "interpolation_curves",
    "invariance_curves",
    "labelled_image_rows",
    "latent_manifold",
    "latent_scatter",
    "loss_surfaces",
    "neighbor_rows",
    "optimization_curves",
    "prediction_grid",
    "probe_accuracy_by_layer",
    "randomization_curves",
    "save_figure",
    "to_displayable",
    "top_patch_grid",
    "training_curves",
    "transferability_heatmap",
    "whitening_filters",
    "_finish",
]
