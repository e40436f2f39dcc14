"""The HTTP/1.1 protocol `specmock serve` runs on: httptools' speed with h11's reach.

uvicorn's httptools protocol parses requests in C, about twice as fast as the
pure-Python h11 one, but its parser knows a fixed list of methods: a request
with any other token (`BREW /connectors`) is answered with uvicorn's bare
"400 Invalid HTTP request received." before the app sees it, where h11 passes
it on and specmock answers the API's 405 with `Allow`. So when httptools refuses
a method at the start of a request, and no earlier request of the connection is
still in flight, the connection is handed to h11 with the bytes received, as
uvicorn itself hands a connection to its WebSocket protocol on an upgrade; h11
serves it from then on. Every other request stays on httptools.

h11 frames a request carrying both Content-Length and Transfer-Encoding by the
latter and serves what follows; httptools refuses it, as a proxy that framed it by
the former would be smuggled a request. So the h11 protocol here (`--http h11`,
and the hand-over) refuses it too: 400 and the connection closed.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

HTTPTOOLS = importlib.util.find_spec("httptools") is not None


def http_protocol(choice: str) -> type:
    """uvicorn's HTTP protocol class for `--http` auto, h11 or httptools."""
    if choice == "h11" or (choice == "auto" and not HTTPTOOLS):
        return strict_h11_protocol()
    return _fallback_protocol()


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
            # uvicorn calls `self.app` for each request (H11Protocol.handle_events): checked by
            # tests/test_framework_pins.py on every uvicorn version we allow.
            self.app = refuse_ambiguous_framing(self.app)

    return StrictH11Protocol


def _fallback_protocol() -> type:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsProtocolWithH11Fallback(HttpToolsProtocol):
        """uvicorn's httptools protocol; a connection whose method it refuses goes on in h11."""

        _mid_message = False

        def on_message_begin(self) -> None:
            self._mid_message = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._mid_message = False
            super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            idle = not self._mid_message and not self.pipeline and (self.cycle is None or self.cycle.response_complete)
            if not idle:
                super().data_received(data)
                return
            # As HttpToolsProtocol.data_received, with the hand-over on a refused method.
            self._unset_keepalive_if_required()
            cycle = self.cycle
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserInvalidMethodError:
                if self.cycle is cycle and not self.pipeline:  # nothing of `data` is being served
                    self._hand_over_to_h11(data)
                else:
                    self._refuse()
            except httptools.HttpParserError:
                self._refuse()
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()

        def _refuse(self) -> None:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)

        def _hand_over_to_h11(self, data: bytes) -> None:
            # Imported here, on the rare refused method: h11 is not needed to start serving.
            self.connections.discard(self)
            protocol = strict_h11_protocol()(self.config, self.server_state, self.app_state, self.loop)
            protocol.connection_made(self.transport)
            self.transport.set_protocol(protocol)
            protocol.data_received(data)

    return HttpToolsProtocolWithH11Fallback
