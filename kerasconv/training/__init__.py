"""kerasconv.training: the training recipe (and, in sub-modules, adversarial and distributed training)."""

from kerasconv.training.adversarial import AdversarialModel  # noqa: F401
from kerasconv.training.backup import SafeBackup
from kerasconv.training.checks import TrainingDivergedError
from kerasconv.training.common import confusion_matrix, default_loss, evaluate
from kerasconv.training.distributed import train_distributed
from kerasconv.training.precision import mixed_precision
from kerasconv.training.recipe import make_optimizer, reproducible, train

__all__ = [
    "SafeBackup",
    "TrainingDivergedError",
    "confusion_matrix",
    "default_loss",
    "evaluate",
    "make_optimizer",
    "mixed_precision",
    "reproducible",
    "train",
    "train_distributed",
]
