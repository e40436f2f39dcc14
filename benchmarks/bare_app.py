"""The baseline for bench_http.py: the least a Starlette app can do to answer like specmock.

It answers GET /connectors with bytes captured from specmock's own list, and
POST /connectors by reading and parsing the body (the cost any real handler
pays) and returning bytes captured from a specmock create. The difference
between the two servers is then specmock's own work - routing, auth,
validation, the store - and not JSON size, Starlette or uvicorn.

It is served with the same uvicorn.Config arguments as `specmock serve`
(src/specmock/_server/cli/serve.py _serve_one: host, port, log_level, access_log=False,
lifespan="off", timeout_graceful_shutdown=10, everything else default), so the
loop, HTTP parser, logging and process model match. Keep the two in step if
serve.py changes.

Run: python benchmarks/bare_app.py --list-body LIST.json --create-body CREATE.json --port 0
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON = "application/json"


def build_app(list_body: bytes, create_body: bytes) -> Starlette:
    """A Starlette app with GET and POST /connectors returning the given bytes."""

    async def connectors(request: Request) -> Response:
        if request.method == "POST":
            json.loads(await request.body())  # parsing is part of any create; specmock does it too
            return Response(create_body, status_code=201, media_type=JSON)
        return Response(list_body, media_type=JSON)

    return Starlette(routes=[Route("/connectors", connectors, methods=["GET", "POST"])])


class AnnouncingServer(uvicorn.Server):
    """Prints the bound address once listening, in the format `specmock serve` uses, so --port 0 works."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                print(f"bare listening on http://{host}:{port}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list-body", type=Path, required=True, help="file holding the GET /connectors body")
    parser.add_argument("--create-body", type=Path, required=True, help="file holding the POST /connectors body")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--loop", default="auto", help="uvicorn loop: auto, asyncio or uvloop (as specmock serve)")
    parser.add_argument("--http", default="auto", help="uvicorn http: auto, h11 or httptools (as specmock serve)")
    args = parser.parse_args(argv)
    app = build_app(args.list_body.read_bytes(), args.create_body.read_bytes())
    # Same arguments as specmock._server.cli.serve._serve_one; nothing else, so every other setting is the same default.
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
        loop=args.loop,
        http=args.http,
    )
    AnnouncingServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
