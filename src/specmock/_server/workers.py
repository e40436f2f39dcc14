"""What every `specmock serve` process serves with, one process or `--workers N`.

uvicorn starts each worker in a fresh (spawned) process from a pickled `Config`,
so a worker cannot be handed the protocol class `serve` builds in memory: it is
named by import path instead (`WORKER_PROTOCOL`), and built in the worker from the
same settings (handed over in the environment by `hand_over`) by the same function
as in one process.

Invariants: one process and each worker get the same HTTP protocol (httptools with
the h11 hand-over for methods it does not know, read timeouts for headers and
bodies), the same keep-alive timeout, the same quiet "out of file descriptors"
log, and the same admin gate (the app is built by the same `build_app`).
`--max-connections` bounds the whole server: each of N workers takes its share
(rounded up), since each worker counts only its own connections.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

#: Where `serve --workers N` hands its command line to the worker processes it starts.
WORKER_ARGV = "SPECMOCK_WORKER_ARGV"
#: Where it hands them the HTTP protocol's settings.
_PROTOCOL_SETTINGS = "SPECMOCK_WORKER_PROTOCOL"
#: The import path uvicorn loads a worker's HTTP protocol from (see `__getattr__`).
WORKER_PROTOCOL = f"{__name__}:WorkerProtocol"
#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE = 5


def served_protocol(args: argparse.Namespace) -> type:
    """The HTTP protocol class for these `serve` arguments, with its read timeouts."""
    return _protocol(args.http, args.header_timeout, args.body_timeout)


def _protocol(http: str, header_timeout: float, body_timeout: float) -> type:
    from .httpprotocol import http_protocol
    from .slow_clients import guarded_protocol

    return guarded_protocol(http_protocol(http), header_timeout, body_timeout)


def hand_over(args: argparse.Namespace, argv: list[str]) -> None:
    """Put what the workers about to be started need into the environment they inherit."""
    os.environ[WORKER_ARGV] = json.dumps(argv)
    settings = {"http": args.http, "header_timeout": args.header_timeout, "body_timeout": args.body_timeout}
    os.environ[_PROTOCOL_SETTINGS] = json.dumps(settings)


def server_options(args: argparse.Namespace) -> dict[str, Any]:
    """The uvicorn.Config keywords one process and every worker share."""
    workers = max(1, args.workers)
    return {
        "log_level": args.log_level,
        "access_log": False,  # ours is structured, and names the operation
        "lifespan": "off",
        "loop": args.loop,
        "timeout_graceful_shutdown": 8,  # under `docker stop`'s 10 s, so the state is flushed before SIGKILL
        "limit_concurrency": -(-args.max_connections // workers),
        "timeout_keep_alive": KEEP_ALIVE,
    }


def worker_argv() -> list[str]:
    """The `serve` command line of the server this worker belongs to."""
    argv: list[str] = json.loads(os.environ[WORKER_ARGV])
    return argv


def __getattr__(name: str) -> Any:
    """`WorkerProtocol`: built on first use in a worker, from the server's command line."""
    if name == "WorkerProtocol":
        protocol = _protocol(**json.loads(os.environ[_PROTOCOL_SETTINGS]))
        globals()[name] = protocol
        return protocol
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
