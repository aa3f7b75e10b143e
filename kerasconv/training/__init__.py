"""kerasconv.training: the training recipe (and, in sub-modules, adversarial and distributed training)."""

from kerasconv.training.adversarial import AdversarialModel  # noqa: F401
from kerasconv.training.distributed import train_distributed
from kerasconv.training.precision import mixed_precision
from kerasconv.training.recipe import (
    confusion_matrix,
    default_loss,
    evaluate,
    make_optimizer,
    train,
)

__all__ = [
    "confusion_matrix",
    "default_loss",
    "evaluate",
    "make_optimizer",
    "mixed_precision",
    "train",
    "train_distributed",
]
