"""TF Serving's gRPC services on the official ``tensorflow-serving-api`` stubs.

``tensorflow.serving.PredictionService``: ``Predict``, ``GetModelMetadata``, and ``Classify``,
``Regress`` and ``MultiInference`` on ``tf.Example`` signatures (``export_model(...,
example_signatures=True)``; rules in :mod:`kerasconv.serving.inference`).
``tensorflow.serving.ModelService``: ``GetModelStatus`` and ``HandleReloadConfigRequest``.

Every input ``TensorProto`` is checked against the per-request caps on its *declared* shape before
it is turned into an array: a 120-byte proto with one value and a shape of 32768x32x32x1 would
otherwise be expanded to 1.4 GB (TensorProto repeats its last value to fill the shape).

Any client built for TF Serving (``PredictionServiceStub``) works unchanged.
"""

from __future__ import annotations

import logging
from concurrent import futures

from kerasconv.serving import protos
from kerasconv.serving.errors import ServingError, grpc_status_code, invalid_argument

logger = logging.getLogger("kerasconv.serving")


def _model_spec_args(spec):
    """``(name, version, label)`` from a ``ModelSpec``."""
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return spec.name, version, label


def _abort(context, error):
    context.abort(grpc_status_code(error.code), error.message)


def _guard(method):
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ServingError as error:
            _abort(context, error)
        except Exception as error:  # noqa: BLE001 - report, keep serving
            logger.exception("Internal error in %s", method.__name__)
            _abort(context, ServingError("INTERNAL", f"Internal error: {error}"))

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _proto_shape(proto):
    if proto.tensor_shape.unknown_rank:
        return None
    return [dim.size for dim in proto.tensor_shape.dim]


def _servicers():
    import tensorflow as tf
    from tensorflow_serving.apis import (
        classification_pb2,
        inference_pb2,
        model_management_pb2,
        model_service_pb2_grpc,
        predict_pb2,
        prediction_service_pb2_grpc,
        regression_pb2,
    )

    from kerasconv.serving import inference

    class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def __init__(self, registry, predictor, limits):
            self.registry = registry
            self.predictor = predictor
            self.limits = limits

        def _examples(self, input_proto):
            serialized = inference.examples_from_input(input_proto)
            self.limits.check("inputs", [len(serialized)])
            return serialized

        def _spec(self, model_spec, response_spec, servable, key):
            response_spec.name = model_spec.name
            response_spec.version.value = servable.version
            response_spec.signature_name = key

        @_guard
        def Classify(self, request, context):  # noqa: N802 - gRPC method name
            name, version, label = _model_spec_args(request.model_spec)
            servable = self.registry.get(name, version, label)
            _, key, classes, scores = _classify(
                servable, request.model_spec.signature_name, self._examples(request.input)
            )
            response = classification_pb2.ClassificationResponse()
            self._spec(request.model_spec, response.model_spec, servable, key)
            inference.fill_classification_result(response.result, classes, scores)
            return response

        @_guard
        def Regress(self, request, context):  # noqa: N802
            name, version, label = _model_spec_args(request.model_spec)
            servable = self.registry.get(name, version, label)
            key, values = inference.regress(
                servable, request.model_spec.signature_name, self._examples(request.input)
            )
            response = regression_pb2.RegressionResponse()
            self._spec(request.model_spec, response.model_spec, servable, key)
            inference.fill_regression_result(response.result, values)
            return response

        @_guard
        def MultiInference(self, request, context):  # noqa: N802
            # multi_inference.cc: one model, distinct signatures, classify/regress methods only.
            if not request.tasks:
                raise invalid_argument("Tasks is empty")
            names = {task.model_spec.name for task in request.tasks}
            if len(names) != 1:
                raise invalid_argument(
                    "All ModelSpecs in a MultiInferenceRequest must access the same model name"
                )
            seen = set()
            for task in request.tasks:
                signature = task.model_spec.signature_name or "serving_default"
                if signature in seen:
                    raise invalid_argument(f"Duplicate evaluation of signature: {signature}")
                seen.add(signature)
                if task.method_name not in (inference.CLASSIFY, inference.REGRESS):
                    raise invalid_argument(f"Unsupported signature method_name: {task.method_name}")
            first = request.tasks[0].model_spec
            name, version, label = _model_spec_args(first)
            servable = self.registry.get(name, version, label)
            serialized = self._examples(request.input)
            response = inference_pb2.MultiInferenceResponse()
            for task in request.tasks:
                result = response.results.add()
                if task.method_name == inference.CLASSIFY:
                    _, key, classes, scores = _classify(
                        servable, task.model_spec.signature_name, serialized
                    )
                    inference.fill_classification_result(
                        result.classification_result, classes, scores
                    )
                else:
                    key, values = inference.regress(
                        servable, task.model_spec.signature_name, serialized
                    )
                    inference.fill_regression_result(result.regression_result, values)
                self._spec(task.model_spec, result.model_spec, servable, key)
            return response

        @_guard
        def Predict(self, request, context):  # noqa: N802 - gRPC method name
            name, version, label = _model_spec_args(request.model_spec)
            servable = self.registry.get(name, version, label)
            key, _, specs = servable.signature(request.model_spec.signature_name)
            inputs = {}
            for input_name, proto in request.inputs.items():
                shape = _proto_shape(proto)
                if shape is None:
                    raise invalid_argument(f"Input {input_name!r} has an unknown rank.")
                # Before make_ndarray: it would allocate the declared shape in full.
                self.limits.check(input_name, shape)
                try:
                    inputs[input_name] = tf.make_ndarray(proto)
                except (TypeError, ValueError) as error:
                    raise invalid_argument(
                        f"Input {input_name!r}: bad TensorProto: {error}"
                    ) from None
            from kerasconv.serving.tensors import check_input_names

            check_input_names(inputs, specs)
            outputs = self.predictor(servable, key, inputs)
            if request.output_filter:
                unknown = set(request.output_filter) - set(outputs)
                if unknown:
                    raise invalid_argument(
                        f"output tensor alias not found in signature: {sorted(unknown)[0]}"
                    )
                outputs = {k: v for k, v in outputs.items() if k in set(request.output_filter)}
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = key
            for output_name, array in outputs.items():
                response.outputs[output_name].CopyFrom(tf.make_tensor_proto(array))
            return response

        @_guard
        def GetModelMetadata(self, request, context):  # noqa: N802
            name, version, label = _model_spec_args(request.model_spec)
            return protos.model_metadata(
                self.registry, name, version, label, fields=request.metadata_field
            )

    class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
        def __init__(self, registry):
            self.registry = registry

        @_guard
        def GetModelStatus(self, request, context):  # noqa: N802
            if not request.HasField("model_spec"):
                raise invalid_argument("Missing ModelSpec")
            name, version, _ = _model_spec_args(request.model_spec)
            return protos.model_status(self.registry, name, version)

        @_guard
        def HandleReloadConfigRequest(self, request, context):  # noqa: N802
            response = model_management_pb2.ReloadConfigResponse()
            try:
                self.registry.reload_config(request.config)
            except ValueError as error:
                raise invalid_argument(str(error)) from None
            response.status.error_code = 0
            return response

    return PredictionServicer, ModelServicer, prediction_service_pb2_grpc, model_service_pb2_grpc


def _classify(servable, signature_name, serialized):
    from kerasconv.serving import inference

    key, classes, scores = inference.classify(servable, signature_name, serialized)
    return servable, key, classes, scores


def create_grpc_server(registry, host, port, max_message_bytes, max_threads, predictor, limits):
    """A started-on-demand ``grpc.Server`` and the port it bound (``port=0`` picks one)."""
    import grpc

    prediction, model, prediction_grpc, model_grpc = _servicers()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="kerasconv-grpc"),
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max(max_message_bytes, 64 * 1024 * 1024)),
            ("grpc.so_reuseport", 0),
        ],
    )
    prediction_grpc.add_PredictionServiceServicer_to_server(
        prediction(registry, predictor, limits), server
    )
    model_grpc.add_ModelServiceServicer_to_server(model(registry), server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"could not bind the gRPC port {address}")
    return server, bound
