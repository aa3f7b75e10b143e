"""Fine-tuning a trained convnet on a new task (seed 002, "Transfer learning": lots of labelled data
for one problem makes up for little labelled data for another).

The pieces, each usable alone:

* ``replace_head(model, classes)`` — a copy of ``model`` with a new classifier on the features of
  the layer below the old one (or of any layer ``at``); the original model is never modified.
* ``freeze(model, up_to=...)`` — make every layer up to (and including) ``up_to`` non-trainable.
* ``GroupedOptimizer`` — one Keras optimizer per group of layers (for example the new head at a
  high learning rate and the pre-trained backbone at a low one). Each gradient goes to the
  optimizer of its variable's group, so each group keeps its own learning rate, momentum and
  schedule; the model trains with plain ``model.fit``.
* ``UnfreezeSchedule`` — a callback that unfreezes layers at chosen epochs (gradual unfreezing)
  and rebuilds the training graph.
* ``fine_tune(...)`` — all of the above in one call with the project's training recipe.
"""

from __future__ import annotations

import keras

from kerasconv._validation import check_choice, check_float, check_int
from kerasconv.models.features import find_layer


def _classifier_layer(model):
    try:
        return model.get_layer("predictions")
    except ValueError:
        return model.layers[-1]


def _copy_model(model):
    """A copy with its own layers and the same weights (so fine-tuning never touches ``model``)."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def replace_head(
    model,
    classes,
    at=None,
    classifier_activation="softmax",
    pooling="flatten",
    name=None,
    copy=True,
):
    """``model`` with its classifier replaced by a new ``Dense(classes, name="predictions")``.

    Args:
        model: a trained functional or Sequential Keras model.
        classes: number of classes of the new task.
        at: the layer whose output feeds the new head (default: the layer feeding the old
            classifier, the seed's "layer before last").
        classifier_activation: activation of the new head (``None`` for logits).
        pooling: how a feature map feeds the head: ``"flatten"`` or ``"avg"`` (global average).
        name: name of the new model (default ``"<model>_transfer"``).
        copy: work on a copy of ``model`` (default); ``False`` shares the original's layers, so
            training the new model also changes the original's weights.

    Returns:
        a new functional model whose layers up to ``at`` carry ``model``'s trained weights.

    Example:
        >>> import kerasconv
        >>> source = kerasconv.models.LeNet5(classes=5)
        >>> target = kerasconv.transfer.replace_head(source, classes=3)
        >>> target.get_layer("predictions").units, target.get_layer("f6").units
        (3, 84)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    classes = check_int("classes", classes, minimum=1)
    check_choice("pooling", pooling, ("flatten", "avg"))
    base = _copy_model(model) if copy else model
    if at is None:
        classifier = _classifier_layer(base)
        features = classifier.input
        if isinstance(features, (list, tuple)):
            raise ValueError(f"the classifier {classifier.name!r} has several inputs; pass at=.")
    else:
        if not isinstance(at, str):
            raise TypeError(f"at must be a layer name; got {type(at).__name__}.")
        features = find_layer(base, at).output
    if len(features.shape) > 2:
        features = (
            keras.layers.Flatten(name="head_flatten")(features)
            if pooling == "flatten"
            else keras.layers.GlobalAveragePooling2D(name="head_pool")(features)
        )
    outputs = keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(
        features
    )
    return keras.Model(base.inputs, outputs, name=name or f"{model.name}_transfer")


def _layers_up_to(model, up_to):
    names = [layer.name for layer in model.layers]
    if up_to not in names:
        find_layer(model, up_to)  # raises with the list of layers
        raise ValueError(f"freeze works on top-level layers; {up_to!r} is nested.")
    return model.layers[: names.index(up_to) + 1]


def freeze(model, up_to=None, trainable=False):
    """Set ``trainable`` on the layers of ``model`` up to and including ``up_to``.

    ``up_to=None`` freezes everything but the classifier (``"predictions"``, else the last layer).
    Returns the names of the layers changed. Compile (or ``make_train_function(force=True)``)
    afterwards: Keras reads ``trainable`` when it builds the training graph.

    Example:
        >>> model = kerasconv.models.LeNet5()
        >>> kerasconv.transfer.freeze(model, up_to="c5")
        ['input', 'c1', 's2', 'c3', 's4', 'c5']
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    if up_to is None:
        classifier = _classifier_layer(model)
        layers = [layer for layer in model.layers if layer is not classifier]
    else:
        layers = _layers_up_to(model, up_to)
    for layer in layers:
        layer.trainable = bool(trainable)
    return [layer.name for layer in layers]


def trainable_layer_names(model):
    """Names of the layers of ``model`` that have trainable weights right now."""
    return [layer.name for layer in model.layers if layer.trainable_weights]


@keras.saving.register_keras_serializable(package="kerasconv")
class GroupedOptimizer(keras.optimizers.Optimizer):
    """One optimizer per group of layers: per-group learning rates for fine-tuning.

    Args:
        optimizers: a list of Keras optimizers.
        groups: a list of the same length; each entry is a list of layer names whose variables
            that optimizer updates, and at most one entry is ``None``, meaning "every other
            variable". A variable belongs to a layer when the layer's name is a component of
            the variable's path (``"f6/kernel"`` belongs to ``"f6"``).

    Build it over every variable that will ever train
    (``optimizer.build(model.trainable_variables)`` before freezing, as ``fine_tune`` does) so
    that ``UnfreezeSchedule`` can unfreeze layers later.

    Example:
        >>> head = keras.optimizers.SGD(0.01, momentum=0.9)
        >>> backbone = keras.optimizers.SGD(0.001, momentum=0.9)
        >>> groups = [["predictions"], None]  # the head, then every other variable
        >>> optimizer = kerasconv.transfer.GroupedOptimizer([head, backbone], groups)
    """

    def __init__(self, optimizers, groups, name="grouped_optimizer", **kwargs):
        if kwargs:
            raise ValueError(f"GroupedOptimizer takes no arguments {sorted(kwargs)}.")
        super().__init__(learning_rate=0.0, name=name)
        optimizers = [
            keras.optimizers.get(o) if isinstance(o, (str, dict)) else o for o in optimizers
        ]
        if not optimizers or len(optimizers) != len(groups):
            raise ValueError(
                f"GroupedOptimizer needs one group per optimizer; got {len(optimizers)} "
                f"optimizers and {len(groups)} groups."
            )
        for optimizer in optimizers:
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise TypeError(f"optimizers must be Keras optimizers; got {optimizer!r}.")
        groups = [None if g is None else [g] if isinstance(g, str) else list(g) for g in groups]
        if sum(g is None for g in groups) > 1:
            raise ValueError("at most one group may be None (every other variable).")
        self.optimizers = optimizers
        self.groups = groups

    def group_of(self, variable):
        """Index of the group (and optimizer) that updates ``variable``."""
        parts = set(variable.path.split("/")[:-1])
        fallback = None
        for index, group in enumerate(self.groups):
            if group is None:
                fallback = index
            elif parts & set(group):
                return index
        if fallback is None:
            raise ValueError(
                f"variable {variable.path!r} is in no group of the GroupedOptimizer "
                f"({self.groups}); add a None group for the remaining variables."
            )
        return fallback

    def _split(self, variables, values=None):
        buckets = [([], []) for _ in self.optimizers]
        values = values if values is not None else [None] * len(variables)
        for value, variable in zip(values, variables, strict=True):
            bucket = buckets[self.group_of(variable)]
            bucket[0].append(value)
            bucket[1].append(variable)
        return buckets

    def build(self, var_list):
        var_list = list(var_list)
        for optimizer, (_, variables) in zip(self.optimizers, self._split(var_list), strict=True):
            if not optimizer.built:
                optimizer.build(variables)
        super().build(var_list)

    def knows(self, variable):
        """Whether ``variable`` was part of the build (can be updated)."""
        inner = self.optimizers[self.group_of(variable)]
        return inner.built and inner._var_key(variable) in inner._trainable_variables_indices

    @property
    def variables(self):
        variables = list(self._variables)
        for optimizer in self.optimizers:
            variables.extend(optimizer.variables)
        return variables

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            raise ValueError("GroupedOptimizer.apply needs the variables with the gradients.")
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        for optimizer, (group_grads, variables) in zip(
            self.optimizers, self._split(trainable_variables, list(grads)), strict=True
        ):
            if variables:
                optimizer.apply(group_grads, variables)
        self._iterations.assign_add(1)

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": [keras.saving.serialize_keras_object(o) for o in self.optimizers],
            "groups": self.groups,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        optimizers = [
            keras.saving.deserialize_keras_object(o, custom_objects=custom_objects)
            for o in config.pop("optimizers")
        ]
        return cls(optimizers, **config)


def grouped_optimizer(
    head_layers=("predictions",),
    head_learning_rate=0.01,
    backbone_learning_rate=0.001,
    optimizer="sgd",
    momentum=0.9,
    weight_decay=0.0,
    decay_steps=None,
):
    """The common two-group case: the new head and the pre-trained backbone at their own rates.

    ``optimizer`` is ``"sgd"`` (with ``momentum``) or any Keras optimizer name. With
    ``decay_steps`` each rate follows a cosine decay over that many of its own steps.
    """
    from kerasconv.training import make_optimizer

    head_learning_rate = check_float("head_learning_rate", head_learning_rate, 0.0)
    backbone_learning_rate = check_float("backbone_learning_rate", backbone_learning_rate, 0.0)
    if isinstance(head_layers, str):
        head_layers = [head_layers]

    def rate(value):
        if decay_steps is None or value == 0:
            return None
        return keras.optimizers.schedules.CosineDecay(value, int(decay_steps), alpha=0.01)

    head = make_optimizer(
        optimizer, head_learning_rate, momentum, weight_decay, rate(head_learning_rate)
    )
    backbone = make_optimizer(
        optimizer, backbone_learning_rate, momentum, weight_decay, rate(backbone_learning_rate)
    )
    return GroupedOptimizer([head, backbone], [list(head_layers), None])


class UnfreezeSchedule(keras.callbacks.Callback):
    """Unfreeze layers at chosen epochs (gradual unfreezing), rebuilding the training graph.

    Args:
        schedule: ``{epoch: layers}`` where ``layers`` is a list of layer names or ``"all"``;
            at the start of ``epoch`` (0-based) those layers become trainable.
        verbose: print what is unfrozen.

    The optimizer must already know the variables it will be asked to update: build it over all
    variables before freezing (``fine_tune`` does this), or the callback raises at the start.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not isinstance(schedule, dict) or not schedule:
            raise ValueError(
                f"schedule must be a non-empty dict {{epoch: layers}}; got {schedule!r}."
            )
        self.schedule = {}
        for epoch, layers in schedule.items():
            epoch = check_int("schedule epoch", epoch, minimum=0)
            if layers != "all":
                layers = [layers] if isinstance(layers, str) else list(layers)
            self.schedule[epoch] = layers
        self.verbose = verbose
        self.unfrozen = {}

    def _layers(self, spec):
        if spec == "all":
            return list(self.model.layers)
        return [self.model.get_layer(name) for name in spec]

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        for spec in self.schedule.values():
            for layer in self._layers(spec):
                for variable in layer.weights:
                    if not variable.trainable:
                        continue
                    if isinstance(optimizer, GroupedOptimizer):
                        known = optimizer.knows(variable)
                    else:
                        indices = getattr(optimizer, "_trainable_variables_indices", None)
                        known = indices is None or optimizer._var_key(variable) in indices
                    if not known:
                        raise ValueError(
                            f"UnfreezeSchedule would unfreeze {variable.path!r}, which the "
                            "optimizer was not built with: call "
                            "optimizer.build(model.trainable_variables) before freezing "
                            "(kerasconv.transfer.fine_tune does)."
                        )

    def on_epoch_begin(self, epoch, logs=None):
        if epoch not in self.schedule:
            return
        changed = []
        for layer in self._layers(self.schedule[epoch]):
            if not layer.trainable:
                layer.trainable = True
                changed.append(layer.name)
        self.unfrozen[epoch] = changed
        if changed:
            # Keras reads trainable_weights when it traces the step: trace again.
            self.model.make_train_function(force=True)
            if self.verbose:
                print(f"epoch {epoch}: unfroze {', '.join(changed)}")


def _total_steps(data, batch_size, epochs):
    import math

    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        cardinality = int(data.cardinality())
        return cardinality * epochs if cardinality > 0 else None
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return math.ceil(len(data[0]) / batch_size) * epochs
    return None


def fine_tune(
    model,
    train_data,
    val_data=None,
    classes=None,
    at=None,
    freeze_up_to=None,
    head_learning_rate=0.01,
    backbone_learning_rate=0.001,
    unfreeze=None,
    epochs=10,
    batch_size=32,
    optimizer="sgd",
    momentum=0.9,
    weight_decay=0.0,
    schedule="cosine",
    seed=0,
    verbose=0,
    callbacks=(),
):
    """Fine-tune a copy of ``model`` on a new task; returns ``(new_model, history)``.

    Args:
        model: the trained source model (not modified).
        train_data, val_data: ``(x, y)`` arrays or ``tf.data`` of ``(images, labels)`` batches.
        classes: classes of the new task: replace the head (``None`` keeps the head).
        at: the layer feeding the new head (default: the one feeding the old classifier).
        freeze_up_to: freeze layers up to this one (``"all"``: everything but the head; ``None``:
            nothing frozen).
        head_learning_rate, backbone_learning_rate: per-group learning rates (the head is
            ``"predictions"``); set the backbone's to 0 to train the head only.
        unfreeze: ``{epoch: layers or "all"}`` for ``UnfreezeSchedule``.
        schedule: ``"cosine"`` (each group's rate decays over the run) or ``"constant"``.
        epochs, batch_size, optimizer, momentum, weight_decay, seed, verbose, callbacks: as in
            ``kerasconv.training.train``.
    """
    from kerasconv.training import default_loss, train

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    check_choice("schedule", schedule, ("cosine", "constant"))
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    keras.utils.set_random_seed(seed)
    target = replace_head(model, classes, at=at) if classes is not None else _copy_model(model)
    grouped = grouped_optimizer(
        ("predictions",),
        head_learning_rate,
        backbone_learning_rate,
        optimizer=optimizer,
        momentum=momentum,
        weight_decay=weight_decay,
        decay_steps=_total_steps(train_data, batch_size, epochs) if schedule == "cosine" else None,
    )
    # Build over every variable before freezing so later unfreezing finds its optimizer state.
    grouped.build(target.trainable_variables)
    if freeze_up_to == "all":
        freeze(target)
    elif freeze_up_to is not None:
        freeze(target, up_to=freeze_up_to)
    from kerasconv._validation import resolve_jit_compile

    target.compile(
        optimizer=grouped,
        loss=default_loss(target),
        metrics=["accuracy"],
        jit_compile=resolve_jit_compile("auto"),
    )
    callback_list = list(callbacks)
    if unfreeze:
        callback_list.append(UnfreezeSchedule(unfreeze, verbose=verbose))
    history = train(
        target,
        train_data,
        val_data,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        compile=False,
        callbacks=callback_list,
    )
    return target, history
