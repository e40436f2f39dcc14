"""Guards of `specmock serve` against slow and numerous clients.

uvicorn limits idle keep-alive connections (`timeout_keep_alive`) and, with
`limit_concurrency`, answers 503 once too many connections are open; it has no
read timeouts. A client that sends its headers a byte at a time, or announces a
body and never sends it, would hold a connection (a file descriptor) forever.

What of uvicorn this relies on (checked on every allowed version by
tests/test_framework_pins.py): the protocol's `cycle`, `loop` and `transport`, and
the request cycle's `response_complete`, `response_started`, `more_body`,
`disconnected` and `message_event`. uvicorn has no read timeout of its own to use
instead (`timeout_keep_alive` only starts once a response is sent).

Invariants: a connection's request headers are complete within `header_timeout`
seconds of its first byte (or of the connection); a request body is complete
within `body_timeout` seconds of its headers, however it trickles (a byte every
few seconds used to extend the deadline forever). Otherwise the client gets a 408
(when nothing was answered yet) and the connection is closed, freeing its place
under --max-connections.
The accept loop's "too many open files" errors are logged once per burst, not
once per retry.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from functools import cache
from typing import Any

log = logging.getLogger("specmock")

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 1000

_TIMEOUT_BODY = b'{"error":"request timeout: the request was not received in time"}'
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + b"content-length: "
    + str(len(_TIMEOUT_BODY)).encode()
    + b"\r\n\r\n"
    + _TIMEOUT_BODY
)


def guarded_protocol(base: type, header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class `base` (h11's or httptools'), with read timeouts
    (pass it as `Config(http=...)`)."""
    namespace = {"header_timeout": header_timeout, "body_timeout": body_timeout}
    protocol: type[asyncio.Protocol] = type("ReadTimeoutProtocol", (_ReadTimeouts, base), namespace)
    make_handed_to = getattr(base, "make_h11_protocol", None)
    if make_handed_to is not None:  # httptools' hand-over: the h11 protocol it hands to keeps the same deadlines

        @cache
        def make_hand_over() -> type[asyncio.Protocol]:  # built on the first hand-over, as the base's
            return guarded_protocol(make_handed_to(), header_timeout, body_timeout)

        protocol.make_h11_protocol = staticmethod(make_hand_over)  # type: ignore[attr-defined]
    return protocol


class _ReadTimeouts(asyncio.Protocol):
    """Read deadlines over a uvicorn HTTP protocol; `guarded_protocol` puts it first in the MRO,
    so its hooks run around the base protocol's (through `super()`)."""

    header_timeout: float
    body_timeout: float
    # uvicorn's, set by the base protocol (listed in the module docstring):
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: Any
    _deadline: asyncio.TimerHandle | None = None
    _phase: str | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm("headers", self.header_timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # handed over (to h11): its own deadlines rule
            self._disarm()
            return
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for(self) -> str | None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return "headers"
        if cycle.more_body:
            return "body"
        return None  # the request is in: the app is working on it

    def _follow(self) -> None:
        phase = self._waiting_for()
        if phase == "headers":
            if self._phase != "headers":  # an absolute deadline: trickled bytes do not extend it
                self._arm("headers", self.header_timeout)
        elif phase == "body":
            if self._phase != "body":  # absolute too: a body trickled a byte at a time does not extend it
                self._arm("body", self.body_timeout)
        else:
            self._disarm()

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = None

    def _expired(self) -> None:
        self._deadline = None
        phase, self._phase = self._phase, None
        if phase is None or self._waiting_for() != phase or self.transport.is_closing():
            if self._waiting_for() is not None and not self.transport.is_closing():
                self._follow()
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


class BurstLogger:
    """A loop exception handler that logs "out of file descriptors" once per burst.

    asyncio retries `accept()` every second while EMFILE lasts and reports every
    failure; under a connection flood that is a line per retry per listening
    socket. Other exceptions go to the default handler.
    """

    def __init__(self, quiet_seconds: float = 30.0) -> None:
        self.quiet_seconds = quiet_seconds
        self._last = float("-inf")
        self.suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
            now = time.monotonic()
            if now - self._last < self.quiet_seconds:
                self.suppressed += 1
                return
            more = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
            log.error(
                "out of file descriptors: new connections wait until some close; "
                "raise `ulimit -n` or lower --max-connections%s",
                more,
            )
            self._last = now
            self.suppressed = 0
            return
        loop.default_exception_handler(context)
