"""Shared argument handling of the ``kerasconv.visualize`` methods (targets, images, engines)."""

from __future__ import annotations

import keras
import numpy as np

from kerasconv._validation import check_image_batch, check_labels


def check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"Model {model.name!r} has no symbolic inputs; build it with keras.Input first."
        )
    if len(inputs) != 1:
        raise ValueError(f"Model {model.name!r} has {len(inputs)} inputs; one image input needed.")
    return model


def prepare_images(model, x, name="x"):
    """Check ``x`` against ``model``'s image input; returns a float32 tensor (batch, H, W, C)."""
    import tensorflow as tf

    check_model(model)
    expected = tuple(model.inputs[0].shape[1:])
    if len(expected) != 3:
        raise ValueError(
            f"Model {model.name!r} takes inputs of shape {expected}; kerasconv's visualisers need "
            "an image input (height, width, channels)."
        )
    x = check_image_batch(
        name, x, channels=expected[-1] if len(expected) == 3 else None, allow_single=True
    )
    for _axis, (want, got) in enumerate(zip(expected[:2], x.shape[1:3], strict=False)):
        if want is not None and want != got:
            raise ValueError(
                f"{name} must be images of size {expected[0]}×{expected[1]} for model "
                f"{model.name!r}; got shape {tuple(x.shape)}."
            )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch.")
    return tf.convert_to_tensor(x, tf.float32)


def resolve_target(model, x, target, output=None, use_logits=True):
    """``(score_fn, target tensor)`` for the gradient engine.

    ``target``: ``None`` (the model's own predicted class), an int (one class for every sample),
    one class index per sample, or a callable ``score_fn(outputs, target) -> (batch,)`` (then the
    returned target is ``None``).
    """
    import tensorflow as tf

    from kerasconv.gradients import GradientEngine

    if callable(target) and not isinstance(target, (np.ndarray, tf.Tensor)):
        return target, None
    engine = GradientEngine.for_model(model, output=output, use_logits=use_logits)
    batch = int(x.shape[0])
    if target is None:
        logits = engine.predict_logits(x)
        return None, tf.cast(tf.argmax(logits, axis=-1), tf.int32)
    num_classes = int(engine.predict_logits(x[:1]).shape[-1])
    return None, check_labels("target", target, batch, num_classes=num_classes)


def engine(model, layer=None, output=None, score_fn=None, use_logits=True):
    from kerasconv.gradients import GradientEngine

    return GradientEngine.for_model(
        model, layer=layer, output=output, use_logits=use_logits, score_fn=score_fn
    )


def to_numpy(tensor):
    return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor, dtype="float32")


def last_spatial_layer(model, prefix=""):
    """Name of the last layer whose output has spatial extent (rank 4, more than one position).

    A nested model (a backbone inside a classifier) is searched inside, giving ``"outer/inner"``.
    """
    found = None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            inner = last_spatial_layer(layer, prefix + layer.name + "/")
            if inner is not None:
                found = inner
            continue
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and (shape[1] is None or shape[2] is None or shape[1] * shape[2] > 1):
            found = prefix + layer.name
    return found


def default_spatial_layer(model):
    name = last_spatial_layer(model)
    if name is None:
        raise ValueError(
            f"Model {model.name!r} has no layer with spatial extent (4-D output); pass layer=."
        )
    return name
