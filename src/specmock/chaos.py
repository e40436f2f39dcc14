"""Delivering a response badly on purpose: late, dropped, cut short, corrupted, slow.

A dropped connection must look like one to the client, not like a response.
Under uvicorn we reach the connection's transport through the ASGI `receive`
callable and abort it with SO_LINGER 0, which sends a TCP reset. Anywhere else
(an in-process transport) we raise ConnectionDropped, which specmock's own
httpx transports turn into the error httpx raises for a real dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .rules import Decision


class ConnectionDropped(ConnectionError):
    """Raised by the app when a rule drops the connection and no socket can be reset."""


def _abort_transport(receive: Receive) -> bool:
    cycle = getattr(receive, "__self__", None)
    transport: Any = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True


async def drop(receive: Receive) -> None:
    """Reset the connection now."""
    if not _abort_transport(receive):
        raise ConnectionDropped("specmock dropped the connection (scenario chaos)")
    await asyncio.sleep(0)  # let the server see the connection is gone before we return


def corrupt(body: bytes) -> bytes:
    """A body that is not valid JSON any more, of a plausible shape."""
    if not body:
        return b"{"
    return body[: max(1, len(body) // 2)] + b'\x00{"'


async def deliver(response: Response, decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response` as the rules that fired say."""
    if decision.delay > 0:
        await asyncio.sleep(decision.delay)
    if decision.reset:
        await drop(receive)
        return
    body = bytes(response.body)
    if decision.malformed:
        body = corrupt(body)
    headers = [(k, v) for k, v in response.raw_headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if decision.truncate:
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await drop(receive)
        return
    if decision.trickle is not None:
        size, interval = decision.trickle
        for start in range(0, len(body), size):
            await send({"type": "http.response.body", "body": body[start : start + size], "more_body": True})
            await asyncio.sleep(interval)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send({"type": "http.response.body", "body": body, "more_body": False})
