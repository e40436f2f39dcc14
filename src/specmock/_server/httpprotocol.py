"""The HTTP/1.1 protocol `specmock serve` runs on: httptools' speed with h11's reach.

uvicorn's httptools protocol parses requests in C, about three times as fast as
the pure-Python h11 one (benchmarks/bench_server.py: GET /connectors 19,600 req/s
against 5,900), but its parser knows a fixed list of methods: a request with any
other token (`BREW /connectors`) is answered with uvicorn's bare "400 Invalid HTTP
request received." before the app sees it, where h11 passes it on and specmock
answers the API's 405 with `Allow`. So a request that starts with a method outside
`HTTPTOOLS_METHODS`, on a connection with nothing in flight, is handed with the
connection to h11, as uvicorn itself hands a connection to its WebSocket protocol
on an upgrade; h11 serves it from then on. Every other request stays on httptools,
and httptools' own `data_received` runs unchanged (the method is peeked at first:
a read that starts with a known method and its space costs one `startswith`; only
other reads ask whether a request is under way).

h11 frames a request carrying both Content-Length and Transfer-Encoding by the
latter and serves what follows; httptools refuses it, as a proxy that framed it by
the former would be smuggled a request. So the h11 protocol here (`--http h11`,
and the hand-over) refuses it too: 400 and the connection closed.

What of uvicorn this relies on (no underscore-private member; checked on every
allowed version by tests/test_framework_pins.py): the protocol attributes
`cycle`, `pipeline`, `connections`, `config`, `server_state`, `app_state`, `loop`,
`transport`, `scope` (a new one at each request's first byte, the same object as its
cycle's `scope` once the headers are in), and H11Protocol calling `self.app` for each
request.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

HTTPTOOLS = importlib.util.find_spec("httptools") is not None
#: Methods served on httptools; a request with any other goes to h11, which takes any token
#: (a method httptools also knows, such as PROPFIND, is then answered the same by h11).
_COMMONEST_FIRST = (b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS", b"TRACE")
HTTPTOOLS_METHODS = frozenset(_COMMONEST_FIRST)
_PEEK = max(len(m) for m in HTTPTOOLS_METHODS) + 1
#: How a request line with one of them starts: one `startswith` tells most reads they are for httptools.
_KNOWN_STARTS = tuple(m + b" " for m in _COMMONEST_FIRST)


def http_protocol(choice: str) -> type:
    """uvicorn's HTTP protocol class for `--http` auto, h11 or httptools."""
    if choice == "h11" or (choice == "auto" and not HTTPTOOLS):
        return strict_h11_protocol()
    return _fallback_protocol()


def foreign_method(data: bytes) -> bool:
    """Whether `data`, the start of a request, names a method outside HTTPTOOLS_METHODS. A method
    not complete yet counts as known while it could still become one (httptools waits for it)."""
    head = data.lstrip(b"\r\n")[:_PEEK]  # empty lines may come before a request line
    method, space, _ = head.partition(b" ")
    if space:
        return method not in HTTPTOOLS_METHODS
    return len(head) >= _PEEK or not any(m.startswith(method) for m in HTTPTOOLS_METHODS)


_AMBIGUOUS_BODY = b"Invalid HTTP request received."


def refuse_ambiguous_framing(app: ASGIApp) -> ASGIApp:
    """`app`, but a request with both Content-Length and Transfer-Encoding is a 400 that closes
    the connection (so nothing pipelined after it is served)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = {name for name, _ in scope["headers"]}
            if b"content-length" in names and b"transfer-encoding" in names:
                headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
                await send({"type": "http.response.start", "status": 400, "headers": headers})
                await send({"type": "http.response.body", "body": _AMBIGUOUS_BODY})
                return
        await app(scope, receive, send)

    return guarded


def strict_h11_protocol() -> type:
    """uvicorn's h11 protocol, refusing the framing httptools refuses (see the module docstring)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class StrictH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app = refuse_ambiguous_framing(self.app)  # H11Protocol calls `self.app` per request

    return StrictH11Protocol


def _fallback_protocol() -> type:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsProtocolWithH11Fallback(HttpToolsProtocol):
        """uvicorn's httptools protocol; a request with a method it does not know goes on in h11."""

        #: The protocol a connection is handed to, built on the first hand-over (h11 is imported
        #: then, not at every start); slow_clients gives it the same read timeouts.
        make_h11_protocol = staticmethod(cache(strict_h11_protocol))

        def data_received(self, data: bytes) -> None:
            if data.startswith(_KNOWN_STARTS):  # the fast path: a request httptools serves
                HttpToolsProtocol.data_received(self, data)  # uvicorn's own, unchanged
            elif self._at_message_start() and foreign_method(data):
                self._hand_over_to_h11(data)
            else:
                HttpToolsProtocol.data_received(self, data)

        def _at_message_start(self) -> bool:
            """No request of this connection is being parsed, queued or answered: what arrives starts
            a new one. uvicorn makes a new `scope` at a request's first byte and hands it to the cycle
            it makes once the headers are in (tests/test_framework_pins.py checks both)."""
            cycle: Any = self.cycle
            if cycle is None:
                return self.scope is None
            return cycle.response_complete and cycle.scope is self.scope and not cycle.more_body and not self.pipeline

        def _hand_over_to_h11(self, data: bytes) -> None:
            self.connections.discard(self)
            protocol = self.make_h11_protocol()(self.config, self.server_state, self.app_state, self.loop)
            protocol.connection_made(self.transport)
            self.transport.set_protocol(protocol)
            protocol.data_received(data)

    return HttpToolsProtocolWithH11Fallback
