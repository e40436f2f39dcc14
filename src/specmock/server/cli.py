"""The `specmock` command: serve the mock, list what it serves, check specs and scenarios.

Every `serve` flag has a matching environment variable (`--state-file` is
`SPECMOCK_STATE_FILE`), so a container is configured without a command line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract import cli as contract_cli
from ..errors import LoadError
from .admin_guard import DEFAULT_ADMIN_MAX_BODY
from .workers import WORKER_PROTOCOL, hand_over, served_protocol, server_options, worker_argv

if TYPE_CHECKING:
    from .app import MockApp

log = logging.getLogger("specmock")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _env(name: str, default: Any = None, cast: Callable[[str], Any] = str) -> Any:
    raw = os.environ.get(f"SPECMOCK_{name}")
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError:
        raise SystemExit(f"specmock: SPECMOCK_{name}={raw!r} is not valid") from None


def _flag(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


STRICT_HELP = "refuse a spec for anything a lenient load only warns about (docs/loading.md)"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specmock", description="A stateful mock server driven by OpenAPI specs.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve the mock over HTTP", description="Every flag can also be set as SPECMOCK_<FLAG>."
    )
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=_env("PORT", 8080, int), help="port; 0 picks a free one")
    serve.add_argument(
        "--seed",
        type=int,
        default=_env("SEED", None, int),
        help="seed of generated data and chaos; wins over a scenario's seed (default: the scenario's, else 0)",
    )
    serve.add_argument(
        "--spec",
        action="append",
        metavar="FILE",
        help="a spec to serve instead of the bundled ones (repeatable); any OpenAPI 3.0/3.1 document",
    )
    serve.add_argument(
        "--overlay",
        action="append",
        metavar="FILE",
        help="an Overlay 1.0 (or plain x-specmock YAML) applied to the spec it extends (repeatable)",
    )
    serve.add_argument(
        "--scenario",
        action="append",
        metavar="FILE|NAME",
        help="a scenario file or bundled name; repeat to combine (later ones win)",
    )
    serve.add_argument(
        "--state-file",
        type=Path,
        default=_env("STATE_FILE", None, Path),
        metavar="PATH",
        help="load state from PATH at start; write it there after changes and on shutdown",
    )
    serve.add_argument(
        "--state",
        default=_env("STATE"),
        metavar="URL",
        help="keep the state in Redis (redis://HOST:PORT/DB), shared by every worker and replica",
    )
    serve.add_argument(
        "--state-namespace",
        default=_env("STATE_NAMESPACE", "specmock"),
        metavar="NAME",
        help="prefix of this mock's Redis keys, so several mocks share one Redis (default specmock)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=_env("WORKERS", 1, int),
        metavar="N",
        help="worker processes on one port (needs --state redis://...; default 1)",
    )
    serve.add_argument(
        "--state-debounce",
        type=float,
        default=_env("STATE_DEBOUNCE", None, float),
        help=argparse.SUPPRESS,  # deprecated: every change is on disk before it is acknowledged
    )
    serve.add_argument(
        "--admin-token",
        default=_env("ADMIN_TOKEN"),
        metavar="TOKEN",
        help="require Bearer TOKEN on /__specmock (needed to use it off loopback)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allow only these browser origins (default: any)",
    )
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
        type=int,
        default=_env("ADMIN_MAX_BODY", DEFAULT_ADMIN_MAX_BODY, int),
        metavar="BYTES",
        help="larger admin request bodies are refused with 413 (default 10 MiB)",
    )
    serve.add_argument("--strict", action="store_true", default=_env("STRICT", False, _flag), help=STRICT_HELP)
    serve.add_argument("--no-cors", action="store_true", default=_env("NO_CORS", False, _flag), help="no CORS headers")
    serve.add_argument(
        "--max-body",
        type=int,
        default=_env("MAX_BODY", 1024 * 1024, int),
        metavar="BYTES",
        help="larger request bodies are refused with 413 (default 1 MiB)",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=_env("JOURNAL_SIZE", 10_000, int),
        metavar="N",
        help="requests kept in the journal (default 10000)",
    )
    serve.add_argument(
        "--journal-body-limit",
        type=int,
        default=_env("JOURNAL_BODY_LIMIT", 64 * 1024, int),
        metavar="BYTES",
        help="bytes of each body the journal keeps; longer ones are cut with a marker (default 64 KiB)",
    )
    serve.add_argument(
        "--journal-bytes",
        type=int,
        default=_env("JOURNAL_BYTES", 64 * 1024 * 1024, int),
        metavar="BYTES",
        help="bytes of bodies the whole journal keeps; the oldest go first (default 64 MiB)",
    )
    serve.add_argument(
        "--max-items",
        type=int,
        default=_env("MAX_ITEMS", 100_000, int),
        metavar="N",
        help="items one collection may hold; a create beyond is 507 (default 100000)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=_env("HEADER_TIMEOUT", 10.0, float),
        metavar="SECONDS",
        help="a request's headers must arrive within this (default 10); else 408 and close",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=_env("BODY_TIMEOUT", 30.0, float),
        metavar="SECONDS",
        help="a request body must arrive whole within this (default 30); else 408 and close",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=_env("MAX_CONNECTIONS", 1000, int),
        metavar="N",
        help="beyond this many open connections, requests get 503 (default 1000)",
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=_env("ACCESS_LOG", True, _flag),
        help="one JSON line per request on stderr (default on)",
    )
    serve.add_argument(
        "--loop",
        default=_env("LOOP", "auto"),
        choices=["auto", "asyncio", "uvloop"],
        help="event loop (default auto: uvloop where installed, else asyncio)",
    )
    serve.add_argument(
        "--http",
        default=_env("HTTP", "auto"),
        choices=["auto", "h11", "httptools"],
        help="HTTP/1.1 parser (default auto: httptools where installed, else h11; methods httptools "
        "does not know go on in h11)",
    )
    serve.add_argument(
        "--log-level", default=_env("LOG_LEVEL", "info"), choices=["critical", "error", "warning", "info", "debug"]
    )

    routes = sub.add_parser("routes", help="list every operation served")
    routes.add_argument("--spec", action="append", metavar="FILE", help="a spec to load instead of the bundled ones")
    routes.add_argument("--overlay", action="append", metavar="FILE", help="an overlay applied to the spec")
    routes.add_argument("--strict", action="store_true", help=STRICT_HELP)

    validate = sub.add_parser("validate", help="check specs and scenarios; exit 1 with file:line: reason if broken")
    validate.add_argument("--spec", action="append", metavar="FILE", help="a spec to check instead of the bundled ones")
    validate.add_argument("--overlay", action="append", metavar="FILE", help="an overlay applied to the spec")
    validate.add_argument("--strict", action="store_true", help=STRICT_HELP)
    validate.add_argument("scenario", nargs="*", metavar="SCENARIO", help="scenario files (default: the bundled ones)")

    infer = sub.add_parser(
        "infer",
        help="print the x-specmock inferred for a spec, as an Overlay to keep and edit",
        description="Prints YAML: an OpenAPI Overlay 1.0 document (default) or the plain form.",
    )
    infer.add_argument("spec", metavar="SPEC", help="an OpenAPI 3.0 or 3.1 document without x-specmock")
    infer.add_argument("--format", choices=["overlay", "plain"], default="overlay", help="output form")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    contract_cli.add_commands(sub, serve)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; for `serve`, repeatable flags replace their environment variable."""
    args = parser().parse_args(argv)
    if args.command in ("serve", "proxy"):
        repeatable = (
            ("spec", "SPEC"),
            ("overlay", "OVERLAY"),
            ("scenario", "SCENARIO"),
            ("cors_origin", "CORS_ORIGINS"),
            ("admin_cors_origin", "ADMIN_CORS_ORIGINS"),
            ("allowed_host", "ALLOWED_HOSTS"),
            ("scenario_dir", "SCENARIO_DIRS"),
        )
        for flag, env in repeatable:
            if getattr(args, flag) is None:
                setattr(args, flag, _env(env, None, _list))
        if args.scenario_dir is not None:
            args.scenario_dir = [Path(d) for d in args.scenario_dir]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """The command line's entry point. Ctrl-C at any moment (while loading specs, or while
    serving: uvicorn then finishes its graceful shutdown and re-raises it) ends the
    command with one line and exit status 130, not a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("specmock: interrupted, stopped", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    if args.command == "schema":
        from ..scenario.schema import SCENARIO_SCHEMA

        print(json.dumps(SCENARIO_SCHEMA, indent=2))
        return 0
    if args.command == "validate":
        return _validate(args)
    if args.command == "routes":
        return _routes(args)
    if args.command == "infer":
        return _infer(args)
    if args.command == "serve":
        return _serve(args, contract_cli.serve_front)
    return int(args.contract(args, _serve))


def _infer(args: argparse.Namespace) -> int:
    from ..spec.inference_output import inference_yaml

    try:
        print(inference_yaml(Path(args.spec), plain=args.format == "plain"), end="")
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return 2
    return 0


def _routes(args: argparse.Namespace) -> int:
    from .app import MockApp

    try:
        app = MockApp(args.spec, overlays=args.overlay or (), strict=args.strict)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return 2
    for op in app.operations:
        print(f"{op.family.name:<12} {op.method:<7} {op.path:<72} {op.operation_id}")
    for family in app.families:
        for out in family.left_out:
            print(f"{family.name:<12} {out.method:<7} {out.path:<72} {out.operation_id or '-'} LEFT OUT: {out.reason}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..scenario.registry import bundled_scenario_files
    from .app import MockApp

    try:
        app = MockApp(args.spec, overlays=args.overlay or (), strict=args.strict)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return 1
    scenarios = args.scenario or [str(p) for p in bundled_scenario_files().values()]
    failed = 0
    for source in scenarios:
        try:
            app.load_scenario(source, reset=False)
        except LoadError as exc:
            print(f"specmock: {exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"ok {source}")
    print(f"{len(app.families)} spec(s), {len(scenarios)} scenario(s) checked, {failed} broken")
    return 1 if failed else 0


SHARED_SCHEMES = ("redis://", "rediss://", "unix://")


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
    if args.state is not None:
        try:
            import redis  # noqa: F401
        except ImportError:
            return "--state needs the Redis client: pip install 'specmock[redis]'"
    return None


def worker_app() -> Any:
    """The app of one `serve --workers N` worker (uvicorn calls this in each process)."""
    import asyncio

    from .slow_clients import BurstLogger

    args = parse_args(worker_argv())
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    asyncio.get_running_loop().set_exception_handler(BurstLogger())  # uvicorn loads the app in its loop
    return served_app(build_app(args))


def served_app(app: MockApp) -> Any:
    """What uvicorn serves: the mock, or the mock reading the shared clock per request."""
    if app.shared_state is None:
        return app
    from .redis_state import SharedState, SharedStateApp

    assert isinstance(app.shared_state, SharedState)
    return SharedStateApp(app, app.shared_state)


def build_app(args: argparse.Namespace) -> MockApp:
    """The MockApp that `serve` runs for these arguments (with its state restored); LoadError if broken."""
    from ..runtime.persistence import StatePersister
    from .admin_guard import AdminSettings, served_hosts
    from .app import MockApp

    app = MockApp(
        args.spec,
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
    )
    if args.state_debounce is not None:
        log.warning("--state-debounce is ignored: every change is on disk before it is acknowledged")
    if args.state is not None:
        from .redis_state import SharedState

        SharedState(args.state, args.state_namespace).attach(app)
    if args.state_file is not None:
        app.persister = StatePersister(app.store, args.state_file, seed=lambda: app.seed, check=app.state_problems)
        restored = app.persister.load()
        if restored is not None and restored.seed is not None:
            app.restore_seed(restored.seed)
        log.info("state %s %s", "restored from" if restored else "will be kept in", args.state_file)
    if not app.admin.open and not app.admin.token:
        log.warning("the admin API is off: %s is not loopback and no --admin-token was given", args.host)
    return app


def _serve_workers(args: argparse.Namespace, argv: list[str]) -> int:
    """N worker processes on one socket, all on the shared state (checked reachable already)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    hand_over(args, argv)
    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        http=WORKER_PROTOCOL,  # the same protocol and read timeouts as one process, built in each worker
        **server_options(args),
    )
    sock = config.bind_socket()
    host, port = sock.getsockname()[:2]
    print(f"specmock listening on http://{host}:{port} ({args.workers} workers)", flush=True)
    Multiprocess(config, sockets=[sock]).run()
    return 0


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


def _serve(args: argparse.Namespace, front: contract_cli.Front | None = None) -> int:
    """Serve the mock; `front(mock, app)` may put an app in front of it (the proxy, the contract
    endpoints) and give a coroutine to run once the server has stopped taking requests."""
    import asyncio

    import uvicorn

    from .slow_clients import BurstLogger

    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    problem = state_problem(args)
    if problem is not None:
        print(f"specmock: {problem}", file=sys.stderr)
        return 2
    try:
        app = build_app(args)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # the shared state cannot be reached
        print(f"specmock: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1:
        return _serve_workers(args, args.argv)
    persister = app.persister
    served, on_stop = front(app, served_app(app)) if front is not None else (served_app(app), None)

    class AnnouncingServer(uvicorn.Server):
        """Prints the bound address once listening: with --port 0, callers learn the port."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            asyncio.get_running_loop().set_exception_handler(BurstLogger())
            await super().startup(sockets)
            log.info("serving on %s", server_stack(self.config.http_protocol_class))
            for server in self.servers:
                for sock in server.sockets:
                    host, port = sock.getsockname()[:2]
                    print(f"specmock listening on http://{host}:{port}", flush=True)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            app.journal.close_feeds()  # the dashboard's event streams end, or they would hold the shutdown
            await super().shutdown(sockets)  # in-flight requests are done now
            if on_stop is not None:
                await on_stop()  # reports and recordings are written before the process ends
            if persister is not None:
                persister.stop()  # before uvicorn re-raises SIGTERM and the process ends

    config = uvicorn.Config(served, host=args.host, port=args.port, http=served_protocol(args), **server_options(args))
    if persister is not None:
        persister.start()
    from .memory import freeze, freeze_survivors

    freeze()  # the compiled specs and any restored state: never walked by the collector again
    freeze_survivors()
    try:
        AnnouncingServer(config).run()  # SIGTERM/SIGINT: stop accepting, finish in-flight requests
    finally:
        if persister is not None:
            persister.stop()  # the last changes reach the file
    return 0


if __name__ == "__main__":
    sys.exit(main())
