"""`specmock serve` says which event loop and HTTP parser it runs on, and runs on the one asked for."""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from conftest import Served, start_server, stop_server
from specmock._server.httpprotocol import HTTPTOOLS_METHODS, foreign_method


def serving_line(*args: str) -> str:
    """The 'serving on ...' line of a `specmock serve --port 0` started with `args`, which is then stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "specmock", "serve", "--port", "0", "--log-level", "info", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if re.search(r"listening on http://", line):
                break
        found = [line.strip() for line in lines if line.startswith("serving on ")]
        assert found, "".join(lines)
        return found[0]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_fallback_stack_when_asked_for() -> None:
    assert serving_line("--loop", "asyncio", "--http", "h11") == "serving on asyncio + h11"


@pytest.mark.skipif(
    not (importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")),
    reason="uvloop and httptools have no wheel here: auto is asyncio + h11",
)
def test_auto_is_the_fast_stack_where_it_is_installed() -> None:
    assert serving_line() == "serving on uvloop + httptools"


# -- request framing: every stack refuses what could smuggle a request ----------------------------


@pytest.fixture(scope="module", params=["h11", "httptools"])
def stack(request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.param == "httptools" and not importlib.util.find_spec("httptools"):
        pytest.skip("httptools has no wheel here")
    served = start_server("--http", request.param, "--no-access-log")
    try:
        yield served
    finally:
        stop_server(served)


def exchange(served: Served, raw: bytes) -> bytes:
    """Send `raw` on one connection and read until the server closes it (or 3 s of silence)."""
    url = urlsplit(served.url)
    with socket.create_connection((url.hostname, url.port), timeout=3) as sock:
        sock.sendall(raw)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


AMBIGUOUS = {
    "content-length first": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    "transfer-encoding first": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    "zero length": b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
}
NEXT = b"GET /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"


@pytest.mark.parametrize("method", ["POST", "BREW"])  # BREW: the request httptools hands over to h11
@pytest.mark.parametrize("framing", list(AMBIGUOUS))
def test_a_request_with_both_length_and_chunked_framing_is_refused_and_ends_the_connection(
    stack: Served, method: str, framing: str
) -> None:
    head = f"{method} /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n".encode()
    answer = exchange(stack, head + AMBIGUOUS[framing] + b"\r\n0\r\n\r\n" + NEXT)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # the pipelined GET was not served


@pytest.mark.parametrize("method", ["GET", "BREW"])
def test_pipelined_requests_with_plain_framing_are_all_served(stack: Served, method: str) -> None:
    first = f"{method} /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n".encode()
    answer = exchange(stack, first + NEXT + b"GET /connectors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 ") == 3, answer


# -- the hand-over from httptools to h11 ------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(m.decode() for m in HTTPTOOLS_METHODS))
def test_the_methods_httptools_serves_stay_on_it(method: str) -> None:
    data = f"{method} /connectors HTTP/1.1\r\n".encode()
    assert not foreign_method(data)
    assert not any(foreign_method(data[:n]) for n in range(1, len(method) + 1))  # still arriving
    assert not foreign_method(b"\r\n" + data)


@pytest.mark.parametrize("method", ["BREW", "PROPFIND", "get", "GETS", "POSTPOSTPOST", "M-SEARCH", "X"])
def test_any_other_method_goes_to_h11(method: str) -> None:
    assert foreign_method(f"{method} /connectors HTTP/1.1\r\n".encode())


@pytest.fixture(scope="module")
def strict_httptools() -> Iterator[Served]:
    if not importlib.util.find_spec("httptools"):
        pytest.skip("httptools has no wheel here")
    served = start_server("--http", "httptools", "--header-timeout", "1", "--body-timeout", "1", "--no-access-log")
    try:
        yield served
    finally:
        stop_server(served)


def test_a_connection_handed_to_h11_keeps_the_read_timeouts(strict_httptools: Served) -> None:
    url = urlsplit(strict_httptools.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"BREW /connectors HTTP/1.1\r\nHost: x\r\n")  # handed over; the headers never end
        started = time.monotonic()
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 3


def test_a_connection_handed_to_h11_is_not_cut_by_httptools_deadline(strict_httptools: Served) -> None:
    url = urlsplit(strict_httptools.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        statuses = []
        for method in ["BREW", "GET", "GET", "GET", "GET", "GET"]:  # 2.4 s in all, past the 1 s deadline
            sock.sendall(f"{method} /connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n".encode())
            statuses.append(read_response(sock))
            time.sleep(0.4)
        assert statuses == [405, 200, 200, 200, 200, 200]


def read_response(sock: socket.socket) -> int:
    """The status of one response read from `sock` (it carries a Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1])
