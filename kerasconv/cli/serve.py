"""``kerasconv serve``: TF Serving's REST and gRPC APIs over ``saved_models/NAME/<version>/``.

The flags are ``tensorflow_model_server``'s, so commands carry over to the real server.
"""

from __future__ import annotations


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="serve exported models with TF Serving's REST and gRPC APIs",
        description=(
            "Serve SavedModels in TF Serving's layout (BASE_PATH/<version>/) with TF Serving's "
            "REST (/v1/models/NAME:predict) and gRPC (PredictionService, ModelService) APIs. "
            "The latest version is served and new versions are picked up without restart."
        ),
    )
    parser.add_argument("--model_name", "--model-name", default=None, help="name of the model")
    parser.add_argument(
        "--model_base_path", "--model-base-path", default=None, help="folder of version folders"
    )
    parser.add_argument(
        "--model_config_file",
        "--model-config-file",
        default=None,
        help="TF Serving ModelServerConfig text file (several models, policies, labels)",
    )
    parser.add_argument(
        "--rest_api_port",
        "--rest-api-port",
        type=int,
        default=8501,
        help="REST port (0 disables REST)",
    )
    parser.add_argument("--port", type=int, default=8500, help="gRPC port (0 disables gRPC)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--file_system_poll_wait_seconds",
        type=float,
        default=1.0,
        help="seconds between scans for new versions (0: scan once)",
    )
    parser.add_argument(
        "--max_request_bytes", type=int, default=32 * 1024 * 1024, help="largest request body"
    )
    parser.add_argument("--enable_batching", action="store_true", help="merge concurrent requests")
    parser.add_argument("--max_batch_size", type=int, default=32)
    parser.add_argument("--batch_timeout_micros", type=int, default=2000)
    parser.set_defaults(func=run)


def run(args):
    import logging
    import signal
    import threading

    from kerasconv.cli import UsageError
    from kerasconv.serving import ModelRegistry, ModelServer, load_config_file, single_model_config

    if args.model_config_file:
        if args.model_name or args.model_base_path:
            raise UsageError("pass either --model_config_file or --model_name/--model_base_path")
        config = load_config_file(args.model_config_file)
    else:
        if not (args.model_name and args.model_base_path):
            raise UsageError("pass --model_name and --model_base_path (or --model_config_file)")
        config = single_model_config(args.model_name, args.model_base_path)
    for flag, port in (("--rest_api_port", args.rest_api_port), ("--port", args.port)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{flag} must be in [0, 65535]; got {port}")
    if args.file_system_poll_wait_seconds < 0:
        raise UsageError("--file_system_poll_wait_seconds must be >= 0")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    registry = ModelRegistry(config, poll_seconds=args.file_system_poll_wait_seconds)
    server = ModelServer(
        registry,
        host=args.host,
        rest_api_port=args.rest_api_port or None,
        grpc_port=args.port or None,
        max_request_bytes=args.max_request_bytes,
        enable_batching=args.enable_batching,
        max_batch_size=args.max_batch_size,
        batch_timeout_micros=args.batch_timeout_micros,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        for name in registry.model_names:
            versions = ", ".join(
                f"{version} {state}" for version, state, _, _ in _status_or_empty(registry, name)
            )
            print(f"model {name}: {versions or 'no version found yet'}", flush=True)
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


def _status_or_empty(registry, name):
    from kerasconv.serving import ServingError

    try:
        return registry.status(name)
    except ServingError:
        return []
