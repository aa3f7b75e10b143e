"""Status and metadata answers as TF Serving's protos, and their REST JSON forms.

REST prints the same protos as gRPC returns (``http_rest_api_util.cc``): the status response with
all fields shown (``{"model_version_status": [{"version": "1", "state": "AVAILABLE", "status":
{"error_code": "OK", "error_message": ""}}]}``), and the metadata response as ``model_spec`` plus
the unpacked ``SignatureDefMap`` under ``metadata.signature_def`` (hence the doubled
``signature_def`` key), with 64-bit integers as strings and dtypes as enum names.
"""

from __future__ import annotations

from kerasconv.serving.errors import invalid_argument

SIGNATURE_DEF_FIELD = "signature_def"


def _to_dict(message):
    from google.protobuf import json_format

    try:
        return json_format.MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
    except TypeError:  # protobuf < 5.26 spells the option differently
        return json_format.MessageToDict(
            message, preserving_proto_field_name=True, including_default_value_fields=True
        )


def model_status(registry, name, version=None):
    """``GetModelStatusResponse`` for a model (all versions) or one version."""
    from tensorflow_serving.apis import get_model_status_pb2

    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state, error_code, error_message in registry.status(name, version):
        item = response.model_version_status.add()
        item.version = number
        item.state = get_model_status_pb2.ModelVersionStatus.State.Value(state)
        item.status.error_code = _error_code(error_code)
        item.status.error_message = error_message
    return response


def _error_code(name):
    from tensorflow.core.protobuf import error_codes_pb2

    return error_codes_pb2.Code.Value(name)


def model_metadata(registry, name, version=None, label=None, fields=(SIGNATURE_DEF_FIELD,)):
    """``GetModelMetadataResponse`` with the served version's ``SignatureDefMap``."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    fields = list(fields)
    if not fields:
        raise invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
    for field in fields:
        if field != SIGNATURE_DEF_FIELD:
            raise invalid_argument(f"Metadata field {field} is not supported")
    servable = registry.get(name, version, label)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = name
    response.model_spec.version.value = servable.version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature_def in servable.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature_def)
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
    return response


def status_json(response):
    return _to_dict(response)


def metadata_json(response):
    from tensorflow_serving.apis import get_model_metadata_pb2

    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
    return {
        "model_spec": _to_dict(response.model_spec),
        "metadata": {SIGNATURE_DEF_FIELD: _to_dict(signature_map)},
    }
