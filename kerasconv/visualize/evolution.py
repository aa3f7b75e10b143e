"""Feature evolution during training (Zeiler & Fergus 2014, Fig. 4, the seeds' "evolution of
features during training"): snapshots of chosen features at chosen epochs, drawn as a grid with
one row per feature and one column per epoch.

Two kinds of snapshot:

* ``"filters"``: the kernels of chosen filters of a convolutional layer (first-layer filters are
  images; deeper kernels are shown channel-averaged);
* ``"activations"``: for each chosen channel, the feature map of the probe image that activates it
  most (its top activation), so one sees what each unit responds to sharpen over the epochs.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasconv._validation import check_choice, check_image_batch, check_int


class FeatureEvolution(keras.callbacks.Callback):
    """Keras callback recording features of ``layer`` at chosen epochs.

    Args:
        layer: name of the layer to watch.
        epochs: the epochs after which to record (1-based; 0 records before training starts).
        mode: ``"filters"`` or ``"activations"``.
        features: indices of the filters / channels to record (default the first 8).
        images: probe images for ``"activations"`` (a small batch of real images).

    After training, ``records`` is ``{epoch: array (features, h, w[, c])}`` and ``top_images``
    (activations mode) ``{epoch: (features,) indices of the probe image that won}``;
    ``plot(path)`` draws the grid through ``kerasconv.visualize.plot.feature_evolution``.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5()
        >>> watch = kerasconv.visualize.FeatureEvolution("c1", epochs=(0, 1, 5), mode="filters")
        >>> # kerasconv.training.train(model, data, epochs=5, callbacks=[watch])
        >>> # watch.plot("evolution.png")
    """

    def __init__(self, layer, epochs=(0, 1, 2, 5, 10), mode="filters", features=None, images=None):
        super().__init__()
        if not isinstance(layer, str):
            raise TypeError(f"layer must be a layer name; got {type(layer).__name__}.")
        self.layer = layer
        self.epochs = sorted({check_int("epochs", int(e), minimum=0) for e in epochs})
        if not self.epochs:
            raise ValueError("epochs must name at least one epoch.")
        self.mode = check_choice("mode", mode, ("filters", "activations"))
        self.features = (
            None if features is None else [check_int("features", int(f), 0) for f in features]
        )
        if mode == "activations":
            if images is None:
                raise ValueError("mode='activations' needs probe images.")
            self.images = check_image_batch("images", images).numpy()
        else:
            self.images = None
        self.records = {}
        self.top_images = {}
        self._taps = None

    def _chosen(self, available):
        chosen = self.features if self.features is not None else list(range(min(8, available)))
        if max(chosen) >= available:
            raise ValueError(
                f"features must be < {available} (channels of {self.layer!r}); got {chosen}."
            )
        return chosen

    def snapshot(self):
        """The current features of the watched layer (see the class docstring)."""
        from kerasconv.models.features import feature_extractor, find_layer

        layer = find_layer(self.model, self.layer)
        if self.mode == "filters":
            kernel = getattr(layer, "kernel", None)
            if kernel is None or len(kernel.shape) != 4:
                raise ValueError(f"mode='filters' needs a Conv2D layer; {self.layer!r} is not one.")
            kernel = np.asarray(kernel.numpy())
            chosen = self._chosen(kernel.shape[-1])
            filters = np.moveaxis(kernel[..., chosen], -1, 0)  # (features, kh, kw, in)
            if filters.shape[-1] not in (1, 3):
                filters = filters.mean(axis=-1, keepdims=True)
            return filters, None
        if self._taps is None:
            self._taps = feature_extractor(self.model, [self.layer])
        activation = np.asarray(self._taps(self.images, training=False)[self.layer])
        if activation.ndim != 4:
            raise ValueError(
                f"mode='activations' needs a convolutional layer; {self.layer!r} is not."
            )
        chosen = self._chosen(activation.shape[-1])
        maps = activation[..., chosen]  # (images, h, w, features)
        winners = maps.reshape(maps.shape[0], -1, maps.shape[-1]).max(axis=1).argmax(axis=0)
        return np.stack([maps[w, :, :, i] for i, w in enumerate(winners)]), winners

    def _record(self, epoch):
        features, winners = self.snapshot()
        self.records[epoch] = features
        if winners is not None:
            self.top_images[epoch] = winners

    def on_train_begin(self, logs=None):
        if 0 in self.epochs:
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self._record(epoch + 1)

    def plot(self, path=None, title=None):
        """Draw the recorded grid (rows: features, columns: epochs)."""
        from kerasconv.visualize import plot

        if not self.records:
            raise ValueError("nothing recorded yet: train the model with this callback first.")
        return plot.feature_evolution(
            self.records,
            path=path,
            title=title or f"Evolution of {self.layer} ({self.mode}) during training",
        )
