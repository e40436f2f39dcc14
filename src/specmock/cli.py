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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
