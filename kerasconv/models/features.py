"""Uniform access to intermediate layers of any model (the timm ``features_only`` idea).

``feature_extractor(model, ["c1", "c3"])`` returns a model mapping the original inputs to a dict of
the named layers' outputs. Names may point into nested models with ``"backbone/conv1"``; a plain
name is also searched for inside nested models. The extractor shares the original layers and
weights: it never copies or modifies the user's model.
"""

from __future__ import annotations

import keras


def _nested_models(model):
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def _find_path(model, name):
    """Return the chain of layers from ``model`` down to the layer called ``name``."""
    if "/" in name:
        head, rest = name.split("/", 1)
        try:
            inner = model.get_layer(head)
        except ValueError:
            return None
        if not isinstance(inner, keras.Model):
            return None
        path = _find_path(inner, rest)
        return None if path is None else [inner] + path
    for layer in model.layers:
        if layer.name == name:
            return [layer]
    for inner in _nested_models(model):
        path = _find_path(inner, name)
        if path is not None:
            return [inner] + path
    return None


def _all_layer_names(model, prefix=""):
    names = []
    for layer in model.layers:
        names.append(prefix + layer.name)
        if isinstance(layer, keras.Model):
            names.extend(_all_layer_names(layer, prefix + layer.name + "/"))
    return names


def find_layer(model, name):
    """The layer called ``name`` in ``model`` or in a model nested inside it.

    Raises ``ValueError`` listing the available names when there is none.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    if isinstance(name, keras.layers.Layer):
        return name
    if not isinstance(name, str):
        raise TypeError(f"layer names must be strings; got {type(name).__name__}.")
    path = _find_path(model, name)
    if path is None:
        names = _all_layer_names(model)
        shown = ", ".join(names[:40]) + (" ..." if len(names) > 40 else "")
        raise ValueError(f"Model {model.name!r} has no layer {name!r}. Its layers: {shown}.")
    return path[-1]


def _symbolic_output(model, name):
    """The symbolic output of layer ``name`` expressed in terms of ``model``'s own inputs."""
    path = _find_path(model, name)
    if path is None:
        find_layer(model, name)  # raises the helpful error
    if len(path) == 1:
        return path[0].output
    # The layer lives inside a nested model: rebuild the route from the outer inputs by calling an
    # extractor of the inner model on the tensors the inner model received in the outer graph.
    inner = path[0]
    nodes = [node for node in inner._inbound_nodes if node.input_tensors]
    if not nodes:
        raise ValueError(
            f"Nested model {inner.name!r} is not connected to {model.name!r}'s inputs."
        )
    inner_name = "/".join(layer.name for layer in path[1:])
    inner_extractor = keras.Model(inner.inputs, _symbolic_output(inner, inner_name))
    arguments = nodes[0].input_tensors
    return inner_extractor(arguments[0] if len(arguments) == 1 else list(arguments))


def feature_extractor(model, layers, name=None):
    """A model from ``model``'s inputs to a dict ``{layer_name: output}`` of the requested layers.

    Args:
        model: a built functional or Sequential Keras model (nested models are fine).
        layers: a layer name or a list of names (``"backbone/conv1"`` addresses nested layers).
        name: name of the returned model.

    Example:
        >>> import kerasconv
        >>> model = kerasconv.models.LeNet5()
        >>> taps = kerasconv.models.feature_extractor(model, ["c1", "f6"])
        >>> {k: v.shape for k, v in taps(np.zeros((2, 32, 32, 1))).items()}  # doctest: +SKIP
        {'c1': TensorShape([2, 28, 28, 6]), 'f6': TensorShape([2, 84])}
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers must name at least one layer.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"Model {model.name!r} has no symbolic inputs (a subclassed model that was never "
            "built functionally); build it with keras.Input or call it on data first."
        )
    outputs = {layer: _symbolic_output(model, layer) for layer in layers}
    if len(inputs) == 1:
        inputs = inputs[0]
    return keras.Model(inputs, outputs, name=name or f"{model.name}_features")


def endpoints(model_or_name):
    """Documented endpoint names of a registered model, given its registry name or a built model.

    A built model is looked up by its ``name``; a model not in the registry lists all its layers.
    """
    from kerasconv.models.registry import get_info

    if isinstance(model_or_name, str):
        return get_info(model_or_name).endpoints
    if not isinstance(model_or_name, keras.Model):
        raise TypeError(f"expected a model or a registry name; got {type(model_or_name).__name__}.")
    try:
        documented = get_info(model_or_name.name).endpoints
    except ValueError:
        documented = ()
    names = {layer.name for layer in model_or_name.layers}
    if documented and set(documented) <= names:
        return documented
    return tuple(layer.name for layer in model_or_name.layers)
