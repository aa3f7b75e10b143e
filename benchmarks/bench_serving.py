"""Serving benchmark: REST and gRPC latency (p50/p99) and throughput against in-process calls.

For LeNet-5 (32×32×1) and the CIFAR ResNet-20 (32×32×3), each model is exported with
``kerasconv.export.export_model`` and served by ``kerasconv.serving.ModelServer`` on 127.0.0.1:

* latency: one-image requests sent one after another over a kept-alive connection;
* throughput: one-image requests from ``CLIENTS`` concurrent clients, with and without server-side
  batching;
* baselines: the Keras model called in-process (``model.predict_on_batch``) and the exported
  signature called in-process (the same graph the server runs, without the network and JSON);
* latency under concurrency (issue 20.5): 1,000 one-image LeNet-5 requests from 16 concurrent
  clients, p50 and p99 of every request, for REST and gRPC: the server's defaults (batching
  ``auto``: requests waiting while the model is busy are merged; garbage-collector freeze on), and
  for comparison batching off (one model call per request, TF Serving's default) and the freeze
  off. Goals: REST p99 <= 3 x its p50, and p50 <= 2 x the in-process ``predict_on_batch`` p50
  (from the same 16 client threads) + 2 ms; gRPC reported the same way. The process CPU time per
  request (server and clients together) is reported too: it is less sensitive to other load on
  the machine than the latencies.

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


def _run_clients(make_call, total, clients):
    """``clients`` threads share ``total`` requests; returns ``(per-request seconds, wall seconds)``."""
    remaining = [total]
    lock = threading.Lock()
    seconds, errors = [], []

    def worker():
        call, close = make_call()
        try:
            call()  # warm connection
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                call()
                elapsed = time.perf_counter() - start
                with lock:
                    seconds.append(elapsed)
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
    return seconds, elapsed


def _throughput(make_call, total, clients=CLIENTS):
    """Requests per second when ``clients`` threads share ``total`` requests."""
    _, elapsed = _run_clients(make_call, total, clients)
    return total / elapsed


def _concurrent_latency(make_call, total=1000, clients=16, cpu=None):
    """Per-request latencies (p50, p99 in ms) when ``clients`` threads share ``total`` requests.

    ``cpu``: a list that receives the process CPU milliseconds per request.
    """
    cpu_start = time.process_time()
    seconds, elapsed = _run_clients(make_call, total, clients)
    if cpu is not None:
        cpu.append(1000 * (time.process_time() - cpu_start) / total)
    p50, p99 = _percentiles(seconds)
    slow = sum(1 for value in seconds if value > 0.15) / len(seconds)
    return p50, p99, total / elapsed, slow


def concurrency(quick=False, clients=16):
    """Rows of p50/p99 for 1,000 (quick: 300) one-image LeNet-5 requests from 16 clients."""
    import kerasconv
    from kerasconv.export import export_model
    from kerasconv.serving import ModelServer

    total = 300 if quick else 1000
    model = kerasconv.models.LeNet5(classes=10)
    image = np.random.default_rng(0).random((1, 32, 32, 1)).astype("float32")
    keras_p50, _ = _latency(lambda: model.predict_on_batch(image), 60 if quick else 300, 20)
    # The same 16 clients calling predict_on_batch in-process: with 16 requests in flight on a
    # few cores each one waits for the others (Little's law), so this is the fair floor.
    keras_cpu = []
    keras_concurrent_p50, _, _, _ = _concurrent_latency(
        lambda: (lambda: model.predict_on_batch(image), lambda: None), total, clients, keras_cpu
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as workdir:
        base = os.path.join(workdir, "lenet5")
        export_model(model, base)
        # The defaults first, then batching off (TF Serving's default), then the freeze off.
        for batching, freeze in (("auto", True), (False, True), ("auto", False)):
            with ModelServer.for_model(
                "lenet5",
                base,
                poll_seconds=0,
                rest_api_port=0,
                grpc_port=0,
                freeze_gc=freeze,
                enable_batching=batching,
            ) as server:
                for path, make in (
                    ("REST", _rest_caller(server.rest_port, "lenet5", image)),
                    ("gRPC", _grpc_caller(server.grpc_address, "lenet5", image)),
                ):
                    cpu = []
                    p50, p99, rps, slow = _concurrent_latency(make, total, clients, cpu)
                    rows.append(
                        {
                            "path": path,
                            "batching": "auto" if batching else "off",
                            "gc_freeze": freeze,
                            "cpu_ms_per_request": round(cpu[0], 3),
                            "in_process_cpu_ms_per_request": round(keras_cpu[0], 3),
                            "p50_ms": round(p50, 2),
                            "p99_ms": round(p99, 2),
                            "p99_over_p50": round(p99 / p50, 2),
                            "share_over_150ms": round(slow, 4),
                            "throughput_rps": round(rps, 1),
                            "in_process_p50_ms": round(keras_p50, 3),
                            "in_process_16_clients_p50_ms": round(keras_concurrent_p50, 3),
                            "p50_goal_ms": round(2 * keras_concurrent_p50 + 2, 3),
                            "meets_goal": bool(
                                p99 <= 3 * p50 and p50 <= 2 * keras_concurrent_p50 + 2
                            ),
                        }
                    )
    return rows


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
    suffixes = {False: ", batching off", "auto": "", True: " + batching"}
    for batching in (False, "auto", True):
        with ModelServer.for_model(
            name, base, poll_seconds=0, rest_api_port=0, grpc_port=0, enable_batching=batching
        ) as server:
            suffix = suffixes[batching]
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
        "Batching off: one model call per request (--enable_batching=false, TF Serving's "
        "default); no suffix: kerasconv's default --enable_batching=auto (requests waiting while "
        "the model is busy are merged, up to 32 rows, no wait); + batching: up to 32 rows, 2 ms "
        "wait (--enable_batching=true).",
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
    concurrent = concurrency(quick)
    lines += [
        "",
        f"Latency under concurrency: LeNet-5, {300 if quick else 1000} one-image requests from 16 "
        f"clients. In-process predict_on_batch p50: {concurrent[0]['in_process_p50_ms']:.2f} ms "
        f"one at a time, {concurrent[0]['in_process_16_clients_p50_ms']:.2f} ms from the same 16 "
        f"client threads; goal: p99 <= 3 x p50 and p50 <= 2 x the latter + 2 ms = "
        f"{concurrent[0]['p50_goal_ms']:.2f} ms. CPU: process CPU time per request, server and "
        f"clients together (in-process predict_on_batch from 16 threads: "
        f"{concurrent[0]['in_process_cpu_ms_per_request']:.2f} ms).",
        "",
        "| path | batching | gc freeze | p50 (ms) | p99 (ms) | p99/p50 | > 150 ms | req/s | "
        "CPU (ms/req) | goal met |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['path']} | {r['batching']} | {'on' if r['gc_freeze'] else 'off'} | "
        f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['p99_over_p50']:.2f} | "
        f"{100 * r['share_over_150ms']:.1f}% | {r['throughput_rps']:.0f} | "
        f"{r['cpu_ms_per_request']:.2f} | {'yes' if r['meets_goal'] else 'no'} |"
        for r in concurrent
    ]
    return {
        "title": "Serving: REST and gRPC against in-process calls",
        "rows": rows,
        "concurrency": concurrent,
        "markdown": header + "\n".join(lines) + "\n",
        "notes": notes,
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--concurrency-only", action="store_true", help="only the 16-client latency table"
    )
    options = parser.parse_args()
    if options.concurrency_only:
        for row in concurrency(options.quick):
            print(row)
        raise SystemExit(0)
    result = run(quick=options.quick)
    print(result["markdown"])
    for note in result["notes"]:
        print(note)
