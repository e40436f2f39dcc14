"""Slow and numerous clients over real sockets: timeouts, a connection limit, a quiet log.

A client that trickles its headers or never finishes its body gets a 408 and a
closed connection; beyond --max-connections requests get a clean 503; the
accept loop's "too many open files" is logged once per burst.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any

import httpx
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from conftest import BEARER, Served, start_server, stop_server
from raw_sockets import connect, read_all, trickle
from specmock._server import httpprotocol, slow_clients
from specmock._server.httpprotocol import HTTPTOOLS, http_protocol
from specmock._server.slow_clients import BurstLogger, guarded_protocol
from test_framework_pins import Transport


@pytest.fixture(scope="module")
def strict() -> Iterator[Served]:
    server = start_server("--header-timeout", "0.5", "--body-timeout", "0.5")
    try:
        yield server
    finally:
        stop_server(server)


def test_headers_trickled_a_byte_at_a_time_get_408_and_a_closed_connection(strict: Served) -> None:
    sock = connect(strict)
    request = b"GET /connectors HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
    answer, sent = trickle(sock, request, every=0.1)  # 0.1 s a byte: far beyond the 0.5 s deadline
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert sent < len(request)  # the deadline did not move with each byte
    sock.close()


def test_a_body_that_never_arrives_gets_408(strict: Served) -> None:
    sock = connect(strict)
    head = (
        b"POST /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"type": '
    )
    sock.sendall(head)
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    sock.close()


def test_silent_connections_are_closed(strict: Served) -> None:
    sock = connect(strict)
    assert read_all(sock).startswith(b"HTTP/1.1 408")  # never sent a byte
    sock.close()


@pytest.fixture
def limited() -> Iterator[Served]:
    server = start_server("--max-connections", "4")
    try:
        yield server
    finally:
        stop_server(server)


def test_beyond_the_connection_limit_requests_get_503_and_service_resumes(limited: Served) -> None:
    strict = limited  # connections held with unfinished headers, well within the 10 s deadline
    held = [connect(strict) for _ in range(5)]
    for sock in held:
        sock.sendall(b"GET /connectors HTTP/1.1\r\n")
    time.sleep(0.1)
    refused = httpx.get(f"{strict.url}/connectors", headers=BEARER, timeout=10)
    assert refused.status_code == 503
    for sock in held:
        sock.close()
    for _ in range(50):
        if httpx.get(f"{strict.url}/connectors", headers=BEARER, timeout=10).status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the server did not recover once the held connections closed")


def test_a_normal_client_is_not_affected(strict: Served) -> None:
    with httpx.Client(base_url=strict.url, headers=BEARER, timeout=10) as client:
        assert client.get("/connectors").status_code == 200
        assert client.post("/connectors", json={"type": "github", "name": "ok", "config": {"a": 1}}).status_code == 201
        assert client.get("/connectors").status_code == 200  # the same keep-alive connection


async def answer_ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def calls_into(module: ModuleType, protocol_class: type, requests: int) -> int:
    """Calls of `module`'s Python functions while one keep-alive connection is served `requests` GETs."""
    loop = asyncio.get_running_loop()
    config = Config(app=answer_ok, lifespan="off", log_level="critical", access_log=False)
    config.load()
    protocol = protocol_class(config, ServerState(), {}, loop)
    transport = Transport()
    transport.protocol = protocol
    protocol.connection_made(transport)
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        calls += event == "call" and frame.f_code.co_filename == module.__file__

    sys.setprofile(count)
    try:
        for _ in range(requests):
            protocol.data_received(b"GET /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n")
            while not protocol.cycle.response_complete:
                await asyncio.sleep(0)
    finally:
        sys.setprofile(None)
    protocol.connection_lost(None)
    return calls


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_read_timeouts_run_no_python_per_request(http: str) -> None:
    if http == "httptools" and not HTTPTOOLS:
        pytest.skip("httptools has no wheel here")
    guarded = guarded_protocol(http_protocol(http), 10.0, 30.0)
    # one timer per connection looks at it now and then: a request on it runs nothing of slow_clients
    assert asyncio.run(calls_into(slow_clients, guarded, 40)) == 0


@pytest.mark.skipif(not HTTPTOOLS, reason="httptools has no wheel here")
@pytest.mark.parametrize("requests", [1, 40])
def test_the_h11_hand_over_costs_one_call_per_read(requests: int) -> None:
    guarded = guarded_protocol(http_protocol("httptools"), 10.0, 30.0)
    # its `data_received`, which finds the method known and calls uvicorn's: no parser callback of its own
    assert asyncio.run(calls_into(httpprotocol, guarded, requests)) == requests


def test_out_of_file_descriptors_is_logged_once_per_burst(caplog: pytest.LogCaptureFixture) -> None:
    handler = BurstLogger(quiet_seconds=3600)
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="specmock"):
            for _ in range(10_000):
                emfile = OSError(errno.EMFILE, "Too many open files")
                handler(loop, {"message": "socket.accept() out of system resource", "exception": emfile})
        assert len(caplog.records) == 1
        assert "out of file descriptors" in caplog.records[0].getMessage()
        assert handler.suppressed == 9_999
    finally:
        loop.close()


GONE_MID_BODY = [
    ("POST", "/connectors"),
    ("PUT", "/__specmock/state"),
    ("PUT", "/__specmock/scenario"),
    ("PUT", "/__specmock/clock"),
    ("POST", "/__specmock/collections/appsecplus/applications/items"),
]


def test_clients_that_leave_mid_request_leave_no_traceback_in_the_log() -> None:
    server = start_server("--no-access-log")
    try:
        for method, path in GONE_MID_BODY:
            sock = connect(server)
            sock.sendall(
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
            )
            time.sleep(0.2)  # the handler is reading the body now
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
            sock.close()
        for path in ("/__specmock/events", "/__specmock/state", "/connectors"):  # gone mid-response
            sock = connect(server)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n\r\n".encode())
            sock.recv(16)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
        time.sleep(0.5)
        assert httpx.get(f"{server.url}/connectors", headers=BEARER, timeout=10).status_code == 200
    finally:
        stop_server(server)
    assert server.process.stdout is not None
    log = server.process.stdout.read()
    assert "Traceback" not in log, log
    assert "Exception in ASGI application" not in log, log


@dataclass
class Timer:
    when: float
    callback: Callable[..., object]
    args: tuple[Any, ...]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualLoop:
    """Just enough of an event loop for a protocol, on a clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any, *args: Any) -> Timer:
        timer = Timer(when, callback, args)
        self.timers.append(timer)
        return timer

    def call_later(self, delay: float, callback: Any, *args: Any) -> Timer:
        return self.call_at(self.now + delay, callback, *args)

    def create_task(self, coroutine: Any) -> Any:  # the app never runs here: the request stays in flight
        coroutine.close()
        return asyncio.Future(loop=asyncio.new_event_loop())

    def run_until(self, moment: float, done: Callable[[], bool]) -> None:
        """Fire the timers due by `moment` in order, the clock moving to each, until `done()`."""
        while not done():
            due = [t for t in self.timers if not t.cancelled and t.when <= moment]
            if not due:
                self.now = moment
                return
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = timer.when
            timer.callback(*timer.args)


def trickled_until_408(http: str, head: bytes, trickle: bytes) -> tuple[float, int]:
    """`head` sent at 0.5 s, then `trickle` a byte every 0.2 s, with a 1 s header and a 2 s body
    timeout on a virtual clock: when the 408 went out, and how many trickled bytes went before it."""
    loop = VirtualLoop()
    config = Config(app=answer_ok, lifespan="off", log_level="critical", access_log=False)
    config.load()
    protocol = guarded_protocol(http_protocol(http), 1.0, 2.0)(config, ServerState(), {}, loop)
    transport = Transport()
    transport.protocol = protocol
    protocol.connection_made(transport)
    answered = lambda: bool(transport.written)  # noqa: E731
    loop.run_until(0.5, answered)
    protocol.data_received(head)
    for sent, byte in enumerate(trickle):
        loop.run_until(loop.now + 0.2, answered)
        if answered():
            assert transport.written.startswith(b"HTTP/1.1 408"), transport.written
            return loop.now, sent
        protocol.data_received(bytes([byte]))
    raise AssertionError("no 408 while the bytes trickled")


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_trickled_headers_get_408_within_a_tenth_of_the_timeout_never_before(http: str) -> None:
    if http == "httptools" and not HTTPTOOLS:
        pytest.skip("httptools has no wheel here")
    # the first request's headers count from the connection (0 s): due at 1 s, a tenth late at most
    at, sent = trickled_until_408(http, b"GET /connectors HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 100)
    assert 1.0 <= at <= 1.1 + 1e-6 and sent <= 3, (at, sent)


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_a_trickled_body_gets_408_within_a_tenth_of_the_timeout_never_before(http: str) -> None:
    if http == "httptools" and not HTTPTOOLS:
        pytest.skip("httptools has no wheel here")
    head = b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    at, sent = trickled_until_408(http, head, b" " * 99)  # the headers were in at 0.5 s: due at 2.5 s
    assert 2.5 <= at <= 2.6 + 1e-6 and sent <= 10, (at, sent)
