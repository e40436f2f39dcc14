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
"""

from __future__ import annotations

import importlib.util

HTTPTOOLS = importlib.util.find_spec("httptools") is not None


def http_protocol(choice: str) -> type:
    """uvicorn's HTTP protocol class for `--http` auto, h11 or httptools."""
    if choice == "h11" or (choice == "auto" and not HTTPTOOLS):
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return _fallback_protocol()


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
            from uvicorn.protocols.http.h11_impl import H11Protocol

            self.connections.discard(self)
            protocol = H11Protocol(self.config, self.server_state, self.app_state, self.loop)
            protocol.connection_made(self.transport)
            self.transport.set_protocol(protocol)
            protocol.data_received(data)

    return HttpToolsProtocolWithH11Fallback
