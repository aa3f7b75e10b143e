"""Serving benchmark: REST and gRPC latency (p50/p99) and throughput against in-process calls.

For LeNet-5 (32×32×1) and the CIFAR ResNet-20 (32×32×3), each model is exported with
``kerasconv.export.export_model`` and served by ``kerasconv.serving.ModelServer`` on 127.0.0.1:

* latency: one-image requests sent one after another over a kept-alive connection;
* throughput: one-image requests from ``CLIENTS`` concurrent clients, with and without server-side
  batching;
* baselines: the Keras model called in-process (``model.predict_on_batch``) and the exported
  signature called in-process (the same graph the server runs, without the network and JSON).

``run(quick=False)`` returns ``{"title", "rows", "markdown", "notes"}``; ``python -m
benchmarks.bench_serving [--quick]`` prints the table.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import threading
import time

import numpy as np

CLIENTS = 8


def _percentiles(seconds):
    values = sorted(seconds)
    p50 = statistics.median(values)
    p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
    return 1000 * p50, 1000 * p99


def _latency(call, count, warmup=5):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return _percentiles(times)


def _throughput(make_call, total, clients=CLIENTS):
    """Requests per second when ``clients`` threads share ``total`` requests."""
    remaining = [total]
    lock = threading.Lock()
    errors = []

    def worker():
        call, close = make_call()
        try:
            call()  # warm connection
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                call()
        except Exception as error:  # noqa: BLE001 - reported in the result
            errors.append(repr(error))
        finally:
            close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} client errors, first: {errors[0]}")
    return total / elapsed


def _rest_caller(port, name, image):
    body = json.dumps({"instances": image.tolist()})

    def make():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call():
            connection.request("POST", f"/v1/models/{name}:predict", body)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(data[:200])

        return call, connection.close

    return make


def _grpc_caller(address, name, image):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(image))

    def make():
        channel = grpc.insecure_channel(address)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        def call():
            stub.Predict(request, timeout=60)

        return call, channel.close

    return make


def _models():
    import kerasconv

    yield "LeNet-5", lambda: kerasconv.models.LeNet5(classes=10), (32, 32, 1)
    try:
        build = kerasconv.models.create
        build("cifar_resnet20", input_shape=(32, 32, 3), classes=10)
    except Exception as error:  # noqa: BLE001 - the zoo may not have it
        print(f"bench_serving: skipping the CIFAR ResNet-20 row ({error})")
        return
    yield (
        "CIFAR ResNet-20",
        lambda: build("cifar_resnet20", input_shape=(32, 32, 3), classes=10),
        (32, 32, 3),
    )


def _bench_model(label, build, shape, quick, workdir):
    import tensorflow as tf

    from kerasconv.export import export_model
    from kerasconv.serving import ModelServer

    count = 60 if quick else 400
    total = 200 if quick else 2000
    model = build()
    name = label.lower().replace(" ", "_").replace("-", "")
    base = os.path.join(workdir, name)
    export_model(model, base)
    image = np.random.default_rng(0).random((1, *shape)).astype("float32")
    rows = []

    def row(path, latency, throughput):
        rows.append(
            {
                "model": label,
                "path": path,
                "p50_ms": round(latency[0], 3),
                "p99_ms": round(latency[1], 3),
                "throughput_rps": round(throughput, 1),
            }
        )

    tensor = tf.constant(image)
    keras_call = lambda: model.predict_on_batch(image)  # noqa: E731
    row(
        "in-process Keras predict_on_batch",
        _latency(keras_call, count),
        _throughput(lambda: (keras_call, lambda: None), total),
    )
    signature = tf.saved_model.load(os.path.join(base, "1")).signatures["serving_default"]
    sig_call = lambda: signature(images=tensor)  # noqa: E731
    row(
        "in-process SavedModel signature",
        _latency(sig_call, count),
        _throughput(lambda: (sig_call, lambda: None), total),
    )
    for batching in (False, True):
        with ModelServer.for_model(
            name, base, poll_seconds=0, rest_api_port=0, grpc_port=0, enable_batching=batching
        ) as server:
            suffix = " + batching" if batching else ""
            rest = _rest_caller(server.rest_port, name, image)
            grpc_make = _grpc_caller(server.grpc_address, name, image)
            for path, make in ((f"REST{suffix}", rest), (f"gRPC{suffix}", grpc_make)):
                call, close = make()
                try:
                    latency = _latency(call, count)
                finally:
                    close()
                row(path, latency, _throughput(make, total))
    return rows


def run(quick=False):
    """Measure; returns ``{"title", "rows", "markdown", "notes"}``."""
    rows = []
    notes = [
        f"One 32×32 image per request; throughput with {CLIENTS} concurrent clients; "
        f"{os.cpu_count()} CPU core(s); server and clients share the machine.",
        "Batching: up to 32 rows, 2 ms wait (kerasconv serve --enable_batching).",
    ]
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as workdir:
        for label, build, shape in _models():
            rows.extend(_bench_model(label, build, shape, quick, workdir))
    header = (
        "| model | path | p50 (ms) | p99 (ms) | throughput (req/s) |\n|---|---|---:|---:|---:|\n"
    )
    lines = [
        f"| {r['model']} | {r['path']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{r['throughput_rps']:.0f} |"
        for r in rows
    ]
    return {
        "title": "Serving: REST and gRPC against in-process calls",
        "rows": rows,
        "markdown": header + "\n".join(lines) + "\n",
        "notes": notes,
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    result = run(quick=parser.parse_args().quick)
    print(result["markdown"])
    for note in result["notes"]:
        print(note)
