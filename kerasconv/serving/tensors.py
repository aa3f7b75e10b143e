"""Conversions between TF Serving's wire formats and NumPy arrays.

REST requests carry JSON (``instances`` — the row format — or ``inputs`` — the columnar format),
with binary values as ``{"b64": "..."}``; gRPC requests carry ``TensorProto`` s. Both are turned
into NumPy arrays of the signature's dtype here, and model outputs are turned back.

The JSON rules follow TF Serving's ``json_tensor.cc``: one input → each instance is its value;
several inputs → each instance is an object of all named inputs; one output → the name is dropped;
several → objects keyed by output name; string outputs whose name ends in ``_bytes`` are sent as
``{"b64": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import math

import numpy as np

from kerasconv.serving.errors import invalid_argument

_NUMERIC_KINDS = {"f": "fiub", "i": "iub", "u": "iub", "b": "b"}


def _is_b64(value):
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _decode_strings(value, name):
    """Nested lists of strings / ``{"b64": ...}`` → nested lists of bytes (shape checked later)."""
    if isinstance(value, list):
        return [_decode_strings(item, name) for item in value]
    if isinstance(value, str):
        return value.encode("utf-8")
    if _is_b64(value):
        data = value["b64"]
        if not isinstance(data, str):
            raise invalid_argument(f"Input {name!r}: 'b64' must hold a string.")
        try:
            return base64.b64decode(data.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise invalid_argument(
                f"Input {name!r}: unable to base64 decode {data[:40]!r}."
            ) from None
    raise invalid_argument(
        f'Input {name!r} holds strings: expected a string or {{"b64": ...}}, got '
        f"{_describe(value)}."
    )


def _describe(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _rectangular(value, name):
    """The shape of nested lists, raising when they are ragged."""
    shape = []
    level = value
    while isinstance(level, list):
        shape.append(len(level))
        if not level:
            break
        level = level[0]

    def check(item, depth):
        if depth == len(shape) or (depth < len(shape) and shape[depth] == 0):
            if isinstance(item, list) and depth == len(shape):
                raise invalid_argument(f"Input {name!r} is a ragged (non-rectangular) list.")
            return
        if not isinstance(item, list) or len(item) != shape[depth]:
            raise invalid_argument(f"Input {name!r} is a ragged (non-rectangular) list.")
        for child in item:
            check(child, depth + 1)

    check(value, 0)
    return tuple(shape)


def json_to_array(value, dtype, name):
    """A JSON value (nested lists) as a NumPy array of ``dtype`` (a ``tf.DType``)."""
    np_dtype = np.dtype(dtype.as_numpy_dtype) if dtype.name != "string" else np.dtype(object)
    if dtype.name == "string":
        decoded = _decode_strings(value, name)
        shape = _rectangular(decoded, name)
        array = np.empty(shape, dtype=object)
        if shape:
            flat = decoded
            for _ in range(len(shape) - 1):
                flat = [item for sub in flat for item in sub]
            array.reshape(-1)[:] = flat
        else:
            array[()] = decoded
        return array
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        _rectangular(value, name)  # ragged lists raise a clear error
        raise invalid_argument(f"Input {name!r} is not a numeric tensor.") from None
    allowed = _NUMERIC_KINDS.get(np_dtype.kind, "")
    if array.dtype.kind not in allowed:
        if array.dtype.kind == "f" and np_dtype.kind in "iu":
            raise invalid_argument(
                f"Input {name!r} must hold integers ({dtype.name}); got non-integer numbers."
            )
        raise invalid_argument(
            f"Input {name!r} must hold numbers of type {dtype.name}; got "
            f"{_json_kind(array)} values."
        )
    if np_dtype.kind in "iu" and array.size:
        info = np.iinfo(np_dtype)
        if array.min() < info.min or array.max() > info.max:
            raise invalid_argument(f"Input {name!r} has values out of range for {dtype.name}.")
    return array.astype(np_dtype, copy=False)


def _json_kind(array):
    if array.dtype.kind in "US":
        return "string"
    if array.dtype.kind == "b":
        return "boolean"
    if array.dtype.kind == "f":
        return "floating-point"
    return "non-numeric (null, object or mixed)"


def request_to_arrays(body, input_specs, signature_name):
    """Parse a predict request body into ``(format, {input name: array})``.

    ``input_specs`` maps input names to ``tf.TensorSpec``; ``format`` is ``"row"`` or
    ``"columnar"``.
    """
    has_instances = "instances" in body
    has_inputs = "inputs" in body
    if has_instances == has_inputs:
        if has_instances:
            raise invalid_argument(
                "Not formatted correctly expecting only one of 'inputs' or 'instances' keys "
                "exclusively"
            )
        raise invalid_argument("Missing 'inputs' or 'instances' key")
    names = sorted(input_specs)
    if has_instances:
        instances = body["instances"]
        if not isinstance(instances, list):
            raise invalid_argument("Expecting 'instances' to be an list/array")
        if not instances:
            raise invalid_argument("No values in 'instances' list/array")
        named = all(isinstance(item, dict) and not _is_b64(item) for item in instances)
        if len(names) == 1 and not named:
            if any(isinstance(item, dict) and not _is_b64(item) for item in instances):
                raise invalid_argument("Mixed named and unnamed instances in 'instances'.")
            values = {names[0]: instances}
        elif not named:
            raise invalid_argument(
                f"Signature {signature_name!r} has {len(names)} inputs ({', '.join(names)}): "
                "each instance must be an object with all of them."
            )
        else:
            keys = set(instances[0])
            for item in instances:
                if set(item) != keys:
                    raise invalid_argument(
                        "Expecting all instances to have the same named inputs; got "
                        f"{sorted(keys)} and {sorted(item)}."
                    )
            values = {key: [item[key] for item in instances] for key in keys}
        return "row", _convert(values, input_specs)
    inputs = body["inputs"]
    if isinstance(inputs, dict) and not _is_b64(inputs):
        values = dict(inputs)
    elif len(names) == 1:
        values = {names[0]: inputs}
    else:
        raise invalid_argument(
            f"Signature {signature_name!r} has {len(names)} inputs ({', '.join(names)}): 'inputs' "
            "must be an object keyed by input name."
        )
    return "columnar", _convert(values, input_specs)


def _convert(values, input_specs):
    check_input_names(values, input_specs)
    return {
        name: json_to_array(value, input_specs[name].dtype, name) for name, value in values.items()
    }


def check_input_names(values, input_specs):
    """TF Serving's check that the request names exactly the signature's inputs."""
    sent, wanted = set(values), set(input_specs)
    if sent != wanted:
        raise invalid_argument(
            f"input size does not match signature: {len(sent)}!={len(wanted)} "
            f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(wanted))}}}). "
            f"Sent extra: {{{','.join(sorted(sent - wanted))}}}. "
            f"Missing but required: {{{','.join(sorted(wanted - sent))}}}."
        )


def _to_json_value(array, name):
    if array.dtype == object or array.dtype.kind in "SU":
        if name.endswith("_bytes"):
            encode = lambda b: {"b64": base64.b64encode(bytes(b)).decode("ascii")}  # noqa: E731
        else:
            encode = _bytes_to_text
        flat = [encode(item) for item in array.reshape(-1)]
        return _nest(flat, array.shape)
    if array.dtype.kind == "f":
        # NaN and infinities are written as JSON's NaN/Infinity extensions, as TF Serving does.
        return array.astype(np.float64).tolist() if array.dtype != np.float64 else array.tolist()
    return array.tolist()


def _bytes_to_text(value):
    if isinstance(value, str):
        return value
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}


def _nest(flat, shape):
    if not shape:
        return flat[0]
    for size in reversed(shape[1:]):
        flat = [flat[i : i + size] for i in range(0, len(flat), size)] if size else []
    return flat


def arrays_to_response(outputs, fmt):
    """Model outputs (name → array) as TF Serving's JSON response object."""
    names = sorted(outputs)
    if fmt == "columnar":
        if len(names) == 1:
            return {"outputs": _to_json_value(outputs[names[0]], names[0])}
        return {"outputs": {name: _to_json_value(outputs[name], name) for name in names}}
    if len(names) == 1:
        array = outputs[names[0]]
        if array.ndim == 0:
            raise invalid_argument(f"Output {names[0]!r} is a scalar and has no batch dimension.")
        return {"predictions": _to_json_value(array, names[0])}
    batch = None
    for name in names:
        array = outputs[name]
        size = array.shape[0] if array.ndim else None
        if batch is None:
            batch = size
        if size is None or size != batch:
            raise invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {size} expecting: {batch}"
            )
    columns = {name: _to_json_value(outputs[name], name) for name in names}
    return {"predictions": [{name: columns[name][i] for name in names} for i in range(batch)]}


def json_float_constant(text):
    """``parse_constant`` for ``json.loads``: NaN and infinities, as TF Serving accepts them."""
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[text]
