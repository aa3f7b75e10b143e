"""kerasconv.serving: a local server with TensorFlow Serving's REST and gRPC APIs, and a client.

    from kerasconv.serving import Client, ModelServer
    with ModelServer.for_model("lenet5_digits", "saved_models/lenet5_digits") as server:
        client = Client(server.rest_url, "lenet5_digits")
        probabilities = client.predict(images)

Command line: ``kerasconv serve --model_name NAME --model_base_path PATH``. See ``docs/serving.md``.
"""

from kerasconv.serving.client import Client
from kerasconv.serving.errors import ServingError
from kerasconv.serving.registry import ModelRegistry, load_config_file, single_model_config
from kerasconv.serving.server import DEFAULT_MAX_REQUEST_BYTES, ModelServer, PortInUseError, RestApi
from kerasconv.serving.tensors import RequestLimits

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "Client",
    "ModelRegistry",
    "ModelServer",
    "PortInUseError",
    "RequestLimits",
    "RestApi",
    "ServingError",
    "load_config_file",
    "single_model_config",
]
