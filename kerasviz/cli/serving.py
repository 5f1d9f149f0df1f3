"""Serving subcommands: `serve` (the embedded TF Serving, flags spelled as `tensorflow_model_server`
spells them, `--model_name`; the hyphenated `--model-name` is accepted too). `stylize --server`
(images and videos sent to TF Serving or `kerasviz serve`) lives with the rest of `stylize` in
`cli/faststyle.py`."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from ..errors import ParameterError

__all__ = ["register"]

#: Section of `kerasviz --help` (a `kerasviz.registry.FAMILIES` name).
FAMILY = "serving"


def _serve(args: argparse.Namespace) -> int:
    from ..serving import (
        LimitOptions,
        ModelConfigOptions,
        OperationsOptions,
        SecurityOptions,
        ServingError,
        ServingServer,
    )

    if not args.model_base_path and not args.model_config_file:
        raise ParameterError(
            "Give --model_base_path DIR (a folder of numeric SavedModel versions) or --model_config_file "
            "FILE. Received: model_base_path=None"
        )
    single = args.model_config_file is None
    server = ServingServer(
        args.model_name if single else None,
        args.model_base_path if single else None,
        host=args.host,
        port=args.port,
        rest_api_port=args.rest_api_port or None,  # 0 disables REST, as in tensorflow_model_server
        security=SecurityOptions(args.ssl_cert, args.ssl_key, args.ssl_client_ca, args.auth_token),
        limits=LimitOptions(
            max_concurrent_requests=args.max_concurrent_requests,
            max_message_bytes=args.max_message_bytes,
            rest_api_timeout_in_ms=args.rest_api_timeout_in_ms,
            rest_body_timeout_seconds=args.rest_body_timeout_seconds,
            rest_header_timeout_seconds=args.rest_header_timeout_seconds,
        ),
        model_config=ModelConfigOptions(
            model_config_file=args.model_config_file,
            model_config_file_poll_wait_seconds=args.model_config_file_poll_wait_seconds,
            file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
        ),
        operations=OperationsOptions(
            enable_batching=args.enable_batching,
            batching_parameters_file=args.batching_parameters_file,
            monitoring_config_file=args.monitoring_config_file,
        ),
    )
    grpc_port, rest_port = server.start()
    described = []
    for name, manager in sorted(server.models.items()):
        try:
            statuses = ", ".join(f"version {s.version} {s.state}" for s in manager.statuses())
        except ServingError:  # nothing under the base path yet: versions load when they appear
            statuses = "no version yet"
        described.append(f"model '{name}' ({statuses})")
    rest = f", REST on {args.host}:{rest_port}" if rest_port else ""
    print(f"kerasviz serve: {'; '.join(described)}: gRPC on {args.host}:{grpc_port}{rest}", flush=True)

    def shutdown(signum: int, frame: Any) -> None:
        server.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, shutdown)
    while not server.wait(0.5):
        pass
    print("kerasviz serve: stopped", flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve`."""
    parser = subparsers.add_parser(
        "serve", help="serve a model over TF Serving's gRPC and REST APIs (flags as tensorflow_model_server)"
    )
    _flag(parser, "--model_name", default="style", help="name clients ask for (default style, as `stylize --model-name`)")
    _flag(parser, "--model_base_path", default=None, help="folder of numeric SavedModel version folders (or use --model_config_file)")
    _flag(parser, "--port", type=int, default=8500, help="gRPC port (default 8500; 0 = a free port)")
    _flag(parser, "--rest_api_port", type=int, default=8501, help="REST port (default 8501; 0 = no REST)")
    _flag(parser, "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; 0.0.0.0 = all)")
    _flag(parser, "--ssl_cert", default=None, help="PEM server certificate (TLS on both APIs)")
    _flag(parser, "--ssl_key", default=None, help="PEM key of --ssl_cert")
    _flag(parser, "--ssl_client_ca", default=None, help="PEM CA of client certificates (mutual TLS)")
    _flag(parser, "--auth_token", default=None, help="require this bearer token (default $KERASVIZ_SERVING_TOKEN)")
    _flag(parser, "--file_system_poll_wait_seconds", type=float, default=1.0,
          help="seconds between scans for new versions (default 1; 0 = none)")
    _flag(parser, "--max_concurrent_requests", type=int, default=64, help="requests at once per API; more get RESOURCE_EXHAUSTED / 429")
    _flag(parser, "--max_message_bytes", type=int, default=16 * 1024 * 1024, help="largest request / response (default 16 MiB)")
    _flag(parser, "--model_config_file", default=None,
          help="TF Serving model config (text ModelServerConfig: several models, version policies, labels); "
          "instead of --model_name/--model_base_path")
    _flag(parser, "--model_config_file_poll_wait_seconds", type=float, default=0.0,
          help="seconds between re-reads of --model_config_file (default 0 = read once)")
    _flag(parser, "--enable_batching", type=_flag_bool, nargs="?", const=True, default=False,
          help="merge same-shaped requests into one model call")
    _flag(parser, "--batching_parameters_file", default=None, help="TF Serving BatchingParameters text file (with --enable_batching)")
    _flag(parser, "--monitoring_config_file", default=None,
          help="TF Serving MonitoringConfig text file; prometheus_config { enable: true } serves /monitoring/prometheus/metrics")
    _flag(parser, "--rest_api_timeout_in_ms", type=int, default=30000, help="REST predict deadline (default 30000; 504 after; 0 = none)")
    _flag(parser, "--rest_body_timeout_seconds", type=float, default=30.0,
          help="seconds a REST client has to send its body (default 30; 408 after)")
    _flag(parser, "--rest_header_timeout_seconds", type=float, default=30.0,
          help="seconds a REST client has to send a request's headers (default 30; 408 and closed after)")
    parser.set_defaults(handler=_serve)


def _flag(parser: argparse.ArgumentParser, name: str, **options: Any) -> None:
    """Add `--name_with_underscores` (tensorflow_model_server's spelling, shown in --help) with
    `--name-with-hyphens` accepted as an alias, as kerasviz's other commands spell flags."""
    hyphenated = name.replace("_", "-")
    spellings = (name,) if hyphenated == name else (name, hyphenated)
    parser.add_argument(*spellings, dest=name.lstrip("-"), **options)


def _flag_bool(text: str) -> bool:
    """`--enable_batching`, `--enable_batching=true` / `false` (tensorflow_model_server's spelling)."""
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
