"""Pieces shared by every builder: the keras.applications argument contract and the classifier head.

Every builder in ``kerasconv.models`` has the signature of ``keras.applications`` builders::

    Builder(include_top=True, weights=None, input_tensor=None, input_shape=None,
            pooling=None, classes=1000, classifier_activation="softmax", name=...)

``weights`` is ``None`` or a path to a ``.keras`` / ``.weights.h5`` file: nothing is downloaded.
"""

from __future__ import annotations

import os

import keras

from kerasconv._validation import check_choice, check_int


def check_builder_args(
    *,
    include_top,
    weights,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    default_shape,
    min_size=None,
    input_tensor=None,
):
    """Validate the shared builder arguments; return the input shape to use.

    ``input_shape`` defaults to the shape of ``input_tensor`` (without its batch axis) when one is
    given, so the builder's size checks see the tensor it will really be built on, else to
    ``default_shape``; with ``include_top=True`` a builder whose
    classifier has fixed-size dense layers may still require the canonical shape, which the
    builder itself checks. ``min_size`` is the smallest height/width the stack accepts.
    """
    if not isinstance(include_top, bool):
        raise TypeError(f"include_top must be True or False; got {include_top!r}.")
    if weights is not None:
        if not isinstance(weights, (str, os.PathLike)):
            raise TypeError(
                "weights must be None or a path to a .keras / .weights.h5 file; "
                f"got {type(weights).__name__}. kerasconv downloads nothing."
            )
        path = os.fspath(weights)
        if path == "imagenet":
            raise ValueError(
                "weights='imagenet' would need a download, which kerasconv never does. "
                "Pass a path to a .keras or .weights.h5 file you have (see docs/models.md)."
            )
        if not (path.endswith(".keras") or path.endswith(".weights.h5")):
            raise ValueError(f"weights must end in .keras or .weights.h5; got {path!r}.")
        if not os.path.exists(path):
            raise ValueError(f"weights file {path!r} does not exist.")
    check_choice("pooling", pooling, (None, "avg", "max"))
    check_int("classes", classes, minimum=1)
    if (
        classifier_activation is not None
        and not isinstance(classifier_activation, str)
        and not callable(classifier_activation)
    ):
        raise TypeError(
            "classifier_activation must be None, a Keras activation name or a callable; "
            f"got {classifier_activation!r}."
        )
    if input_shape is None and input_tensor is not None:
        tensor_shape = getattr(input_tensor, "shape", None)
        if tensor_shape is None:
            raise TypeError(
                f"input_tensor must be a tensor (Keras or TensorFlow); got {type(input_tensor).__name__}."
            )
        tensor_shape = tuple(None if d is None else int(d) for d in tensor_shape)
        if len(tensor_shape) != len(default_shape) + 1:
            raise ValueError(
                f"input_tensor must have shape (batch, {', '.join(['…'] * len(default_shape))}) "
                f"like (None,) + {tuple(default_shape)}; got {tensor_shape}."
            )
        input_shape = tensor_shape[1:]
    if input_shape is None:
        input_shape = tuple(default_shape)
    else:
        input_shape = tuple(input_shape)
        if len(input_shape) != len(default_shape):
            raise ValueError(
                f"input_shape must have {len(default_shape)} entries like {tuple(default_shape)}; "
                f"got {input_shape}."
            )
        if input_shape[-1] is not None and (
            not isinstance(input_shape[-1], int) or input_shape[-1] < 1
        ):
            raise ValueError(
                f"input_shape must end in a positive channel count; got {input_shape}."
            )
    if min_size is not None:
        for side in input_shape[:-1]:
            if side is not None and side < min_size:
                raise ValueError(
                    f"input_shape {input_shape} is too small: this model needs height and width "
                    f">= {min_size}."
                )
    return input_shape


def check_standard_args(
    include_top,
    weights,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    default_shape,
    input_tensor=None,
):
    """``check_builder_args`` with the keras.applications arguments in their usual order."""
    return check_builder_args(
        input_tensor=input_tensor,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        default_shape=default_shape,
    )


def make_input(input_tensor, input_shape, name="input"):
    """Return ``(model_inputs, x)`` honouring ``input_tensor`` as keras.applications does."""
    if input_tensor is None:
        inputs = keras.Input(shape=input_shape, name=name)
        return inputs, inputs
    if not keras.backend.is_keras_tensor(input_tensor):
        inputs = keras.Input(tensor=input_tensor, shape=input_shape, name=name)
        return inputs, inputs
    sources = keras.utils.get_source_inputs(input_tensor)
    # One source input: the model takes a tensor, not a one-element list (Keras warns otherwise).
    return (sources[0] if len(sources) == 1 else sources), input_tensor


def classifier_output(x, classes, classifier_activation, name="predictions"):
    """Final ``Dense`` producing logits (activation ``None``) or probabilities.

    The activation lives in the ``Dense`` layer as in keras.applications, so
    ``kerasconv.gradients.logits_model`` can recover the logits of any classifier.
    """
    # float32 even under mixed precision: softmax and the loss need the range.
    return keras.layers.Dense(
        classes, activation=classifier_activation, name=name, dtype="float32"
    )(x)


def global_pool(x, pooling, name_prefix=""):
    """keras.applications' ``pooling=None|"avg"|"max"`` for headless models."""
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name=f"{name_prefix}avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name=f"{name_prefix}max_pool")(x)
    return x


def load_weights(model, weights, mismatch_hint=None):
    """Load ``weights`` (a ``.keras`` or ``.weights.h5`` path) into ``model`` in place.

    When the file does not fit, the error names the file and adds ``mismatch_hint`` (a builder's
    guess at the argument that makes them fit).
    """
    if weights is None:
        return model
    path = os.fspath(weights)
    hint = f" {mismatch_hint}" if mismatch_hint else ""
    if path.endswith(".keras"):
        source = keras.saving.load_model(path, compile=False)
        try:
            model.set_weights(source.get_weights())
        except ValueError as error:
            raise ValueError(
                f"The weights in {path!r} do not fit this architecture: {error}{hint}"
            ) from None
    else:
        try:
            model.load_weights(path)
        except ValueError as error:
            if not hint:
                raise
            raise ValueError(
                f"The weights in {path!r} do not fit this architecture.{hint} "
                f"Keras said: {str(error).splitlines()[0]}"
            ) from None
    return model


def finish(inputs, outputs, name, weights, mismatch_hint=None):
    """Wrap up a functional builder: make the model, load the weights."""
    model = keras.Model(inputs, outputs, name=name)
    return load_weights(model, weights, mismatch_hint)
