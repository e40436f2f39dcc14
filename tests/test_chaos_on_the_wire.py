"""One test per kind of chaos, with a real client on a real socket: retries after 503s, a reset, a
truncated or malformed body, latency, a trickle, a forced 429, the nth call failing.

Where the point is what a real HTTP client sees, the tests talk to `specmock serve` over 127.0.0.1;
everything else runs in-process. In-process on a frozen clock, scenario latency is not slept: it
moves the mock's clock, so the chaos decisions (and their delays, read off the clock) can be
compared without waiting for them.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from chaos_support import ADMIN, SCAN, SDE, decisions, in_process, journal, mock, rule, use
from conftest import BEARER, SDE_TOKEN, VERSORI, Served, start_server, stop_server
from specmock import MockClock

RETRY_SCENARIO = """
name: retry-twice
rules:
  - name: two-503s
    match: {operationId: TriggerScan}
    times: 2
    respond: {status: 503, retryAfter: 1}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `specmock serve` for the chaos tests, started from a scenario file; each test loads its own."""
    path = tmp_path_factory.mktemp("scenarios") / "retry-twice.yaml"
    path.write_text(RETRY_SCENARIO)
    served = start_server("--scenario", str(path), "--seed", "3")
    try:
        assert requests.get(f"{served.url}{ADMIN}/scenario", timeout=10).json()["active"] == "retry-twice"
        yield served
    finally:
        stop_server(served)


# -- one test per kind of chaos, with a real client on a real socket -------------------------------------------------


def test_a_retrying_client_gets_two_503s_then_201_and_the_journal_shows_three_attempts(server: Served) -> None:
    use(server, RETRY_SCENARIO)
    retry = Retry(
        total=5,
        status_forcelist=[503],
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        backoff_factor=0,
    )
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        started = time.monotonic()
        response = session.post(f"{server.url}/scans", json=SCAN, headers=BEARER, timeout=10)
        elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert [h.status for h in response.raw.retries.history] == [503, 503]
    assert elapsed >= 2 * 1 - 0.05, "Retry-After: 1 was sent twice, and the client honoured it"
    attempts = journal(server, "TriggerScan")
    assert decisions(attempts) == [(503, "two-503s", "forced"), (503, "two-503s", "forced"), (201, None, "ok")]
    assert [e["seq"] for e in attempts] == sorted(e["seq"] for e in attempts)
    assert attempts[0]["responseBody"]["error"]["code"] == "ServiceUnavailableException"


def test_a_reset_connection_is_a_connection_error_not_a_response(server: Served) -> None:
    use(server, rule("drop-once", "ListScans", times=1, chaos={"reset": True}))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{server.url}/scans", headers=BEARER, timeout=10)
    after = requests.get(f"{server.url}/scans", headers=BEARER, timeout=10)
    assert after.status_code == 200, "the server lives on and the rule fired once"
    assert [(e["rule"], e["outcome"]) for e in journal(server, "ListScans")] == [("drop-once", "dropped"), (None, "ok")]


def test_a_truncated_body_is_a_broken_body_after_a_good_status(server: Served) -> None:
    use(server, rule("cut", "ListAlmConnectors", chaos={"truncate": True}))
    response = requests.get(f"{server.url}{SDE}", headers=SDE_TOKEN, stream=True, timeout=10)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 100
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _ = response.content
    assert [(e["rule"], e["outcome"]) for e in journal(server, "ListAlmConnectors")] == [("cut", "dropped")]


def raw_exchange(server: Served, path: str, headers: dict[str, str]) -> tuple[bytes, BaseException | None]:
    """Send one GET over a plain socket; everything received until the server closed, and the
    error the close raised (None for a clean FIN, ConnectionResetError for a reset)."""
    host, port = server.url.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as exc:
            return received, exc
    return received, None


def test_truncate_closes_cleanly_mid_body_and_reset_sends_a_reset(server: Served) -> None:
    use(server, rule("cut", "ListAlmConnectors", chaos={"truncate": True}))
    received, error = raw_exchange(server, SDE, SDE_TOKEN)
    assert error is None, "a truncated body ends with a clean close (FIN), not a reset"
    head, _, body = received.partition(b"\r\n\r\n")
    promised = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < promised, "the Content-Length promised more than arrived"

    use(server, rule("drop", "ListAlmConnectors", chaos={"reset": True}))
    received, error = raw_exchange(server, SDE, SDE_TOKEN)
    assert isinstance(error, ConnectionResetError), "a reset is a reset (RST), before any byte of a response"
    assert received == b""


def test_in_process_truncate_and_reset_are_distinct_httpx_errors() -> None:
    app = mock(scenarios=[rule("cut", "ListAlmConnectors", chaos={"truncate": True})])
    with in_process(app, check=False) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body: received"):
            client.get(SDE, headers=SDE_TOKEN)
        app.load_scenario(rule("drop", "ListAlmConnectors", chaos={"reset": True}))
        with pytest.raises(httpx.RemoteProtocolError, match="disconnected without sending"):
            client.get(SDE, headers=SDE_TOKEN)


def test_in_process_latency_on_a_frozen_clock_moves_the_clock_instead_of_sleeping() -> None:
    clock = MockClock(frozen=True)
    app = mock(clock=clock, scenarios=[rule("late", "ListAlmConnectors", chaos={"latency": "30s"})])
    before = clock.now()
    started = time.monotonic()
    with in_process(app) as client:
        assert client.get(SDE, headers=SDE_TOKEN).status_code == 200
    assert time.monotonic() - started < 5, "thirty seconds of latency cost no wall time"
    assert (clock.now() - before).total_seconds() == 30


def test_a_malformed_body_is_a_200_whose_json_does_not_parse(server: Served) -> None:
    use(server, rule("garbled", "GetAlmConnector", chaos={"malformed": True}))
    response = requests.get(f"{server.url}{SDE}1/", headers=SDE_TOKEN, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.content) == int(response.headers["content-length"]), "the body is complete, just not JSON"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert journal(server, "GetAlmConnector")[0]["rule"] == "garbled"


def test_latency_delays_the_response_by_at_least_the_configured_time(server: Served) -> None:
    use(server, rule("late", "ListAlmConnectors", chaos={"latency": "200ms"}))
    started = time.monotonic()
    response = requests.get(f"{server.url}{SDE}", headers=SDE_TOKEN, timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert elapsed >= 0.2


def test_trickle_sends_the_whole_body_in_chunks_with_pauses(server: Served) -> None:
    chunk, interval = 64, 0.05
    use(server, rule("slow-body", "GetAlmConnector", chaos={"trickle": {"chunk": chunk, "interval": "50ms"}}))
    started = time.monotonic()
    response = requests.get(f"{server.url}{SDE}1/", headers=SDE_TOKEN, stream=True, timeout=10)
    headers_at = time.monotonic() - started
    body = response.content
    done_at = time.monotonic() - started

    assert response.status_code == 200
    assert len(body) == int(response.headers["content-length"])
    assert json.loads(body)["name"] == "GitHub Example Connector"
    chunks = math.ceil(len(body) / chunk)
    assert chunks >= 4
    assert done_at - headers_at >= (chunks - 1) * interval - 0.01, "the body arrives over (chunks - 1) pauses"


@pytest.mark.parametrize(
    ("path", "headers", "error"),
    [
        ("/connectors", BEARER, {"error": {"code": "ThrottlingException", "message": "Too many requests."}}),
        (f"{VERSORI}/connectors", BEARER, {"code": "too_many_requests"}),
        (SDE, SDE_TOKEN, {"detail": "Request was throttled."}),
    ],
    ids=["appsecplus", "versori", "sdelements"],
)
def test_a_forced_429_carries_retry_after_and_the_family_error_body(
    server: Served, path: str, headers: dict[str, str], error: dict[str, Any]
) -> None:
    use(server, {"rules": [{"name": "throttle", "match": {}, "respond": {"status": 429, "retryAfter": 2}}]})
    response = requests.get(server.url + path, headers=headers, timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    for key, value in error.items():
        if isinstance(value, dict):
            assert body[key].items() >= value.items()
        else:
            assert body[key] == value
    if "message" in body:
        assert isinstance(body["message"], str) and body["message"]


def test_the_nth_call_fails_and_only_that_one(server: Served) -> None:
    use(
        server,
        """
rules:
  - name: third-call-fails
    match: {operationId: appsecplus:ListConnectors}
    after: 3
    times: 1
    respond: {status: 500, message: Boom on the third call.}
""",
    )
    statuses = [requests.get(f"{server.url}/connectors", headers=BEARER, timeout=10).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]
    entries = journal(server, "appsecplus:ListConnectors")
    assert decisions(entries) == [
        (200, None, "ok"),
        (200, None, "ok"),
        (500, "third-call-fails", "forced"),
        (200, None, "ok"),
    ]
    assert entries[2]["responseBody"] == {
        "error": {"code": "InternalServerException", "message": "Boom on the third call."}
    }
