"""Guards of `specmock serve` against slow and numerous clients.

uvicorn limits idle keep-alive connections (`timeout_keep_alive`) and, with
`limit_concurrency`, answers 503 once too many connections are open; it has no
read timeouts. A client that sends its headers a byte at a time, or announces a
body and never sends it, would hold a connection (a file descriptor) forever.

What of uvicorn this relies on (checked on every allowed version by
tests/test_framework_pins.py): the protocol's `cycle`, `loop`, `transport` and
`timeout_keep_alive_task` (set while the connection is idle between requests, None
once bytes arrive), and the request cycle's `response_complete`, `response_started`,
`more_body`, `disconnected` and `message_event`. uvicorn has no read timeout of its
own to use instead (`timeout_keep_alive` only starts once a response is sent).

Invariants: a connection's request headers are complete within `header_timeout`
seconds of its first byte (or of the connection); a request body is complete
within `body_timeout` seconds of its headers, however it trickles (a byte every
few seconds used to extend the deadline forever). Otherwise the client gets a 408
(when nothing was answered yet) and the connection is closed, freeing its place
under --max-connections. The deadlines are never early and at most a tenth of the
shorter timeout late (`CHECKS_PER_TIMEOUT`): one timer per connection looks at the
protocol's state now and then, so a request runs no Python of this module (the
guard used to cost ~1.5 µs of CPU per request; tests/test_slow_clients.py pins it).
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
#: How many times per the shorter timeout a connection's timer looks at it: how late a deadline can be.
CHECKS_PER_TIMEOUT = 10

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
    namespace = {
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
        "check_every": min(header_timeout, body_timeout) / CHECKS_PER_TIMEOUT,
    }
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
    so its hooks run around the base protocol's (through `super()`).

    Nothing runs per request or per read: one timer per connection looks at the base protocol's
    state every `check_every` seconds (and exactly at a deadline when one falls in between). A wait
    is named by its phase and the request cycle it belongs to, so a deadline counts from the first
    check that saw the wait (at most `check_every` after it began) and no byte moves it.
    """

    header_timeout: float
    body_timeout: float
    check_every: float
    # uvicorn's, set by the base protocol (listed in the module docstring):
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: Any
    timeout_keep_alive_task: asyncio.TimerHandle | None
    _check: asyncio.TimerHandle | None = None
    _waiting: tuple[str, Any] | None = None
    _since = 0.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        now = self.loop.time()
        self._waiting, self._since = ("headers", None), now  # counted from the connection, not its first byte
        self._check = self.loop.call_at(now + self.check_every, self._look)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None
        super().connection_lost(exc)

    def _wait(self) -> tuple[str, Any] | None:
        """What the connection waits for from the client now, and for which request; None when
        nothing (the app is working, or the connection is idle under uvicorn's keep-alive)."""
        cycle = self.cycle
        if cycle is None:
            return ("headers", None)
        if cycle.response_complete:
            return None if self.timeout_keep_alive_task is not None else ("headers", cycle)
        return ("body", cycle) if cycle.more_body else None

    def _look(self) -> None:
        self._check = None
        transport = self.transport
        if transport.is_closing() or transport.get_protocol() is not self:  # closed, or handed over (to h11)
            return
        now = self.loop.time()
        wait = self._wait()
        if wait != self._waiting:
            self._waiting, self._since = wait, now
        if wait is None:
            self._check = self.loop.call_at(now + self.check_every, self._look)
            return
        deadline = self._since + (self.header_timeout if wait[0] == "headers" else self.body_timeout)
        if now >= deadline:
            self._expired()
            return
        self._check = self.loop.call_at(min(deadline, now + self.check_every), self._look)

    def _expired(self) -> None:
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
