"""A backup of the training state that a kill or a damaged file cannot turn into a dead end.

Keras's ``BackupAndRestore`` writes ``latest.weights.h5`` in place: a kill during the write leaves a
truncated file and every later run fails on it. ``SafeBackup`` instead

* writes each epoch's state (model and optimizer variables) to a temporary file and renames it into
  place (``os.replace`` is atomic), so a kill during a write leaves the previous backups untouched;
* keeps the last ``keep`` epochs' backups (default 2: the current and the previous one);
* on restart, loads the newest backup that reads back; a damaged one (truncated, corrupt) is moved
  aside as ``damaged-*`` and the run resumes from the previous good backup with a warning; with no
  usable backup at all it warns and starts afresh rather than failing;
* deletes the folder when training completes, as Keras's callback does.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import warnings

import keras

_NAME = re.compile(r"^epoch-(\d+)\.weights\.h5$")


def write_weights(model, path):
    """Write ``model``'s weights (optimizer state included) to ``path`` (tests replace this to
    simulate a kill in the middle of the write)."""
    model.save_weights(path)


class SafeBackup(keras.callbacks.Callback):
    """Back up the training state at the end of every epoch and resume from it (see module doc).

    Args:
        backup_dir: a folder used by this callback only.
        keep: how many epochs' backups to keep (at least 1; 2 survives a damaged newest file).
        delete_on_end: remove the folder once training completes.
    """

    def __init__(self, backup_dir, keep=2, delete_on_end=True):
        super().__init__()
        if keep < 1:
            raise ValueError(f"keep must be >= 1; got {keep}.")
        self.backup_dir = os.fspath(backup_dir)
        self.keep = keep
        self.delete_on_end = delete_on_end
        self.resumed_from = None

    def _backups(self):
        """``[(epoch, path)]``, newest first."""
        found = []
        if os.path.isdir(self.backup_dir):
            for name in os.listdir(self.backup_dir):
                match = _NAME.match(name)
                if match:
                    found.append((int(match.group(1)), os.path.join(self.backup_dir, name)))
        return sorted(found, reverse=True)

    def on_train_begin(self, logs=None):
        for partial in glob.glob(os.path.join(self.backup_dir, ".partial-*")):
            warnings.warn(
                f"Removed {partial}: an incomplete backup left by a run killed while writing it. "
                "Older backups are intact.",
                stacklevel=2,
            )
            os.remove(partial)
        backups = self._backups()
        if not backups:
            return
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = list(model.weights)
        if model.optimizer is not None:
            variables += list(model.optimizer.variables)
        initial = [v.numpy() for v in variables]
        damaged = []
        for epoch, path in backups:
            try:
                model.load_weights(path)
            except Exception as error:  # noqa: BLE001 - any failure to read means a damaged file
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                aside = os.path.join(self.backup_dir, "damaged-" + os.path.basename(path))
                os.replace(path, aside)
                damaged.append(f"{os.path.basename(path)} ({reason[:200]}; moved to {aside})")
                continue
            model._initial_epoch = epoch  # what Keras's own BackupAndRestore sets
            self.resumed_from = epoch
            if damaged:
                warnings.warn(
                    f"Damaged backup {'; '.join(damaged)}. Resumed from the previous good backup "
                    f"{path} (after epoch {epoch}).",
                    stacklevel=2,
                )
            return
        for variable, value in zip(variables, initial):
            variable.assign(value)
        warnings.warn(
            f"No usable backup in {self.backup_dir}: {'; '.join(damaged)}. Training starts from "
            "epoch 1 with the model's current weights.",
            stacklevel=2,
        )

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        final = os.path.join(self.backup_dir, f"epoch-{epoch + 1:05d}.weights.h5")
        partial = os.path.join(self.backup_dir, f".partial-epoch-{epoch + 1:05d}.weights.h5")
        write_weights(self.model, partial)
        os.replace(partial, final)
        for _, path in self._backups()[self.keep :]:
            os.remove(path)

    def on_train_end(self, logs=None):
        if self.delete_on_end and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)
