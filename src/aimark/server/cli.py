"""``aimark serve``: run the upload verification service under uvicorn (registered by
``aimark.cli``; imports nothing of the ``server`` extra until it runs)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from aimark.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    from aimark.server.config import ServerSettings

__all__ = ["add_parser", "run_command"]


def add_parser(sub: Any, usage_error: type[Exception]) -> None:
    """Add ``serve`` to the CLI's sub-commands."""
    p = sub.add_parser(
        "serve",
        help="run the upload verification service (HTTP API and web page; aimark[server])",
        description="Serve POST /v1/verify (one upload in, the JSON report out), GET /healthz, "
        "GET /v1/version, GET /openapi.json and the verification page at /. Every option can "
        "also be set by an AIMARK_* environment variable (see docs/server.md); options win.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--trust",
        action="append",
        metavar="PEM",
        help="trust anchors: a PEM file, or c2pa (the C2PA trust list); repeatable",
    )
    p.add_argument(
        "--watermark-key",
        action="append",
        metavar="KEYFILE",
        help="look for the invisible watermark of this key; repeatable",
    )
    p.add_argument(
        "--public-watermarks",
        action="store_true",
        default=None,
        help="also look for public watermarks of other generators",
    )
    p.add_argument(
        "--repository",
        metavar="DB",
        help="a manifest repository (SQLite file or postgresql:// URL): verification recovers "
        "credentials from it, and the C2PA Soft Binding Resolution API is served under /v1 "
        "(read routes public, store routes behind the API key)",
    )
    p.add_argument(
        "--api-keys-file",
        metavar="FILE",
        help="require one of these API keys (one per line, 16+ characters) for /v1/*",
    )
    p.add_argument(
        "--include-scores",
        action="store_true",
        default=None,
        help="answer with the watermark's raw scores and p-values too (trusted clients only)",
    )
    p.add_argument("--max-body-bytes", type=int, metavar="N", help="default 32 MiB")
    p.add_argument("--max-pixels", type=int, metavar="N", help="default 100,000,000")
    p.add_argument(
        "--concurrency", type=int, metavar="N", help="verifications at once (default: cores)"
    )
    p.add_argument(
        "--queue", type=int, metavar="N", help="uploads that may wait (default 64); then 503"
    )
    p.add_argument("--time-limit", type=float, metavar="S", help="per verification (default 30)")
    p.add_argument("--upload-timeout", type=float, metavar="S", help="per upload (default 60)")
    p.add_argument(
        "--header-timeout",
        type=float,
        metavar="S",
        help="seconds a connection has to send its request head (default 10); then 408",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="open connections at most (default 10,000, or what the open-file limit allows); "
        "one more evicts the one waiting longest for its request head",
    )
    p.add_argument(
        "--isolation",
        choices=["process", "thread"],
        help="verify in worker processes (default; hard time limit) or threads",
    )
    p.add_argument(
        "--platform",
        metavar="NAME",
        help="serve POST /v1/ingest as this platform (GB 45438 propagator; needs "
        "--platform-cert, --platform-key and --api-keys-file; see docs/platforms.md)",
    )
    p.add_argument("--platform-cert", metavar="PEM", help="the platform's signing chain")
    p.add_argument("--platform-key", metavar="PEM", help="the platform's private key")
    p.add_argument(
        "--ingest-av",
        choices=["copy", "transcode"],
        help="ingest: publish audio/video as uploaded (default) or transcode it with ffmpeg",
    )
    p.add_argument("--no-page", action="store_true", default=None, help="API only, no page")
    p.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one JSON line per request on stdout (logger aimark.access; default on)",
    )
    p.add_argument(
        "--no-metrics",
        action="store_true",
        default=None,
        help="do not serve GET /metrics (Prometheus text format, served without API key)",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="proxies trusted for X-Forwarded-* headers (default 127.0.0.1)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
    )


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """The environment's settings with the command line's options on top."""
    from aimark.server.config import ServerSettings  # serving only: not to build the parser

    s = ServerSettings.from_env()
    if args.trust:
        s.trust = args.trust
    if args.watermark_key:
        s.watermark_keys = args.watermark_key
    if args.repository:
        s.repository = args.repository
    for attr in (
        "public_watermarks",
        "include_scores",
        "api_keys_file",
        "isolation",
        "platform",
        "platform_cert",
        "platform_key",
        "ingest_av",
    ):
        if getattr(args, attr) is not None:
            setattr(s, attr, getattr(args, attr))
    if args.no_page:
        s.page = False
    if args.no_metrics:
        s.metrics = False
    if args.access_log is not None:
        s.access_log = args.access_log
    for attr in (
        "max_body_bytes",
        "max_pixels",
        "concurrency",
        "queue",
        "time_limit",
        "upload_timeout",
        "header_timeout",
        "max_connections",
    ):
        if getattr(args, attr) is not None:
            setattr(s, attr, getattr(args, attr))
    return s


def run_command(args: argparse.Namespace, usage_error: type[Exception]) -> int:
    """Run ``aimark serve`` with parsed arguments; returns the exit code."""
    if not 0 <= args.port <= 65535:
        raise usage_error("--port must be 0 to 65535")
    from aimark.server.connections import (
        ConnectionGuard,
        connection_budget,
        guarded_protocol,
        guarded_server,
        install_log_rate_limit,
        raise_open_file_limit,
    )

    settings = settings_from_args(args)
    # before anything opens files: more descriptors for connections, and a bound that fits
    open_files = raise_open_file_limit()
    budget = connection_budget(requested=settings.max_connections or None, open_files=open_files)
    try:
        guard = ConnectionGuard(budget.max_connections, header_timeout=settings.header_timeout)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    app = settings.build_app()  # configuration errors surface here, before binding
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError(
            "aimark serve needs uvicorn: pip install 'aimark[server]'"
        ) from None
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        access_log=False,  # aimark's own access log (aimark.access) replaces uvicorn's
        timeout_graceful_shutdown=10,
        http=guarded_protocol(guard),
        backlog=budget.accept_burst,
    )
    configure_logging(args.log_level)  # after uvicorn has set up its loggers
    install_log_rate_limit()
    if settings.max_connections and guard.max_connections < settings.max_connections:
        logging.getLogger("uvicorn.error").warning(
            "aimark: --max-connections %d lowered to %d: the open-file limit is %d",
            settings.max_connections,
            guard.max_connections,
            open_files,
        )
    server = guarded_server(config, on_started=lambda address: _log_start(app, address))
    # uvicorn shuts down gracefully on SIGINT / SIGTERM, then raises the signal again; a
    # graceful stop is a normal end for a service, so both end with exit code 0
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        server.run()
    except (KeyboardInterrupt, _Stopped):
        pass
    except SystemExit:  # uvicorn could not start (e.g. the port is taken) and has said why
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        app.state.service.close()
    if not server.started:
        print("aimark: error: the server could not start", file=sys.stderr)
        return 4
    return 0


def configure_logging(level: str) -> None:
    """Handlers for aimark's loggers under ``aimark serve``: ``aimark.server`` on stderr
    like uvicorn's own lines, ``aimark.access`` on stdout as bare JSON lines."""
    for name, stream, fmt, lvl in (
        ("aimark.server", sys.stderr, "%(levelname)s:     %(message)s", level.upper()),
        ("aimark.access", sys.stdout, "%(message)s", "INFO"),
    ):
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(fmt))
        logger.handlers = [handler]
        logger.setLevel(lvl)
        logger.propagate = False


def _log_start(app: Any, address: str) -> None:
    """The start-up line: where, what it trusts and looks for (counts and ids, never key
    material), what is on, and the limits."""
    d = app.state.service.describe()
    ids = ",".join(d["watermark_key_ids"]) or "-"
    on = [k for k in ("public_watermarks", "repository", "ingest", "api_keys") if d[k]]
    logging.getLogger("aimark.server").info(
        "aimark serve on %s: %d trust anchors, %d watermark keys (%s), on: %s; max body %d "
        "bytes, max pixels %d, concurrency %d, queue %d, time limit %gs, %s isolation",
        address,
        d["trust_anchors"],
        d["watermark_keys"],
        ids,
        ", ".join(on) or "-",
        d["max_body_bytes"],
        d["max_pixels"],
        d["concurrency"],
        d["queue"],
        d["time_limit"],
        d["isolation"],
    )


class _Stopped(Exception):
    pass


def _raise_stopped(signum: int, frame: Any) -> None:
    raise _Stopped
