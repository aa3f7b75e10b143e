"""kerasconv.training: the training recipe (and, in sub-modules, adversarial and distributed training)."""

from kerasconv.training.recipe import (
    confusion_matrix,
    default_loss,
    evaluate,
    make_optimizer,
    train,
)

__all__ = ["confusion_matrix", "default_loss", "evaluate", "make_optimizer", "train"]
