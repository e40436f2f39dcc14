"""httpx transports that drive an ASGI app in-process: no socket, no thread hop.

httpx's own ASGITransport is async-only, and it costs a failed `sniffio`
import attempt per request where sniffio is not installed. These run one
exchange per request straight against the app: the sync one on a private
event loop in the calling thread (as Starlette's TestClient runs the app),
the async one on the caller's loop. A connection the mock drops on purpose
surfaces as `httpx.RemoteProtocolError`, the error httpx raises for a real one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from .._scenario.chaos import IN_PROCESS, BodyTruncated, ConnectionDropped

_DROPPED = "Server disconnected without sending a complete response (specmock chaos)."
_TRUNCATED = "peer closed connection without sending complete message body: {} (specmock chaos)"


async def exchange(app: ASGIApp, request: httpx.Request, client: tuple[str, int]) -> httpx.Response:
    """Send `request` to `app` and collect its whole response."""
    url = request.url
    body = request.read()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": client,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "extensions": {IN_PROCESS: {}},
    }
    sent = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except ConnectionDropped:
        raise httpx.RemoteProtocolError(_DROPPED, request=request) from None
    except BodyTruncated as cut:
        raise httpx.RemoteProtocolError(_TRUNCATED.format(cut), request=request) from None
    return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


class SyncASGITransport(httpx.BaseTransport):
    """`httpx.Client(transport=SyncASGITransport(app))` sends requests straight to `app`."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._loop.is_closed():
            raise RuntimeError("the transport is closed")
        return self._loop.run_until_complete(exchange(self.app, request, self.client))

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()


class AsyncASGITransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncClient(transport=AsyncASGITransport(app))`, on the caller's event loop."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await exchange(self.app, request, self.client)
