"""What specmock uses of uvicorn that is not its public API, checked on the version installed.

src/specmock/_server/httpprotocol.py (the httptools-to-h11 hand-over, the h11 framing check)
and slow_clients.py (read timeouts) read attributes of uvicorn's protocol objects and
request cycles. pyproject.toml bounds uvicorn from above for that reason; these tests are
what to run before raising the bound: each failure names the attribute that moved and the
file to re-check. The behaviour itself is tested over sockets (test_server_stack.py,
test_slow_clients.py, test_hostile_workers.py).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from uvicorn.config import Config
from uvicorn.server import ServerState

from specmock._server.httpprotocol import HTTPTOOLS, HTTPTOOLS_METHODS, strict_h11_protocol

ROOT = Path(__file__).resolve().parent.parent
#: slow_clients reads the first four of both protocols; the hand-over (httptools only) all of them.
H11_ATTRIBUTES = ("cycle", "loop", "transport", "timeout_keep_alive_task", "app")
HTTPTOOLS_ATTRIBUTES = (
    *("cycle", "loop", "transport", "timeout_keep_alive_task"),
    *("scope", "pipeline", "connections", "config", "server_state", "app_state"),
)
CYCLE_ATTRIBUTES = ("response_complete", "response_started", "more_body", "disconnected", "message_event", "scope")
RECHECK = (
    "uvicorn {version} changed what specmock relies on: {what}. Re-check src/specmock/_server/httpprotocol.py "
    "and src/specmock/_server/slow_clients.py against it before raising uvicorn's bound in pyproject.toml."
)


class Transport(asyncio.Transport):
    """Just enough of a socket transport for a protocol to take a request."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.protocol: Any = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol


async def app(scope: Any, receive: Any, send: Any) -> None:  # never run: the loop is not started
    raise AssertionError


def protocols() -> list[type]:
    found = [strict_h11_protocol()]
    if HTTPTOOLS:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        found.append(HttpToolsProtocol)
    return found


def test_the_installed_uvicorn_is_within_the_bound_pyproject_sets() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = next(Requirement(d) for d in project["dependencies"] if d.startswith("uvicorn"))
    version = importlib.metadata.version("uvicorn")
    assert wanted.specifier.contains(version), (
        f"uvicorn {version} is outside pyproject's {wanted.specifier}: run this file on it and raise the bound "
        "only when it passes"
    )


@pytest.mark.parametrize("protocol_class", protocols(), ids=lambda c: c.__name__)
def test_uvicorn_protocols_still_hold_what_specmock_reads(protocol_class: type) -> None:
    version = importlib.metadata.version("uvicorn")
    loop = asyncio.new_event_loop()
    try:
        config = Config(app=app, lifespan="off", log_level="critical")
        config.load()
        protocol = protocol_class(config, ServerState(), {}, loop)
        transport = Transport()
        protocol.connection_made(transport)
        httptools = "HttpTools" in protocol_class.__name__
        wanted = HTTPTOOLS_ATTRIBUTES if httptools else H11_ATTRIBUTES
        missing = [name for name in wanted if not hasattr(protocol, name)]
        assert not missing, RECHECK.format(version=version, what=f"{protocol_class.__name__} lost {missing}")
        assert protocol.transport is transport and protocol.loop is loop
        protocol.data_received(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        cycle = protocol.cycle
        assert protocol.timeout_keep_alive_task is None, RECHECK.format(
            version=version, what="a keep-alive timer still set while a request is read (slow_clients takes it as idle)"
        )
        assert cycle is not None, RECHECK.format(version=version, what="no request cycle after a request's headers")
        missing = [name for name in CYCLE_ATTRIBUTES if not hasattr(cycle, name)]
        assert not missing, RECHECK.format(version=version, what=f"the request cycle lost {missing}")
        assert cycle.more_body and not cycle.response_started and not cycle.response_complete, RECHECK.format(
            version=version, what="a cycle waiting for its body no longer says so (more_body, response_*)"
        )
        if httptools:
            assert_scope_marks_each_request(protocol, version)
        for task in asyncio.all_tasks(loop):
            task.cancel()
    finally:
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


def assert_scope_marks_each_request(protocol: Any, version: str) -> None:
    """The hand-over tells "between requests" from "inside one" by the protocol's `scope`: uvicorn
    makes a new one at a request's first byte and hands that same object to its cycle."""
    cycle = protocol.cycle
    assert cycle.scope is protocol.scope, RECHECK.format(version=version, what="the cycle no longer holds its scope")
    protocol.data_received(b"cd")  # the body's end; a request that starts now makes a new scope
    protocol.data_received(b"GE")
    assert protocol.scope is not cycle.scope, RECHECK.format(
        version=version, what="no new scope at a request's first byte (on_message_begin)"
    )


def test_uvicorn_h11_still_calls_the_protocols_app_per_request() -> None:
    import inspect

    from uvicorn.protocols.http.h11_impl import H11Protocol

    source = inspect.getsource(H11Protocol.handle_events)
    version = importlib.metadata.version("uvicorn")
    assert "app = self.app" in source, RECHECK.format(
        version=version, what="H11Protocol.handle_events no longer reads self.app (StrictH11Protocol wraps it)"
    )


@pytest.mark.skipif(not HTTPTOOLS, reason="httptools has no wheel here")
@pytest.mark.parametrize("method", sorted(HTTPTOOLS_METHODS))
def test_httptools_still_parses_every_method_specmock_leaves_on_it(method: bytes) -> None:
    import httptools

    class Sink:
        done = False

        def on_message_complete(self) -> None:
            self.done = True

    sink = Sink()
    parser = httptools.HttpRequestParser(sink)
    parser.feed_data(method + b" /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert sink.done and parser.get_method() == method, (
        f"httptools {importlib.metadata.version('httptools')} no longer parses {method!r}: remove it from "
        "HTTPTOOLS_METHODS in src/specmock/_server/httpprotocol.py (h11 then serves it)"
    )
