"""kerasconv.visualize: look inside convnets and optimise images (compute here, draw in ``plot``)."""

from kerasconv.visualize import plot

# --- part 1: looking inside (filters, activations, attributions) ---
from kerasconv.visualize.activations import activations  # noqa: E402
from kerasconv.visualize.attribution import (  # noqa: E402
    gradient_times_input,
    input_gradients,
    integrated_gradients,
    saliency_map,
    smoothgrad,
)
from kerasconv.visualize.cam import grad_cam, grad_cam_plus_plus, normalize_maps  # noqa: E402
from kerasconv.visualize.embeddings import (  # noqa: E402
    collect_embeddings,
    nearest_neighbors,
    neighbor_comparison,
    penultimate_layer,
    project,
)
from kerasconv.visualize.filters import convolution_layers, filters  # noqa: E402
from kerasconv.visualize.guided import deconvnet, guided_backprop, guided_grad_cam  # noqa: E402
from kerasconv.visualize.occlusion import occlusion_sensitivity  # noqa: E402
from kerasconv.visualize.receptive_field import (  # noqa: E402
    ReceptiveField,
    receptive_field,
    receptive_fields,
)
from kerasconv.visualize.sanity import (  # noqa: E402
    METHODS,
    deletion_insertion,
    model_randomization_test,
)
from kerasconv.visualize.top_patches import TopPatches, top_patches  # noqa: E402
# --- end of part 1 ---

# --- part 2: optimising images and weights ---
from kerasconv.visualize._synthesis import OptimizationResult  # noqa: E402
from kerasconv.visualize.deepdream import deep_dream, dream_objective  # noqa: E402
from kerasconv.visualize.evolution import FeatureEvolution  # noqa: E402
from kerasconv.visualize.inversion import (  # noqa: E402
    invert_features,
    invert_from_layers,
    reconstruction_error,
)
from kerasconv.visualize.landscape import (  # noqa: E402
    filter_norms,
    interpolate_loss,
    loss_surface,
    model_state,
    random_directions,
)
from kerasconv.visualize.maximization import activation_maximization  # noqa: E402
from kerasconv.visualize.style import (  # noqa: E402
    PerceptualLoss,
    TransformNet,
    gram_matrix,
    style_transfer,
    train_fast_style,
    vgg_preprocess,
)
# --- end of part 2 ---
