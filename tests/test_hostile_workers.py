"""One process and `--workers 2` (on a real Redis) hold the same line against hostile clients.

Each test runs against both: headers or a body trickled a byte at a time get a
408 and a closed connection within their deadline (the body's deadline is not
extended by each byte); held connections beyond --max-connections make fresh
requests 503 (the limit is shared out over the workers); an admin write from a
refused Host is answered 403 before its body is read (a 100 MB upload is never
waited for); an unknown method is the API's 405 with Allow, not a bare 400.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import BEARER, Served, start_server, stop_server
from raw_sockets import connect, trickle
from redis_server import RedisServer, wait_ready
from specmock._server.cli import parse_args
from specmock._server.workers import server_options

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 8
GUARDS = (
    "--header-timeout",
    str(HEADER_TIMEOUT),
    "--body-timeout",
    str(BODY_TIMEOUT),
    "--max-connections",
    str(MAX_CONNECTIONS),
    "--no-access-log",
)


@pytest.fixture(scope="module", params=["one process", "2 workers on Redis"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    redis: RedisServer | None = None
    extra: tuple[str, ...] = ()
    if request.param != "one process":
        redis = RedisServer(tmp_path_factory.mktemp("redis"))
        redis.start()
        extra = ("--workers", "2", "--state", redis.url, "--state-namespace", "hostile-workers")
    served = start_server(*GUARDS, *extra)
    try:
        wait_ready(served.url)
        yield served
    finally:
        stop_server(served)
        if redis is not None:
            redis.stop()


def test_trickled_headers_get_408(server: Served) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        answer, _ = trickle(sock, b"GET /connectors HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200, 0.1)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < HEADER_TIMEOUT + 3


def test_a_body_trickled_a_byte_at_a_time_gets_408_at_its_deadline(server: Served) -> None:
    body = b'{"type": "github", "name": "slow", "config": {"apiUrl": "https://api.github.com"}}' + b" " * 200
    head = (
        b"POST /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with connect(server) as sock:
        sock.sendall(head)
        started = time.monotonic()
        answer, sent = trickle(sock, body, 0.2)  # 0.2 s a byte: 60 s in all, far past the 1 s deadline
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert sent < len(body)
        assert time.monotonic() - started < BODY_TIMEOUT + 3


def test_connections_beyond_the_limit_get_503(server: Served) -> None:
    held = [connect(server) for _ in range(3 * MAX_CONNECTIONS)]
    try:
        for sock in held:
            sock.sendall(b"GET /connectors HTTP/1.1\r\n")  # unfinished headers, within their deadline
        time.sleep(0.3)
        statuses = []
        for _ in range(10):
            try:
                statuses.append(httpx.get(f"{server.url}/connectors", headers=BEARER, timeout=5).status_code)
            except httpx.HTTPError as exc:  # pragma: no cover - shown in the assertion
                statuses.append(repr(exc))
        assert 503 in statuses, statuses
        assert set(statuses) <= {200, 503}, statuses
    finally:
        for sock in held:
            sock.close()


ADMIN_WRITES = [
    "PUT /__specmock/scenario",
    "PUT /__specmock/state",
    "POST /__specmock/reset",
    "POST /__specmock/collections/appsecplus/applications/items",
]


@pytest.mark.parametrize("write", ADMIN_WRITES)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_admin_write_from_a_refused_host_is_403_before_its_body_is_read(
    server: Served, framing: str, write: str
) -> None:
    size = b"Content-Length: 104857600" if framing == "content-length" else b"Transfer-Encoding: chunked"
    head = f"{write} HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/json\r\n".encode()
    with connect(server) as sock:
        sock.sendall(head + size + b"\r\n\r\n" + (b"1000\r\n" if framing == "chunked" else b"") + b"{" * 4096)
        started = time.monotonic()
        answer = sock.recv(65536)  # no more of the body is sent: the answer must not wait for it
        assert time.monotonic() - started < BODY_TIMEOUT
        assert answer.startswith(b"HTTP/1.1 403"), answer


def test_an_unknown_method_is_405_with_allow(server: Served) -> None:
    reply = httpx.request("BREW", f"{server.url}/connectors", headers=BEARER, timeout=10)
    assert reply.status_code == 405
    assert "GET" in reply.headers["allow"]


@pytest.mark.parametrize(("given", "workers", "each"), [(1000, 1, 1000), (1000, 2, 500), (1001, 2, 501), (3, 4, 1)])
def test_the_connection_limit_is_shared_out_over_the_workers(given: int, workers: int, each: int) -> None:
    args: argparse.Namespace = parse_args(["serve", "--max-connections", str(given), "--workers", str(workers)])
    assert server_options(args)["limit_concurrency"] == each
