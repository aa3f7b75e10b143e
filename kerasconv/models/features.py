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


def _holds(model, layers):
    """Whether ``model`` (a nested model) contains any of ``layers`` (by identity), at any depth."""
    for layer in model.layers:
        if any(layer is wanted for wanted in layers):
            return True
        if isinstance(layer, keras.Model) and _holds(layer, layers):
            return True
    return False


def _run_graph(model, inputs, call):
    """Run ``model``'s layer graph on ``inputs`` calling each layer through ``call(layer, ...)``."""
    if isinstance(model, keras.Sequential):
        outputs = inputs
        for layer in model.layers:
            outputs = call(layer, outputs)
        return outputs
    run = getattr(model, "_run_through_graph", None)
    if run is None or not getattr(model, "_nodes_by_depth", None):
        raise ValueError(
            f"Model {model.name!r} is a subclassed model; kerasconv can reach layers inside "
            "functional and Sequential models only."
        )
    return run(inputs, call_fn=call)


def _connected_taps(model, requests):
    """Symbolic tensors of the requested layers, all in ONE graph from ``model``'s inputs.

    ``requests`` maps a key to ``(layer, "output" | "input")``; ``layer=None`` stands for the
    model's (first) output. When every requested layer sits directly in ``model``, its own graph
    is used. Otherwise the model's graph is run again from its inputs, descending into each nested
    model that holds a requested layer, so that the tapped activations and the outputs downstream
    of them are connected: a gradient of the outputs with respect to a nested activation is then
    the true one. (Calling an extractor of the inner model on the outer tensors instead would give
    a second branch that the outputs do not depend on, and gradients of zero.)
    """
    inputs = model.inputs
    layers = [layer for layer, _ in requests.values() if layer is not None]
    # A layer called once, directly in ``model``: its own tensors are in ``model``'s graph. (A
    # layer shared with another model, or called again, may have its first call elsewhere.)
    if all(
        any(layer is top for top in model.layers) and len(getattr(layer, "_inbound_nodes", ())) == 1
        for layer in layers
    ):
        found = {}
        for key, (layer, where) in requests.items():
            if layer is None:
                found[key] = model.outputs[0]
            else:
                found[key] = layer.input if where == "input" else layer.output
        return found
    found = {}

    def call(operation, *args, **kwargs):
        for key, (layer, where) in requests.items():
            if layer is operation and where == "input" and key not in found:
                found[key] = args[0]
        if isinstance(operation, keras.Model) and _holds(operation, layers):
            outputs = _run_graph(operation, args[0], call)
        else:
            outputs = operation(*args, **kwargs)
        for key, (layer, where) in requests.items():
            if layer is operation and where == "output" and key not in found:
                found[key] = outputs
        return outputs

    outputs = _run_graph(model, inputs[0] if len(inputs) == 1 else inputs, call)
    for key, (layer, _) in requests.items():
        if layer is None:
            found[key] = keras.tree.flatten(outputs)[0]
        elif key not in found:
            raise ValueError(
                f"Layer {layer.name!r} is not connected to the inputs of model {model.name!r}."
            )
    return found


def _symbolic_output(model, name):
    """The symbolic output of layer ``name`` expressed in terms of ``model``'s own inputs."""
    path = _find_path(model, name)
    if path is None:
        find_layer(model, name)  # raises the helpful error
    return _connected_taps(model, {name: (path[-1], "output")})[name]


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
    requests = {}
    for layer in layers:
        if isinstance(layer, keras.layers.Layer):
            requests[layer.name] = (layer, "output")
            continue
        path = _find_path(model, layer) if isinstance(layer, str) else None
        if path is None:
            find_layer(model, layer)  # raises the helpful error
        requests[layer] = (path[-1], "output")
    outputs = _connected_taps(model, requests)
    if len(inputs) == 1:
        inputs = inputs[0]
    return keras.Model(inputs, outputs, name=name or f"{model.name}_features")


def endpoints(model_or_name):
    """Documented endpoint names of a registered model, given its registry name or a built model.

    A built model is looked up by its ``name``; a model not in the registry lists all its layers,
    those inside nested models as ``"backbone/conv1"``.
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
    # Layers of nested models too, by the "outer/inner" names every tool accepts.
    return tuple(_all_layer_names(model_or_name))
