"""The flags of `specmock serve`, each with its environment variable and its range.

Every flag can also be set as SPECMOCK_<FLAG> (`--state-file` is SPECMOCK_STATE_FILE),
so a container is configured without a command line; the variable is checked with the
flag's own type. One `add_argument` per flag, grouped by topic, so a new flag is a few
lines in one place.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..admin_guard import DEFAULT_ADMIN_MAX_BODY
from .args import STRICT_HELP, add_documents, count, duration, env, flag, listed, port, seed, size

#: Repeatable flags and the environment variable (comma-separated) that stands for each.
REPEATABLE_ENV = (
    ("spec", "SPEC"),
    ("overlay", "OVERLAY"),
    ("scenario", "SCENARIO"),
    ("cors_origin", "CORS_ORIGINS"),
    ("admin_cors_origin", "ADMIN_CORS_ORIGINS"),
    ("allowed_host", "ALLOWED_HOSTS"),
    ("scenario_dir", "SCENARIO_DIRS"),
)


def add_serve_flags(serve: argparse.ArgumentParser) -> None:
    """Every flag `serve` takes."""
    add_documents(serve, "to serve (repeatable; default: the bundled specs)")
    _listening(serve)
    _behaviour(serve)
    _state(serve)
    _admin(serve)
    _limits(serve)


def _listening(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default=env("HOST", "127.0.0.1"), help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=port, default=env("PORT", 8080, port), help="port 0-65535; 0 picks a free one (default 8080)"
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=env("ACCESS_LOG", True, flag),
        help="one JSON line per request on stderr (default on)",
    )
    serve.add_argument(
        "--loop",
        default=env("LOOP", "auto"),
        choices=["auto", "asyncio", "uvloop"],
        help="event loop (default auto: uvloop where installed, else asyncio)",
    )
    serve.add_argument(
        "--http",
        default=env("HTTP", "auto"),
        choices=["auto", "h11", "httptools"],
        help="HTTP/1.1 parser (default auto: httptools where installed, else h11; methods httptools "
        "does not know go on in h11)",
    )
    serve.add_argument(
        "--log-level",
        default=env("LOG_LEVEL", "info"),
        choices=["critical", "error", "warning", "info", "debug"],
        help="how much the server logs on stderr (default info)",
    )


def _behaviour(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--seed",
        type=seed,
        default=env("SEED", None, seed),
        help="seed of generated data and chaos; wins over a scenario's seed (default: the scenario's, else 0)",
    )
    serve.add_argument(
        "--scenario",
        action="append",
        metavar="FILE|NAME",
        help="a scenario file or bundled name; repeat to combine (later ones win)",
    )
    serve.add_argument("--strict", action="store_true", default=env("STRICT", False, flag), help=STRICT_HELP)


def _state(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--state-file",
        type=Path,
        default=env("STATE_FILE", None, Path),
        metavar="PATH",
        help="load state from PATH at start; write it there after changes and on shutdown",
    )
    serve.add_argument(
        "--state",
        default=env("STATE"),
        metavar="URL",
        help="keep the state in Redis (redis://HOST:PORT/DB), shared by every worker and replica",
    )
    serve.add_argument(
        "--state-namespace",
        default=env("STATE_NAMESPACE"),
        metavar="NAME",
        help="prefix of this mock's Redis keys (default: derived from the served documents, so "
        "mocks of other documents on one Redis never meet)",
    )
    serve.add_argument(
        "--workers",
        type=count,
        default=env("WORKERS", 1, count),
        metavar="N",
        help="worker processes on one port, 1 or more (more than 1 needs --state redis://...; default 1)",
    )
    serve.add_argument(
        "--state-debounce",
        type=float,
        default=env("STATE_DEBOUNCE", None, float),
        help=argparse.SUPPRESS,  # deprecated: every change is on disk before it is acknowledged
    )


def _admin(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--admin-token",
        default=env("ADMIN_TOKEN"),
        metavar="TOKEN",
        help="require Bearer TOKEN on /__specmock (needed to use it off loopback)",
    )
    serve.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="allow only these browser origins (default: any)"
    )
    serve.add_argument("--no-cors", action="store_true", default=env("NO_CORS", False, flag), help="no CORS headers")
    serve.add_argument(
        "--admin-cors-origin",
        action="append",
        metavar="ORIGIN",
        help="a browser origin that may call the admin API (repeatable; default: none)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST",
        help="a Host name the admin API answers besides the bound address and localhost (repeatable)",
    )
    serve.add_argument(
        "--scenario-dir",
        action="append",
        type=Path,
        metavar="DIR",
        help='a folder whose scenario files PUT /__specmock/scenario {"use": ...} may load (repeatable)',
    )
    serve.add_argument(
        "--admin-max-body",
        type=size,
        default=env("ADMIN_MAX_BODY", DEFAULT_ADMIN_MAX_BODY, size),
        metavar="BYTES",
        help="larger admin request bodies are refused with 413 (bytes, or 64KiB, 10MiB...; default 10MiB)",
    )


def _limits(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--max-body",
        type=size,
        default=env("MAX_BODY", 1024 * 1024, size),
        metavar="BYTES",
        help="larger request bodies are refused with 413 (bytes, or 64KiB, 10MiB...; default 1MiB)",
    )
    serve.add_argument(
        "--journal-size",
        type=count,
        default=env("JOURNAL_SIZE", 10_000, count),
        metavar="N",
        help="requests kept in the journal, 1 or more (default 10000)",
    )
    serve.add_argument(
        "--journal-body-limit",
        type=size,
        default=env("JOURNAL_BODY_LIMIT", 64 * 1024, size),
        metavar="BYTES",
        help="bytes of each body the journal keeps; longer ones are cut with a marker (default 64KiB)",
    )
    serve.add_argument(
        "--journal-bytes",
        type=size,
        default=env("JOURNAL_BYTES", 64 * 1024 * 1024, size),
        metavar="BYTES",
        help="bytes of bodies the whole journal keeps; the oldest go first (default 64MiB)",
    )
    serve.add_argument(
        "--max-items",
        type=count,
        default=env("MAX_ITEMS", 100_000, count),
        metavar="N",
        help="items one collection may hold, 1 or more; a create beyond is 507 (default 100000)",
    )
    serve.add_argument(
        "--max-store-bytes",
        type=size,
        default=env("MAX_STORE_BYTES", 64 * 1024 * 1024, size),
        metavar="BYTES",
        help="bytes the stored items may take, counted as JSON; a write beyond is 507 (default 64MiB; 0: no limit)",
    )
    serve.add_argument(
        "--header-timeout",
        type=duration,
        default=env("HEADER_TIMEOUT", 10.0, duration),
        metavar="SECONDS",
        help="a request's headers must arrive within this (10, 500ms, 1m...; default 10); else 408 and close",
    )
    serve.add_argument(
        "--body-timeout",
        type=duration,
        default=env("BODY_TIMEOUT", 30.0, duration),
        metavar="SECONDS",
        help="a request body must arrive whole within this (default 30); else 408 and close",
    )
    serve.add_argument(
        "--max-connections",
        type=count,
        default=env("MAX_CONNECTIONS", 1000, count),
        metavar="N",
        help="beyond this many open connections, requests get 503 (default 1000)",
    )


def apply_repeatable_env(args: argparse.Namespace) -> None:
    """A repeatable flag not given on the command line takes its environment variable."""
    for name, variable in REPEATABLE_ENV:
        if name == "spec" and args.documents:
            continue  # positional documents are the command line's specs
        if getattr(args, name) is None:
            setattr(args, name, env(variable, None, listed))
    if args.scenario_dir is not None:
        args.scenario_dir = [Path(d) for d in args.scenario_dir]
