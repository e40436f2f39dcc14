"""A synchronous httpx transport that drives an ASGI app in-process.

httpx's own ASGITransport is async-only. This one runs each request on a
private event loop in the calling thread (as Starlette's TestClient runs the
app for its requests), so a plain `httpx.Client` can talk to the mock with no
socket and no thread hop.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import ASGIApp

from .chaos import ConnectionDropped

_DROPPED = "Server disconnected without sending a complete response (specmock chaos)."


class AsyncASGITransport(httpx.ASGITransport):
    """httpx's ASGITransport, with dropped connections surfacing as httpx errors."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(_DROPPED, request=request) from None


class SyncASGITransport(httpx.BaseTransport):
    """`httpx.Client(transport=SyncASGITransport(app))` sends requests straight to `app`."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self._transport = AsyncASGITransport(app=app, client=client)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._loop.is_closed():
            raise RuntimeError("the transport is closed")
        response = self._loop.run_until_complete(self._transport.handle_async_request(request))
        content = self._loop.run_until_complete(response.aread())
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()
