"""The request path's plain-ASGI request and response objects answer exactly as Starlette's own."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from specmock._clock import isoformat
from specmock._server.app import MockApp
from specmock._server.wire import Incoming, Reply, empty_reply, json_reply
from specmock._testing.transport import SyncASGITransport

CONNECTOR = {"type": "github", "name": "Year One", "config": {"apiUrl": "https://api.github.com"}}

RAW = [
    (b"host", b"127.0.0.1"),
    (b"authorization", b"Bearer first"),
    (b"authorization", b"Bearer second"),  # repeated: the first wins, as in Starlette
    (b"content-type", b"application/json"),
    (b"x-latin", "caf\u00e9".encode("latin-1")),
]


def _incoming(raw: list[tuple[bytes, bytes]], query: bytes = b"") -> Incoming:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": query}
    return Incoming(scope, _no_body)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.parametrize("name", ["host", "authorization", "content-type", "x-latin", "absent"])
def test_a_requests_headers_answer_as_starlettes(name: str) -> None:
    ours, theirs = _incoming(RAW).headers, Request({"type": "http", "headers": RAW}).headers
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "default") == theirs.get(name, "default")
    assert (name in ours) == (name in theirs)
    if name in theirs:
        assert ours[name] == theirs[name]


@pytest.mark.parametrize("query", [b"", b"a=1", b"a=1&a=2&b=", b"x=%20y&z"])
def test_a_requests_query_answers_as_starlettes(query: bytes) -> None:
    ours = _incoming(RAW, query).query_params
    theirs = Request({"type": "http", "headers": RAW, "query_string": query}).query_params
    assert dict(ours) == dict(theirs) and ours.multi_items() == theirs.multi_items()


@pytest.mark.parametrize("cookie", [None, "a=1", "a=1; b=two", 'a="q"; =x; c'])
def test_a_requests_cookies_answer_as_starlettes(cookie: str | None) -> None:
    raw = RAW if cookie is None else [*RAW, (b"cookie", cookie.encode())]
    assert dict(_incoming(raw).cookies) == Request({"type": "http", "headers": raw}).cookies


def test_a_request_decodes_its_headers_once_and_shares_the_empty_query() -> None:
    request = _incoming(RAW)
    assert request.headers["authorization"] == "Bearer first"
    assert not request.query_params and request.query_params is _incoming(RAW).query_params
    assert _incoming(RAW, b"a=1&a=2").query_params.getlist("a") == ["1", "2"]


def test_the_body_is_read_once_chunked_or_not_and_kept() -> None:
    async def run(chunks: list[bytes]) -> tuple[bytes, bytes | None, int]:
        messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
        calls = 0

        async def receive() -> dict[str, Any]:
            nonlocal calls
            calls += 1
            return messages.pop(0)

        scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
        request = Incoming(scope, receive)
        body = await request.body(100)
        assert await request.body(100) is body
        return body, await request.received(3), calls

    assert asyncio.run(run([b'{"a": 1}'])) == (b'{"a": 1}', b'{"a', 1)
    assert asyncio.run(run([b'{"a"', b"", b": 1}"])) == (b'{"a": 1}', b'{"a', 3)


@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 499, 503])
@pytest.mark.parametrize(
    "headers",
    [None, {}, {"Retry-After": "1"}, {"Content-Type": "application/problem+json"}, {"content-length": "3", "A": "b"}],
)
def test_replies_carry_starlettes_headers_in_starlettes_order(status: int, headers: dict[str, str] | None) -> None:
    body = b'{"a":1}'
    ours: Reply = json_reply(body, status, headers)
    theirs = Response(body, status_code=status, headers=headers, media_type="application/json")
    assert ours.raw_headers == theirs.raw_headers
    assert (ours.status_code, ours.body) == (theirs.status_code, theirs.body)
    empty, bare = empty_reply(status, headers), Response(status_code=status, headers=headers)
    assert (empty.status_code, empty.raw_headers, empty.body) == (bare.status_code, bare.raw_headers, bare.body)


RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def test_stamps_are_rfc3339_for_any_moment_and_strftime_from_year_1000() -> None:
    rng = random.Random(12)
    moments = [datetime.fromtimestamp(rng.uniform(-6.2e10, 2e11), UTC) for _ in range(20_000)]
    moments += [datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    moments += [datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    moments += [datetime(2020, 1, 1, 5, tzinfo=timezone(timedelta(hours=3)))]  # not UTC: converted first
    for moment in moments:
        stamp = isoformat(moment)
        assert RFC3339_UTC.fullmatch(stamp), stamp
        assert datetime.fromisoformat(stamp) == moment.replace(microsecond=0), stamp
        if moment.astimezone(UTC).year >= 1000:
            assert stamp == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), moment


def test_a_clock_at_year_1_stamps_a_four_digit_year() -> None:
    client = httpx.Client(transport=SyncASGITransport(MockApp()), base_url="http://mock")
    assert client.put("/__specmock/clock", json={"now": "0001-01-01T00:00:00Z", "frozen": True}).status_code == 200
    created = client.post("/connectors", headers={"Authorization": "Bearer t"}, json=CONNECTOR)
    assert created.status_code == 201, created.text
    assert created.json()["createdAt"] == "0001-01-01T00:00:00Z"


def _drive(app: MockApp, method: str, path: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`app` called as an ASGI server calls it; what it sent."""
    headers = [(b"host", b"mock"), (b"authorization", b"Bearer t"), (b"content-type", b"application/json")]
    headers.append((b"transfer-encoding", b"chunked"))
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b""}
    scope["headers"] = headers
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_client_gone_before_its_body_is_journaled_as_disconnected() -> None:
    app = MockApp()
    before = _drive(app, "GET", "/connectors", [])[1]["body"]
    part = {"type": "http.request", "body": b'{"type": "github", ', "more_body": True}
    sent = _drive(app, "POST", "/connectors", [part, {"type": "http.disconnect"}])
    assert sent[0]["status"] == 499
    entry = app.journal.entries()[-1]
    assert (entry.status, entry.outcome, entry.request_body) == (499, "disconnected", None)
    assert _drive(app, "GET", "/connectors", [])[1]["body"] == before  # nothing stored


def test_head_answers_the_gets_headers_without_its_body() -> None:
    app = MockApp()
    get = _drive(app, "GET", "/connectors", [])
    head = _drive(app, "HEAD", "/connectors", [])
    assert head[0]["status"] == get[0]["status"] == 200
    assert head[0]["headers"] == get[0]["headers"] and head[1]["body"] == b"" and get[1]["body"]
    assert app.journal.entries()[-1].response_raw == b""
