"""kerasconv.attacks: adversarial attacks and robustness evaluation.

Functional attacks with CleverHans' argument names (``model, x, eps, norm, eps_iter, nb_iter,
clip_min, clip_max, y, targeted, rand_init``). They take a model's logits: a Keras model ending in
softmax has its softmax removed automatically, and a callable returning probabilities is refused.
``eps`` may be a list. Each returns an ``AttackResult`` (``x_adv, success = result``).

>>> import kerasconv
>>> x_adv, success = kerasconv.attacks.fast_gradient_method(model, x, 0.1, clip_min=0, clip_max=1)
"""

from kerasconv.attacks._common import AttackResult, compiled_functions
from kerasconv.attacks.ensemble import (
    ensemble_attack,
    transferability_markdown,
    transferability_matrix,
)
from kerasconv.attacks.fast_gradient import fast_gradient_method
from kerasconv.attacks.fooling import FoolingResult, fooling_images
from kerasconv.attacks.iterative import (
    basic_iterative_method,
    momentum_iterative_method,
    projected_gradient_descent,
)
from kerasconv.attacks.one_pixel import OnePixelResult, one_pixel_attack
from kerasconv.attacks.patch import PatchResult, adversarial_patch, apply_patch, patch_success_rate
from kerasconv.attacks.robustness import RobustnessReport, evaluate_robustness, gradient_statistics
from kerasconv.attacks.universal import UniversalResult, fooling_rate, universal_perturbation

__all__ = [
    "AttackResult",
    "FoolingResult",
    "OnePixelResult",
    "PatchResult",
    "UniversalResult",
    "adversarial_patch",
    "apply_patch",
    "RobustnessReport",
    "ensemble_attack",
    "evaluate_robustness",
    "gradient_statistics",
    "fooling_images",
    "fooling_rate",
    "one_pixel_attack",
    "patch_success_rate",
    "transferability_markdown",
    "transferability_matrix",
    "universal_perturbation",
    "basic_iterative_method",
    "compiled_functions",
    "fast_gradient_method",
    "momentum_iterative_method",
    "projected_gradient_descent",
]
