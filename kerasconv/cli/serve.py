"""``kerasconv serve``: TF Serving's REST and gRPC APIs over ``saved_models/NAME/<version>/``.

The flags are ``tensorflow_model_server``'s (``tensorflow_serving/model_servers/main.cc``), spelled
the same way and with the same defaults, so a command line carries over to the real server:
``--flag=value`` or ``--flag value``, booleans as ``--enable_batching``, ``--enable_batching=true``
or ``=false``. Flags marked "kerasconv" are this server's own (the real one has no per-request caps).
"""

from __future__ import annotations

import os

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _bool(text):
    import argparse

    value = str(text).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _batching(text):
    """``--enable_batching``: a boolean, or ``auto`` (kerasconv's default)."""
    if str(text).strip().lower() == "auto":
        return "auto"
    return _bool(text)


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="serve exported models with TF Serving's REST and gRPC APIs",
        description=(
            "Serve SavedModels in TF Serving's layout (BASE_PATH/<version>/) with TF Serving's "
            "REST (/v1/models/NAME:predict|:classify|:regress) and gRPC (PredictionService, "
            "ModelService) APIs and tensorflow_model_server's flags. The latest version is "
            "served; new versions are loaded without restart, and a version is unloaded only "
            "once another is serving."
        ),
    )
    add = parser.add_argument
    add(
        "--model_name",
        "--model-name",
        default="default",
        help="name of the model when --model_config_file is not given (default: %(default)s)",
    )
    add(
        "--model_base_path",
        "--model-base-path",
        default="",
        help="folder of integer version folders (default: %(default)r; required unless a model "
        "config file is given)",
    )
    add(
        "--model_config_file",
        "--model-config-file",
        default="",
        help="TF Serving ModelServerConfig text file: several models, version policies, labels "
        "(default: %(default)r, none)",
    )
    add(
        "--model_config_file_poll_wait_seconds",
        type=float,
        default=0.0,
        help="seconds between re-reads of --model_config_file; 0 reads it once "
        "(default: %(default)s)",
    )
    add("--port", type=int, default=8500, help="gRPC port; 0 disables gRPC (default: %(default)s)")
    add(
        "--rest_api_port",
        "--rest-api-port",
        type=int,
        default=8501,
        help="REST port; 0 disables REST (default: %(default)s; tensorflow_model_server's own "
        "default is 0, its Docker image passes 8501)",
    )
    add(
        "--rest_api_num_threads",
        type=int,
        default=0,
        help="REST requests handled at once; 0: 4 per CPU core, at least 16 (default: %(default)s)",
    )
    add(
        "--rest_api_timeout_in_ms",
        type=int,
        default=30000,
        help="an inference request answered later than this gets 504 DEADLINE_EXCEEDED; "
        "0: no deadline (default: %(default)s)",
    )
    add(
        "--grpc_max_threads",
        type=int,
        default=0,
        help="gRPC worker threads; 0: 4 per CPU core, at least 16 (default: %(default)s)",
    )
    add(
        "--file_system_poll_wait_seconds",
        type=float,
        default=1.0,
        help="seconds between scans of the base paths for new versions; 0 scans once "
        "(default: %(default)s)",
    )
    add(
        "--max_num_load_retries",
        type=int,
        default=5,
        help="retries of a version whose load failed (default: %(default)s)",
    )
    add(
        "--load_retry_interval_micros",
        type=int,
        default=60_000_000,
        help="microseconds between load retries (default: %(default)s, one minute)",
    )
    add(
        "--enable_batching",
        type=_batching,
        nargs="?",
        const=True,
        default="auto",
        metavar="BOOL|auto",
        help="true: merge concurrent predict requests into one model call, waiting up to "
        "--batch_timeout_micros for more (TF Serving's batching); false: one model call per "
        "request; auto: merge only requests already waiting while the model is busy, never "
        "wait (kerasconv's default; TF Serving's is false) (default: %(default)s)",
    )
    add(
        "--batching_parameters_file",
        default="",
        help="text BatchingParameters proto (max_batch_size { value: 32 } ...) for "
        "--enable_batching (default: %(default)r, none)",
    )
    add(
        "--tensorflow_intra_op_parallelism",
        type=int,
        default=0,
        help="threads inside one op; 0: TensorFlow's choice (default: %(default)s)",
    )
    add(
        "--tensorflow_inter_op_parallelism",
        type=int,
        default=0,
        help="ops run at once; 0: TensorFlow's choice (default: %(default)s)",
    )
    add(
        "--host",
        default="127.0.0.1",
        help="kerasconv: interface to bind; 0.0.0.0 exposes the server (default: %(default)s)",
    )
    add(
        "--max_request_bytes",
        type=int,
        default=32 * 1024 * 1024,
        help="kerasconv: largest REST body / gRPC message in bytes (default: %(default)s)",
    )
    add(
        "--max_request_elements",
        type=int,
        default=1 << 24,
        help="kerasconv: most elements in one input tensor of a request (default: %(default)s)",
    )
    add(
        "--max_request_batch_size",
        type=int,
        default=1024,
        help="kerasconv: most rows in one request (default: %(default)s)",
    )
    add(
        "--max_batch_size",
        type=int,
        default=32,
        help="kerasconv: batching's largest merged batch, unless the batching file sets it "
        "(default: %(default)s)",
    )
    add(
        "--batch_timeout_micros",
        type=int,
        default=2000,
        help="kerasconv: how long batching waits for more requests, unless the batching file "
        "sets it (default: %(default)s)",
    )
    parser.set_defaults(func=run)  # fmt: skip


def _threads(value):
    return value if value > 0 else max(16, 4 * (os.cpu_count() or 1))


def _check(args):
    from kerasconv.cli import UsageError

    for flag, port in (("--rest_api_port", args.rest_api_port), ("--port", args.port)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{flag} must be in [0, 65535]; got {port}")
    if args.port == 0 and args.rest_api_port == 0:
        raise UsageError("--port and --rest_api_port are both 0: nothing to serve on")
    for flag in (
        "file_system_poll_wait_seconds",
        "model_config_file_poll_wait_seconds",
        "max_num_load_retries",
        "load_retry_interval_micros",
        "rest_api_timeout_in_ms",
        "rest_api_num_threads",
        "grpc_max_threads",
        "tensorflow_intra_op_parallelism",
        "tensorflow_inter_op_parallelism",
    ):
        if getattr(args, flag) < 0:
            raise UsageError(f"--{flag} must be >= 0; got {getattr(args, flag)}")
    for flag in ("max_request_elements", "max_request_batch_size", "max_batch_size"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag} must be >= 1; got {getattr(args, flag)}")


def run(args):
    import logging
    import signal
    import threading

    from kerasconv.cli import UsageError

    _check(args)
    model_name_given = args.model_name != "default"
    if args.model_config_file:
        if args.model_base_path or model_name_given:
            raise UsageError("pass either --model_config_file or --model_name/--model_base_path")
    elif not args.model_base_path:
        raise UsageError("pass --model_base_path (and --model_name) or --model_config_file")
    batching = {}
    if args.batching_parameters_file:
        if args.enable_batching is not True:
            raise UsageError("--batching_parameters_file needs --enable_batching=true")
        from kerasconv.serving.batching import load_batching_parameters

        batching = load_batching_parameters(args.batching_parameters_file)

    import tensorflow as tf

    from kerasconv.serving import ModelRegistry, ModelServer, load_config_file, single_model_config
    from kerasconv.serving.server import PortInUseError

    if args.tensorflow_intra_op_parallelism:
        tf.config.threading.set_intra_op_parallelism_threads(args.tensorflow_intra_op_parallelism)
    if args.tensorflow_inter_op_parallelism:
        tf.config.threading.set_inter_op_parallelism_threads(args.tensorflow_inter_op_parallelism)
    if args.model_config_file:
        config = load_config_file(args.model_config_file)
    else:
        config = single_model_config(args.model_name, args.model_base_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for field in batching.get("ignored", []):
        logging.getLogger("kerasconv.serving").warning(
            "batching parameter %s is accepted but not used by kerasconv's batcher", field
        )
    registry = ModelRegistry(
        config,
        poll_seconds=args.file_system_poll_wait_seconds,
        max_num_load_retries=args.max_num_load_retries,
        load_retry_interval_micros=args.load_retry_interval_micros,
    )
    server = ModelServer(
        registry,
        host=args.host,
        rest_api_port=args.rest_api_port or None,
        grpc_port=args.port or None,
        max_request_bytes=args.max_request_bytes,
        enable_batching=args.enable_batching,
        max_batch_size=batching.get("max_batch_size", args.max_batch_size),
        batch_timeout_micros=batching.get("batch_timeout_micros", args.batch_timeout_micros),
        grpc_max_threads=_threads(args.grpc_max_threads),
        max_request_elements=args.max_request_elements,
        max_request_batch_size=args.max_request_batch_size,
        rest_api_timeout_in_ms=args.rest_api_timeout_in_ms or None,
        rest_api_num_threads=_threads(args.rest_api_num_threads),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except PortInUseError as error:
        raise UsageError(str(error.strerror or error)) from None
    try:
        if args.model_config_file:
            registry.watch_config_file(
                args.model_config_file, args.model_config_file_poll_wait_seconds
            )
        for line in model_lines(registry, args.file_system_poll_wait_seconds):
            print(line, flush=True)
        if server.rest_url:
            print(f"REST: {server.rest_url}/v1/models/<name>[:predict]", flush=True)
        if server.grpc_address:
            print(f"gRPC: {server.grpc_address}", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def model_lines(registry, poll_seconds):
    """One start-up line per model: its versions and states, or why none is found yet."""
    problems = registry.problems()
    lines = []
    for name in registry.model_names:
        versions = ", ".join(
            f"{version} {state}" for version, state, _, _ in _status_or_empty(registry, name)
        )
        if name in problems and not versions:
            again = f"; polling every {poll_seconds:g} s" if poll_seconds > 0 else ""
            lines.append(f"model {name}: {problems[name]}{again}")
        else:
            lines.append(f"model {name}: {versions or 'no version loaded yet'}")
    return lines


def _status_or_empty(registry, name):
    from kerasconv.serving import ServingError

    try:
        return registry.status(name)
    except ServingError:
        return []
