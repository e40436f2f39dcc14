"""The `specmock` command: serve the mock, or list what it serves."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

from .errors import LoadError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specmock", description="A stateful mock server driven by OpenAPI specs.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default 8080)")
    serve.add_argument("--seed", type=int, default=0, help="seed of generated data and ids (default 0)")
    serve.add_argument("--spec", action="append", metavar="FILE", help="a spec to serve instead of the bundled ones")
    serve.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE|NAME",
        help="a scenario file or bundled scenario name; repeat to combine (later ones win)",
    )
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    routes = sub.add_parser("routes", help="list every operation served")
    routes.add_argument("--spec", action="append", metavar="FILE", help="a spec to load instead of the bundled ones")

    validate = sub.add_parser("validate", help="check specs and scenarios; exit 1 with file:line: reason if broken")
    validate.add_argument("--spec", action="append", metavar="FILE", help="a spec to check instead of the bundled ones")
    validate.add_argument("scenario", nargs="*", metavar="SCENARIO", help="scenario files (default: the bundled ones)")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return parser


def _validate(args: argparse.Namespace) -> int:
    from .app import MockApp, bundled_scenario_files

    try:
        app = MockApp(args.spec)
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
    specs = len(app.families)
    print(f"{specs} spec(s), {len(scenarios)} scenario(s) checked, {failed} broken")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        import json

        from .scenario_schema import SCENARIO_SCHEMA

        print(json.dumps(SCENARIO_SCHEMA, indent=2))
        return 0
    if args.command == "validate":
        return _validate(args)
    from .app import MockApp

    try:
        app = MockApp(args.spec, seed=getattr(args, "seed", 0), scenarios=getattr(args, "scenario", []))
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return 2
    if args.command == "routes":
        for op in app.operations:
            print(f"{op.family.name:<12} {op.method:<7} {op.path:<72} {op.operation_id}")
        return 0
    return _serve(app, args)


def _serve(app: object, args: argparse.Namespace) -> int:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """Prints the bound address once listening: with --port 0, callers learn the port."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            for server in self.servers:
                for sock in server.sockets:
                    host, port = sock.getsockname()[:2]
                    print(f"specmock listening on http://{host}:{port}", flush=True)

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="off",
    )
    AnnouncingServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
