"""kerasconv.visualize: look inside convnets and optimise images.

Compute functions return raw per-sample arrays; all drawing lives in ``kerasconv.visualize.plot``.
Part 1 looks inside a trained network (filters, activations, attributions, sanity checks); part 2
optimises images and weights (activation maximisation, inversion, DeepDream, style transfer, loss
landscapes, feature evolution). Both run on the one gradient engine, ``kerasconv.gradients``.
"""

from kerasconv.visualize import plot
from kerasconv.visualize._synthesis import OptimizationResult
from kerasconv.visualize.activations import activations
from kerasconv.visualize.attribution import (
    gradient_times_input,
    input_gradients,
    integrated_gradients,
    saliency_map,
    smoothgrad,
)
from kerasconv.visualize.cam import grad_cam, grad_cam_plus_plus, normalize_maps
from kerasconv.visualize.deepdream import deep_dream, dream_objective
from kerasconv.visualize.embeddings import (
    collect_embeddings,
    nearest_neighbors,
    neighbor_comparison,
    penultimate_layer,
    project,
)
from kerasconv.visualize.evolution import FeatureEvolution
from kerasconv.visualize.filters import convolution_layers, filters
from kerasconv.visualize.guided import deconvnet, guided_backprop, guided_grad_cam
from kerasconv.visualize.inversion import (
    invert_features,
    invert_from_layers,
    reconstruction_error,
)
from kerasconv.visualize.landscape import (
    filter_norms,
    interpolate_loss,
    loss_surface,
    model_state,
    random_directions,
)
from kerasconv.visualize.maximization import activation_maximization
from kerasconv.visualize.occlusion import occlusion_sensitivity
from kerasconv.visualize.receptive_field import ReceptiveField, receptive_field, receptive_fields
from kerasconv.visualize.sanity import METHODS, deletion_insertion, model_randomization_test
from kerasconv.visualize.style import (
    PerceptualLoss,
    TransformNet,
    gram_matrix,
    style_transfer,
    train_fast_style,
    vgg_preprocess,
)
from kerasconv.visualize.top_patches import TopPatches, top_patches
