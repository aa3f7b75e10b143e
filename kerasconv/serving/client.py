"""A client for TensorFlow Serving's REST and gRPC APIs (the real server or ``kerasconv serve``).

    >>> from kerasconv.serving import Client
    >>> client = Client("127.0.0.1:8501", "lenet5_digits")              # REST
    >>> probabilities = client.predict(images)                          # (batch, classes)
    >>> client = Client("127.0.0.1:8500", "lenet5_digits", protocol="grpc")
    >>> client.predict_images([open("digit.png", "rb").read()])["classes"]

Both protocols return the same things: NumPy arrays (one output) or a dict of them (several;
string outputs as arrays of ``str``), ``status()`` and ``metadata()`` as TF Serving's REST JSON
shapes, and failures as :class:`kerasconv.serving.ServingError` with the server's status code.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from kerasconv.serving.errors import ServingError
from kerasconv.serving.tensors import json_float_constant

PROTOCOLS = ("rest", "grpc")


def _as_text_array(array):
    if array.dtype == object or array.dtype.kind == "S":
        flat = [
            item.decode("utf-8", "replace") if isinstance(item, bytes) else item
            for item in array.reshape(-1)
        ]
        return np.array(flat, dtype=str).reshape(array.shape) if flat else array.astype(str)
    return array


def _to_json(array):
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind in "SU":

        def encode(item):
            if isinstance(item, (bytes, bytearray, np.bytes_)):
                return {"b64": base64.b64encode(bytes(item)).decode("ascii")}
            return str(item)

        flat = [encode(item) for item in array.reshape(-1)]
        if array.ndim == 0:
            return flat[0]
        for size in reversed(array.shape[1:]):
            flat = [flat[i : i + size] for i in range(0, len(flat), size)]
        return flat
    if array.dtype.kind == "f":
        return array.astype(np.float64).tolist()
    return array.tolist()


class Client:
    """Talk to one model on a TF Serving-compatible server.

    Args:
        address: ``"host:port"`` (or ``"http://host:port"`` for REST).
        model_name: the served model's name.
        protocol: ``"rest"`` or ``"grpc"``.
        version, label: ask for a specific version or version label instead of the latest.
        timeout: seconds per request.
    """

    def __init__(
        self, address, model_name, protocol="rest", version=None, label=None, timeout=30.0
    ):
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
        if not isinstance(address, str) or not address:
            raise TypeError(f"address must be 'host:port'; got {address!r}.")
        if not isinstance(model_name, str) or not model_name or "/" in model_name:
            raise ValueError(
                f"model_name must be a non-empty name without '/'; got {model_name!r}."
            )
        if version is not None and label is not None:
            raise ValueError("pass version or label, not both.")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise TypeError(f"version must be an integer; got {version!r}.")
        self.protocol = protocol
        self.model_name = model_name
        self.version = version
        self.label = label
        self.timeout = float(timeout)
        if protocol == "rest":
            base = address if "://" in address else f"http://{address}"
            self.base_url = base.rstrip("/")
        else:
            self.address = address.split("://", 1)[-1]
        self._local = threading.local()
        self._channel = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ REST plumbing
    def _model_path(self):
        path = f"/v1/models/{urllib.parse.quote(self.model_name, safe='')}"
        if self.version is not None:
            path += f"/versions/{self.version}"
        elif self.label is not None:
            path += f"/labels/{urllib.parse.quote(self.label, safe='')}"
        return path

    def _rest(self, method, path, payload=None):
        data = None
        headers = {}
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                message = json.loads(body.decode("utf-8")).get("error", "")
            except (ValueError, AttributeError):
                message = body.decode("utf-8", "replace")
            raise ServingError.from_http(error.code, message) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ServingError("UNAVAILABLE", f"cannot reach {self.base_url}: {error}") from None
        return json.loads(body.decode("utf-8"), parse_constant=json_float_constant)

    # ------------------------------------------------------------------ gRPC plumbing
    def _stubs(self):
        if self._channel is None:
            with self._lock:
                if self._channel is None:
                    import grpc
                    from tensorflow_serving.apis import (
                        model_service_pb2_grpc,
                        prediction_service_pb2_grpc,
                    )

                    channel = grpc.insecure_channel(
                        self.address,
                        options=[
                            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
                            ("grpc.max_send_message_length", 256 * 1024 * 1024),
                        ],
                    )
                    self._prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                    self._model = model_service_pb2_grpc.ModelServiceStub(channel)
                    self._channel = channel
        return self._prediction, self._model

    def _fill_spec(self, spec, signature_name=None):
        spec.name = self.model_name
        if self.version is not None:
            spec.version.value = self.version
        elif self.label is not None:
            spec.version_label = self.label
        if signature_name:
            spec.signature_name = signature_name

    def _grpc_call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServingError(error.code().name, error.details() or "") from None

    # ------------------------------------------------------------------ API
    def predict(self, inputs, signature_name="serving_default"):
        """Run a signature. ``inputs``: an array (single-input signature) or ``{name: array}``.

        Returns an array for a single-output signature, else ``{output name: array}``.
        """
        if self.protocol == "rest":
            if isinstance(inputs, dict):
                body_inputs = {name: _to_json(value) for name, value in inputs.items()}
            else:
                body_inputs = _to_json(inputs)
            answer = self._rest(
                "POST",
                self._model_path() + ":predict",
                {"signature_name": signature_name, "inputs": body_inputs},
            )
            outputs = answer["outputs"]
            if isinstance(outputs, dict):
                return {name: _json_array(value) for name, value in outputs.items()}
            return _json_array(outputs)
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        self._fill_spec(request.model_spec, signature_name)
        if isinstance(inputs, dict):
            named = inputs
        else:
            named = {self._single_input_name(signature_name): inputs}
        for name, value in named.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(_wire_array(value)))
        prediction, _ = self._stubs()
        response = self._grpc_call(prediction.Predict, request)
        outputs = {
            name: _as_text_array(tf.make_ndarray(proto)) for name, proto in response.outputs.items()
        }
        return outputs[next(iter(outputs))] if len(outputs) == 1 else outputs

    def _single_input_name(self, signature_name):
        cache = getattr(self._local, "input_names", None)
        if cache is None:
            cache = self._local.input_names = {}
        if signature_name not in cache:
            signatures = self.metadata()["metadata"]["signature_def"]["signature_def"]
            if signature_name not in signatures:
                raise ServingError(
                    "FAILED_PRECONDITION", f'Serving signature key "{signature_name}" not found.'
                )
            names = list(signatures[signature_name]["inputs"])
            if len(names) != 1:
                raise ValueError(
                    f"signature {signature_name!r} has inputs {names}: pass a dict of them."
                )
            cache[signature_name] = names[0]
        return cache[signature_name]

    def predict_images(self, images):
        """Top-k classes of encoded images (bytes, or paths to PNG/JPEG files).

        Uses the ``predict_images`` signature of a kerasconv export; returns ``{"classes",
        "scores", "probabilities"}``.
        """
        if isinstance(images, (bytes, str, os.PathLike)):
            images = [images]
        data = []
        for image in images:
            if isinstance(image, (str, os.PathLike)):
                with open(image, "rb") as handle:
                    image = handle.read()
            if not isinstance(image, (bytes, bytearray)):
                raise TypeError(f"images must be bytes or file paths; got {type(image).__name__}.")
            data.append(bytes(image))
        array = np.empty((len(data),), dtype=object)
        array[:] = data
        return self.predict({"image_bytes": array}, signature_name="predict_images")

    def saliency(self, images):
        """Saliency maps of float images via the ``saliency`` signature."""
        return self.predict(
            {"images": np.asarray(images, dtype=np.float32)}, signature_name="saliency"
        )

    def status(self):
        """The model's version status, as TF Serving's REST JSON."""
        if self.protocol == "rest":
            return self._rest("GET", self._model_path())
        from tensorflow_serving.apis import get_model_status_pb2

        from kerasconv.serving.protos import status_json

        request = get_model_status_pb2.GetModelStatusRequest()
        self._fill_spec(request.model_spec)
        _, model = self._stubs()
        return status_json(self._grpc_call(model.GetModelStatus, request))

    def metadata(self):
        """The served version's signatures, as TF Serving's REST JSON."""
        if self.protocol == "rest":
            return self._rest("GET", self._model_path() + "/metadata")
        from tensorflow_serving.apis import get_model_metadata_pb2

        from kerasconv.serving.protos import metadata_json

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._fill_spec(request.model_spec)
        request.metadata_field.append("signature_def")
        prediction, _ = self._stubs()
        return metadata_json(self._grpc_call(prediction.GetModelMetadata, request))

    def close(self):
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _json_array(value):
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    return array


def _wire_array(value):
    array = np.asarray(value)
    if array.dtype.kind == "U":
        array = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return array
