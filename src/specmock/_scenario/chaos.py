"""Delivering a response badly on purpose: late, dropped, cut short, corrupted, slow.

A dropped connection must look like one to the client, not like a response.
Under uvicorn we reach the connection's transport through the ASGI `receive`
callable and abort it with SO_LINGER 0, which sends a TCP reset. A truncated
body is another failure: the status, headers and a Content-Length promising
the whole body go out, then half the body, then the connection is closed
cleanly (FIN): the client sees an incomplete read, not a reset. Anywhere else
(an in-process transport) we raise ConnectionDropped or BodyTruncated, which
specmock's own httpx transports turn into the errors httpx raises for real ones.

Delays go through the `sleep` the caller hands in: real time on a socket; the
mock clock's time in-process on a frozen clock, so a chaos run costs no wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.types import Receive, Scope, Send

from .rules import Decision

Sleep = Callable[[float], Awaitable[None]]


class Answer(Protocol):
    """A response as chaos delivers it: a status, the raw headers and the body's bytes."""

    status_code: int
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes


#: The ASGI scope extension specmock's in-process transports set: there, chaos delays move
#: a frozen mock clock instead of sleeping.
IN_PROCESS = "specmock.in_process"


class ConnectionDropped(ConnectionError):
    """Raised by the app when a rule drops the connection and no socket can be reset."""


class BodyTruncated(ConnectionError):
    """Raised by the app when a rule cuts a body short and no socket can be closed."""

    def __init__(self, received: int, expected: int) -> None:
        super().__init__(f"received {received} bytes, expected {expected}")
        self.received = received
        self.expected = expected


def _transport(receive: Receive) -> Any:
    """The connection's asyncio transport under uvicorn (its `receive` is a bound method of
    the request cycle, which holds it), or None in-process."""
    cycle = getattr(receive, "__self__", None)
    transport: Any = getattr(cycle, "transport", None)
    return transport if transport is not None and hasattr(transport, "abort") else None


async def drop(receive: Receive) -> None:
    """Reset the connection now (RST: SO_LINGER 0, then abort)."""
    transport = _transport(receive)
    if transport is None:
        raise ConnectionDropped("specmock dropped the connection (scenario chaos)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)  # let the server see the connection is gone before we return


async def cut(receive: Receive, received: int, expected: int) -> None:
    """Close the connection cleanly (FIN) in the middle of a body."""
    transport = _transport(receive)
    if transport is None:
        raise BodyTruncated(received, expected)
    transport.close()  # flushes what was written, then FIN
    for _ in range(3):  # let the server see the connection is gone, so it does not log a broken response
        await asyncio.sleep(0)


def corrupt(body: bytes) -> bytes:
    """A body that is not valid JSON any more, of a plausible shape."""
    if not body:
        return b"{"
    return body[: max(1, len(body) // 2)] + b'\x00{"'


async def deliver(
    response: Answer, decision: Decision, scope: Scope, receive: Receive, send: Send, sleep: Sleep = asyncio.sleep
) -> None:
    """Send `response` as the rules that fired say; every pause goes through `sleep`."""
    if decision.delay > 0:
        await sleep(decision.delay)
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
        half = body[: len(body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        await cut(receive, len(half), len(body))
        return
    if decision.trickle is not None:
        size, interval = decision.trickle
        for start in range(0, len(body), size):
            await send({"type": "http.response.body", "body": body[start : start + size], "more_body": True})
            await sleep(interval)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send({"type": "http.response.body", "body": body, "more_body": False})
