"""The gRPC API through TF Serving's official stubs (tensorflow-serving-api)."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

MODEL = "lenet5_digits"


@pytest.fixture(scope="module")
def stubs(server):
    channel = grpc.insecure_channel(server.grpc_address)
    yield (
        prediction_service_pb2_grpc.PredictionServiceStub(channel),
        model_service_pb2_grpc.ModelServiceStub(channel),
    )
    channel.close()


def _request(images, signature="serving_default", name=MODEL, key="images"):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    request.inputs[key].CopyFrom(tf.make_tensor_proto(images))
    return request


def test_predict_stub_gets_the_keras_answers(stubs, trained_lenet, digits_test):
    prediction, _ = stubs
    x = digits_test[0][:6]
    response = prediction.Predict(_request(x), timeout=30)
    assert list(response.outputs) == ["probabilities"]
    probabilities = tf.make_ndarray(response.outputs["probabilities"])
    assert probabilities.shape == (6, 10)
    assert np.max(np.abs(probabilities - trained_lenet.predict(x, verbose=0))) <= 1e-5
    assert response.model_spec.name == MODEL
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    # A specific version and an output filter.
    request = _request(x[:2], signature="saliency")
    request.model_spec.version.value = 1
    request.output_filter.append("class_index")
    response = prediction.Predict(request, timeout=30)
    assert list(response.outputs) == ["class_index"]
    assert (
        tf.make_ndarray(response.outputs["class_index"]).tolist()
        == np.argmax(trained_lenet.predict(x[:2], verbose=0), -1).tolist()
    )


def test_predict_images_over_grpc(stubs, digits_test):
    prediction, _ = stubs
    png = tf.io.encode_png(np.round(digits_test[0][0] * 255).astype(np.uint8)).numpy()
    request = _request(np.array([png], dtype=object), "predict_images", key="image_bytes")
    response = prediction.Predict(request, timeout=30)
    classes = tf.make_ndarray(response.outputs["classes"])
    assert classes.shape == (1, 5)
    assert classes[0, 0].decode() == f"digit_{digits_test[1][0]}"


def test_metadata_and_status_stubs(stubs):
    prediction, model = stubs
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = MODEL
    request.metadata_field.append("signature_def")
    response = prediction.GetModelMetadata(request, timeout=30)
    assert response.model_spec.version.value == 1
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    default = signature_map.signature_def["serving_default"]
    assert list(default.inputs) == ["images"] and list(default.outputs) == ["probabilities"]
    assert {"predict_images", "saliency"} <= set(signature_map.signature_def)
    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = MODEL
    status = model.GetModelStatus(status_request, timeout=30)
    assert len(status.model_version_status) == 1
    version_status = status.model_version_status[0]
    assert version_status.version == 1
    assert version_status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert version_status.status.error_code == 0 and version_status.status.error_message == ""


def _code(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), info.value.details()


def test_grpc_errors_have_tf_serving_codes_and_the_server_keeps_serving(stubs, digits_test):
    prediction, model = stubs
    x = digits_test[0][:1]
    code, details = _code(lambda: prediction.Predict(_request(x, name="nope"), timeout=30))
    assert code == grpc.StatusCode.NOT_FOUND and "Latest(nope)" in details
    code, _ = _code(lambda: prediction.Predict(_request(x[:, :16]), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = _code(lambda: prediction.Predict(_request(x.astype(np.int32)), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, details = _code(lambda: prediction.Predict(_request(x, key="pixels"), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "Missing but required: {images}" in details
    code, details = _code(lambda: prediction.Predict(_request(x, "explain"), timeout=30))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "explain" in details
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = MODEL
    code, _ = _code(lambda: prediction.GetModelMetadata(request, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # no metadata_field
    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = MODEL
    status_request.model_spec.version.value = 42
    code, details = _code(lambda: model.GetModelStatus(status_request, timeout=30))
    assert (
        code == grpc.StatusCode.NOT_FOUND
        and details == f"Could not find version 42 of model {MODEL}"
    )
    response = prediction.Predict(_request(x), timeout=30)
    assert tf.make_ndarray(response.outputs["probabilities"]).shape == (1, 10)
