"""TF Serving's Classify, Regress and MultiInference on ``tf.Example`` signatures.

The rules follow TF Serving's ``tensorflow_serving/servables/tensorflow/classifier.cc``,
``regressor.cc`` and ``multi_inference.cc``: a classification signature has the method name
``tensorflow/serving/classify``, one string input ``inputs`` (serialized ``tf.Example`` s) and the
outputs ``classes`` (string) and/or ``scores`` (float), both ``(batch, k)``; a regression signature
has the method ``tensorflow/serving/regress``, the input ``inputs`` and one float output
``outputs`` of shape ``(batch,)`` or ``(batch, 1)``. A ``MultiInference`` request runs several such
signatures of one model on the same examples. The REST forms (``:classify``, ``:regress``; JSON
examples as in ``json_tensor.cc``) are converted to the same ``tf.Example`` s.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

from kerasconv.serving.errors import ServingError, invalid_argument

CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
METHOD_BY_VERB = {"classify": CLASSIFY, "regress": REGRESS}
INPUTS_KEY = "inputs"


def check_method(servable, key, method, verb):
    """Refuse a signature whose method name is not the one the API needs (TF Serving's check)."""
    found = servable.signature_defs[key].method_name
    if found != method:
        raise invalid_argument(
            f"Expected {verb} signature method_name to be {method}. Was: {found}"
        )


def _run(servable, signature_name, serialized, method, verb, limits):
    key, function, specs = servable.signature(signature_name)
    check_method(servable, key, method, verb)
    if set(specs) != {INPUTS_KEY}:
        raise invalid_argument(
            f"Expected one input Tensor named {INPUTS_KEY!r} in signature {key!r}; it has "
            f"{sorted(specs)}."
        )
    if not serialized:
        raise invalid_argument("Input is empty: no examples were given.")
    if limits is not None:
        limits.check(INPUTS_KEY, [len(serialized)])
    outputs = servable.predict(key, {INPUTS_KEY: np.array(serialized, dtype=object)})
    return key, outputs


def classify(servable, signature_name, serialized, limits=None):
    """``(signature key, classes or None, scores or None)``, each ``(batch, k)``."""
    key, outputs = _run(servable, signature_name, serialized, CLASSIFY, "classify", limits)
    classes, scores = outputs.get("classes"), outputs.get("scores")
    if classes is None and scores is None:
        raise invalid_argument(
            f"Expected classification signature outputs to contain at least one of 'classes' "
            f"or 'scores'; {key!r} has {sorted(outputs)}."
        )
    batch = len(serialized)
    for name, value in (("classes", classes), ("scores", scores)):
        if value is not None and (value.ndim != 2 or value.shape[0] != batch):
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Expected Tensor shape: [{batch} num_classes] but got {list(value.shape)} "
                f"for {name}.",
            )
    if classes is not None and scores is not None and classes.shape != scores.shape:
        raise invalid_argument("Tensors class and score should match in shape")
    if classes is not None:
        classes = np.vectorize(
            lambda item: item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item),
            otypes=[object],
        )(classes)
    return key, classes, scores


def regress(servable, signature_name, serialized, limits=None):
    """``(signature key, values)`` with one float per example."""
    key, outputs = _run(servable, signature_name, serialized, REGRESS, "regress", limits)
    if set(outputs) != {"outputs"}:
        raise invalid_argument(
            f"Expected one output Tensor named 'outputs' in regression signature {key!r}; it "
            f"has {sorted(outputs)}."
        )
    values = outputs["outputs"]
    batch = len(serialized)
    if values.shape not in ((batch,), (batch, 1)):
        raise invalid_argument(
            f"Expected output Tensor shape to be either [{batch}] or [{batch} x 1] but got "
            f"{list(values.shape)}"
        )
    return key, values.reshape(batch).astype(np.float32)


# ---------------------------------------------------------------------------- protos


def examples_from_input(input_proto):
    """Serialized ``tf.Example`` s from TF Serving's ``Input`` proto (context merged in)."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        return [example.SerializeToString() for example in input_proto.example_list.examples]
    if kind == "example_list_with_context":
        listed = input_proto.example_list_with_context
        merged = []
        for example in listed.examples:
            copy = type(listed.context)()
            copy.CopyFrom(listed.context)
            copy.MergeFrom(example)  # the example's own features win over the context's
            merged.append(copy.SerializeToString())
        return merged
    raise invalid_argument("Input is empty")


def fill_classification_result(result, classes, scores):
    """Fill a ``ClassificationResult`` proto."""
    rows = (classes if classes is not None else scores).shape[0]
    width = (classes if classes is not None else scores).shape[1]
    for row in range(rows):
        classification = result.classifications.add()
        for column in range(width):
            item = classification.classes.add()
            if classes is not None:
                item.label = classes[row, column]
            if scores is not None:
                item.score = float(scores[row, column])


def fill_regression_result(result, values):
    for value in values:
        result.regressions.add().value = float(value)


# ---------------------------------------------------------------------------- REST JSON


def _feature_from_json(name, value):
    import tensorflow as tf

    values = value if isinstance(value, list) else [value]
    if not values:
        raise invalid_argument(f"Feature {name!r} has an empty list of values.")
    if all(isinstance(v, (str, dict)) for v in values):
        data = []
        for item in values:
            if isinstance(item, str):
                data.append(item.encode("utf-8"))
            elif len(item) == 1 and isinstance(item.get("b64"), str):
                try:
                    data.append(base64.b64decode(item["b64"].encode("ascii"), validate=True))
                except (binascii.Error, ValueError, UnicodeEncodeError):
                    raise invalid_argument(
                        f"Feature {name!r}: unable to base64 decode {item['b64'][:40]!r}."
                    ) from None
            else:
                raise invalid_argument(
                    f'Feature {name!r}: expected strings or {{"b64": ...}} objects.'
                )
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=data))
    if any(isinstance(v, bool) for v in values) or not all(
        isinstance(v, (int, float)) for v in values
    ):
        raise invalid_argument(
            f"Feature {name!r} must hold only numbers or only strings (JSON lists of one type)."
        )
    if all(isinstance(v, int) for v in values):
        if any(not -(2**63) <= v < 2**63 for v in values):
            raise invalid_argument(f"Feature {name!r} has integers out of int64 range.")
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def _example_from_json(item, where):
    import tensorflow as tf

    if not isinstance(item, dict):
        raise invalid_argument(f"{where} must be a JSON object of feature name to value(s).")
    features = {str(name): _feature_from_json(name, value) for name, value in item.items()}
    return tf.train.Example(features=tf.train.Features(feature=features))


def examples_from_json(request):
    """Serialized ``tf.Example`` s from a REST classify/regress body (``examples``, ``context``)."""
    examples = request.get("examples")
    if not isinstance(examples, list):
        raise invalid_argument("Expecting 'examples' to be an list/array")
    context = request.get("context")
    context_example = _example_from_json(context, "'context'") if context is not None else None
    serialized = []
    for index, item in enumerate(examples):
        example = _example_from_json(item, f"examples[{index}]")
        if context_example is not None:
            merged = type(example)()
            merged.CopyFrom(context_example)
            merged.MergeFrom(example)
            example = merged
        serialized.append(example.SerializeToString())
    return serialized


def classification_json(classes, scores):
    """TF Serving's REST classify answer: ``{"result": [[[label, score], ...], ...]}``.

    The key is ``result`` as in ``api_rest.md``'s response format and ``json_tensor.cc`` (one
    example in that page writes ``results``).
    """
    shape = (classes if classes is not None else scores).shape
    results = []
    for row in range(shape[0]):
        pairs = []
        for column in range(shape[1]):
            label = classes[row, column] if classes is not None else ""
            score = float(scores[row, column]) if scores is not None else 0.0
            pairs.append([label, score])
        results.append(pairs)
    return {"result": results}


def regression_json(values):
    return {"result": [float(v) for v in values]}
