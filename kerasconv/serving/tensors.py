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

# JSON numbers for numeric inputs and booleans only for DT_BOOL, as TF Serving's json_tensor.cc
# accepts them (a boolean for a float input is an error there, not 1.0).
_NUMERIC_KINDS = {"f": "fiu", "i": "iu", "u": "iu", "b": "b"}

# Per-request caps (kerasconv serve --max_request_elements / --max_request_batch_size): a request is
# refused with INVALID_ARGUMENT *before* anything of its claimed size is allocated. 2**24 float32
# elements are 64 MiB, 512 LeNet images take 0.5 M elements, 1024 RGB 224x224 images 154 M.
DEFAULT_MAX_REQUEST_ELEMENTS = 1 << 24
DEFAULT_MAX_REQUEST_BATCH_SIZE = 1024
# Deeper nesting than any tensor a signature takes (TF allows rank <= 254; images are rank 4).
MAX_JSON_RANK = 32


class RequestLimits:
    """The per-request caps: ``max_elements`` per input tensor and ``max_batch_size`` rows."""

    __slots__ = ("max_elements", "max_batch_size")

    def __init__(
        self,
        max_elements=DEFAULT_MAX_REQUEST_ELEMENTS,
        max_batch_size=DEFAULT_MAX_REQUEST_BATCH_SIZE,
    ):
        for label, value in (("max_elements", max_elements), ("max_batch_size", max_batch_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{label} must be an integer; got {value!r}.")
            if value < 1:
                raise ValueError(f"{label} must be >= 1; got {value}.")
        self.max_elements = max_elements
        self.max_batch_size = max_batch_size

    def check(self, name, shape):
        """Refuse a tensor of ``shape`` (a sequence of ints) that exceeds the caps."""
        shape = [int(dim) for dim in shape]
        if any(dim < 0 for dim in shape):
            raise invalid_argument(f"Input {name!r} has a negative dimension in {shape}.")
        if shape and shape[0] > self.max_batch_size:
            raise invalid_argument(
                f"Input {name!r} has a batch of {shape[0]} rows; this server accepts at most "
                f"{self.max_batch_size} per request (--max_request_batch_size)."
            )
        elements = 1
        for dim in shape:
            elements *= dim
        if elements > self.max_elements:
            raise invalid_argument(
                f"Input {name!r} of shape {shape} has {elements} elements; this server accepts "
                f"at most {self.max_elements} per input tensor (--max_request_elements)."
            )


DEFAULT_LIMITS = RequestLimits()


def _claimed_shape(value, name):
    """The shape nested lists claim along their first elements (cheap; raggedness checked later)."""
    shape = []
    level = value
    while isinstance(level, list):
        shape.append(len(level))
        if len(shape) > MAX_JSON_RANK:
            raise invalid_argument(
                f"Input {name!r} is nested more than {MAX_JSON_RANK} levels deep."
            )
        if not level:
            break
        level = level[0]
    return shape


def _contains_bool(value):
    if type(value) is bool:
        return True
    if not isinstance(value, list) or not value:
        return False
    if not isinstance(value[0], list):
        return bool in set(map(type, value))
    return any(_contains_bool(item) for item in value)


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


def json_to_array(value, dtype, name, limits=DEFAULT_LIMITS, may_hold_booleans=True):
    """A JSON value (nested lists) as a NumPy array of ``dtype`` (a ``tf.DType``).

    ``limits`` are checked on the shape the lists claim before any array is made;
    ``may_hold_booleans=False`` (the body has no ``true``/``false``) skips the boolean scan.
    """
    limits.check(name, _claimed_shape(value, name))
    np_dtype = np.dtype(dtype.as_numpy_dtype) if dtype.name != "string" else np.dtype(object)
    if np_dtype.kind in "iuf" and may_hold_booleans and _contains_bool(value):
        raise invalid_argument(
            f"Input {name!r} must hold numbers of type {dtype.name}; got boolean values."
        )
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


def request_to_arrays(
    body, input_specs, signature_name, limits=DEFAULT_LIMITS, may_hold_booleans=True
):
    """Parse a predict request body into ``(format, {input name: array})``.

    ``input_specs`` maps input names to ``tf.TensorSpec``; ``format`` is ``"row"`` or
    ``"columnar"``. ``limits`` (a :class:`RequestLimits`) caps every input's size.
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
        return "row", _convert(values, input_specs, limits, may_hold_booleans)
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
    return "columnar", _convert(values, input_specs, limits, may_hold_booleans)


def _convert(values, input_specs, limits, may_hold_booleans):
    check_input_names(values, input_specs)
    return {
        name: json_to_array(value, input_specs[name].dtype, name, limits, may_hold_booleans)
        for name, value in values.items()
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
