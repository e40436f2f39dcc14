"""`specmock serve`: build the mock from the command line, bind, and serve it with uvicorn.

Invariants: everything that can be refused (documents, scenarios, state options, the
state file, the address) is checked before the first request is accepted, and each
refusal is one line: exit 2 when the command line or a file it names must change,
exit 1 when the machine refused (a port in use, permission denied, Redis unreachable). The start-up log
names the address and the dashboard's URL.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..._errors import LoadError
from ..workers import WORKER_PROTOCOL, hand_over, served_protocol, server_options
from .args import FAILED, USAGE
from .listen import ListenError, listen
from .serve_args import add_serve_flags, apply_repeatable_env

if TYPE_CHECKING:
    from ..app import MockApp

log = logging.getLogger("specmock")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
#: What each worker process runs (uvicorn imports it there): the app built from that command line.
WORKER_FACTORY = "specmock._server.cli.worker:worker_app"
SHARED_SCHEMES = ("redis://", "rediss://", "unix://")
#: Seconds after listening before jsonschema is imported in the background (validation.warm_up).
WARM_UP_DELAY = 0.25
#: The dashboard, relative to the served root.
DASHBOARD_PATH = "/__specmock/ui/"
#: Puts an app in front of a served mock (the proxy): (mock, its app) -> (what to serve, what to run once stopped).
Front = Callable[["MockApp", Any], tuple[Any, Callable[[], Awaitable[None]] | None]]


def add_to(sub: Any) -> None:
    """Register `serve`."""
    serve = sub.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description="Serve the mock. Every flag can also be set as SPECMOCK_<FLAG> "
        "(--state-file is SPECMOCK_STATE_FILE; repeatable ones comma-separated).",
    )
    add_serve_flags(serve)
    serve.set_defaults(run=run_with_contract_routes, prepare=apply_repeatable_env)


def run_with_contract_routes(args: argparse.Namespace) -> int:
    """`specmock serve`: the mock, with the contract endpoints (the Pact export) in front."""
    from ..._contract.cli import serve_front

    return run(args, serve_front)


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def state_problem(args: argparse.Namespace) -> str | None:
    """Why the state options cannot be used together, or None."""
    if args.workers < 1:
        return f"--workers must be 1 or more, not {args.workers}"
    if args.state is not None and not args.state.startswith(SHARED_SCHEMES):
        return f"--state takes a Redis URL (redis://HOST:PORT/DB), not {args.state!r}"
    if args.state is not None and args.state_file is not None:
        return (
            "--state-file and --state cannot be used together: the state lives either in a file "
            "(one process) or in Redis (shared); pick one"
        )
    if args.workers > 1 and args.state is None:
        return (
            f"--workers {args.workers} needs a shared state (--state redis://HOST:PORT/DB): "
            "workers are separate processes and would each keep their own items"
        )
    if args.state is not None and importlib.util.find_spec("redis") is None:
        return "--state needs the Redis client: pip install 'specmock[redis]'"
    if args.state is not None:
        return namespace_problem(args.state, args.state_namespace)
    return None


def namespace_problem(url: str, flag: str | None) -> str | None:
    """A namespace the state URL (`?namespace=`) and --state-namespace give differently, or None."""
    from ..._runtime.state.redis import split_namespace

    try:
        named = split_namespace(url)[1]
    except ValueError as exc:
        return f"--state: {exc}"
    if named is not None and flag is not None and named != flag:
        return f"--state names namespace {named!r} and --state-namespace {flag!r}: give one"
    return None


def folder_problem(args: argparse.Namespace) -> str | None:
    """A --scenario-dir that is not a folder, or None (checked at start, not at the first PUT)."""
    for folder in args.scenario_dir or ():
        if not folder.is_dir():
            return f"--scenario-dir {folder}: not a folder; create it, or name the folder that holds your scenarios"
    return None


def build_app(args: argparse.Namespace) -> MockApp:
    """The MockApp that `serve` runs for these arguments (with its state restored); LoadError if broken."""
    from ..memory import frozen_start_up

    with frozen_start_up():  # what start-up builds all lives on: no collector passes over it (memory.py)
        return _build_app(args)


def _build_app(args: argparse.Namespace) -> MockApp:
    from ..._runtime.state import JournalLimits, open_state
    from ..admin_guard import AdminSettings, served_hosts
    from ..app import MockApp
    from .args import resolved_documents

    limits = JournalLimits(args.journal_size, args.journal_body_limit, args.journal_bytes)
    where = args.state or args.state_file
    state = open_state(
        where, journal=limits, max_store_bytes=args.max_store_bytes or None, namespace=args.state_namespace
    )
    app = MockApp(
        resolved_documents(args),
        seed=args.seed,
        scenarios=args.scenario or [],
        max_body=args.max_body,
        journal_size=args.journal_size,
        journal_body_limit=args.journal_body_limit,
        journal_bytes=args.journal_bytes,
        max_items=args.max_items,
        cors_origins=None if args.no_cors else (args.cors_origin or ["*"]),
        admin=AdminSettings(
            open=is_loopback(args.host),
            token=args.admin_token,
            allowed_hosts=served_hosts(args.host, tuple(args.allowed_host or ())),
            cors_origins=tuple(args.admin_cors_origin or ()),
            max_body=args.admin_max_body,
            scenario_dirs=tuple(args.scenario_dir or ()),
        ),
        access_log=args.access_log,
        overlays=args.overlay or (),
        strict=args.strict,
        ref_root=args.ref_root,
        state=state,
    )
    if args.state_debounce is not None:
        log.warning("--state-debounce is ignored: every change is on disk before it is acknowledged")
    if not app.admin.open and not app.admin.token:
        log.warning("the admin API is off: %s is not loopback and no --admin-token was given", args.host)
    return app


def server_stack(http_protocol: type) -> str:
    """The event loop and HTTP parser this process serves with, e.g. "uvloop + httptools".

    Read from what runs, not from the flags: "auto" picks uvloop and httptools only
    where they are installed (`pip install specmock` brings them where wheels exist).
    """
    import asyncio

    loop_module = type(asyncio.get_running_loop()).__module__.split(".")[0]
    loop = "uvloop" if loop_module == "uvloop" else "asyncio"
    httptools = any("httptools" in base.__name__.lower() for base in http_protocol.__mro__)
    http = "httptools" if httptools else "h11"
    return f"{loop} + {http}"


def announce(sockets: list[socket.socket], admin_reachable: bool, workers: int = 1) -> None:
    """The start-up lines a person (and a script waiting for the port) reads: the address,
    and the dashboard's URL when the admin API answers."""
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        suffix = f" ({workers} workers)" if workers > 1 else ""
        print(f"specmock listening on http://{shown}:{port}{suffix}", flush=True)
    if admin_reachable and sockets:
        host, port = sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            shown = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        print(f"specmock dashboard at http://{shown}:{port}{DASHBOARD_PATH}", flush=True)


def run(args: argparse.Namespace, front: Front | None = None) -> int:
    """`specmock serve`; `front(mock, app)` may put an app in front of the mock (the proxy) and
    give a coroutine to run once the server has stopped taking requests."""
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    problem = state_problem(args) or folder_problem(args)
    if problem is not None:
        print(f"specmock: {problem}", file=sys.stderr)
        return USAGE
    try:
        app = build_app(args)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return USAGE
    except RuntimeError as exc:  # another mock owns the namespace (a name to change: 2); Redis unreachable (1)
        from ..._runtime.state import NamespaceTaken

        print(f"specmock: {exc}", file=sys.stderr)
        return USAGE if isinstance(exc, NamespaceTaken) else FAILED
    try:
        sockets = listen(args.host, args.port)
    except ListenError as exc:
        app.close()
        print(f"specmock: {exc}", file=sys.stderr)
        return FAILED
    admin_reachable = app.admin.open or bool(app.admin.token)
    if args.workers > 1:
        app.close()  # the workers open the state themselves
        return _serve_workers(args, sockets, admin_reachable)
    return _serve_one(args, app, sockets, admin_reachable, front)


def _serve_workers(args: argparse.Namespace, sockets: list[socket.socket], admin_reachable: bool) -> int:
    """N worker processes on one socket, all on the shared state (checked reachable already)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    hand_over(args, args.argv)
    config = uvicorn.Config(
        WORKER_FACTORY,
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        http=WORKER_PROTOCOL,  # the same protocol and read timeouts as one process, built in each worker
        **server_options(args),
    )
    announce(sockets, admin_reachable, args.workers)
    Multiprocess(config, sockets=sockets).run()
    return 0


def _serve_one(
    args: argparse.Namespace,
    app: MockApp,
    sockets: list[socket.socket],
    admin_reachable: bool,
    front: Front | None = None,
) -> int:
    import asyncio
    import threading

    import uvicorn

    from ..._spec.validation import warm_up
    from ..memory import freeze, freeze_survivors
    from ..slow_clients import BurstLogger

    served, on_stop = front(app, app) if front is not None else (app, None)

    class AnnouncingServer(uvicorn.Server):
        """Prints the bound address once listening: with --port 0, callers learn the port."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            asyncio.get_running_loop().set_exception_handler(BurstLogger())
            await super().startup(sockets)
            log.info("serving on %s", server_stack(self.config.http_protocol_class))
            announce([s for server in self.servers for s in server.sockets], admin_reachable)
            # What wording a refusal needs is imported in the background, a moment after the
            # first requests (a client polling for readiness) rather than in their way.
            warming = threading.Thread(target=warm_up, name="specmock-warm-up", daemon=True)
            asyncio.get_running_loop().call_later(WARM_UP_DELAY, warming.start)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            app.journal.close_feeds()  # the dashboard's event streams end, or they would hold the shutdown
            await super().shutdown(sockets)  # in-flight requests are done now
            if on_stop is not None:
                await on_stop()  # reports and recordings are written before the process ends
            app.close()  # the state's last changes are kept, before uvicorn re-raises SIGTERM

    config = uvicorn.Config(served, host=args.host, port=args.port, http=served_protocol(args), **server_options(args))
    freeze()  # the compiled specs and any restored state: never walked by the collector again
    freeze_survivors()
    try:
        AnnouncingServer(config).run(sockets=sockets)  # SIGTERM/SIGINT: stop accepting, finish in-flight requests
    finally:
        app.close()  # the last changes reach the file
    return 0
