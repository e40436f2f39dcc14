"""The request path's cheap request and response objects answer exactly as Starlette's own."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from starlette.datastructures import Headers
from starlette.responses import Response

from specmock._clock import isoformat
from specmock._server.app import MockApp
from specmock._server.wire import ApiRequest, IndexedHeaders, JsonResponse
from specmock._testing.transport import SyncASGITransport

CONNECTOR = {"type": "github", "name": "Year One", "config": {"apiUrl": "https://api.github.com"}}

RAW = [
    (b"host", b"127.0.0.1"),
    (b"authorization", b"Bearer first"),
    (b"authorization", b"Bearer second"),  # repeated: the first wins, as in Starlette
    (b"content-type", b"application/json"),
    (b"x-latin", "caf\u00e9".encode("latin-1")),
]


@pytest.mark.parametrize("name", ["host", "Authorization", "AUTHORIZATION", "content-type", "x-latin", "absent"])
def test_indexed_headers_answer_as_starlette_headers(name: str) -> None:
    ours, theirs = IndexedHeaders(RAW), Headers(raw=RAW)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "default") == theirs.get(name, "default")
    assert (name in ours) == (name in theirs)
    assert ours.getlist(name) == theirs.getlist(name)
    if name in theirs:
        assert ours[name] == theirs[name]
    else:
        with pytest.raises(KeyError):
            ours[name]
    assert ours.raw == theirs.raw and list(ours.items()) == list(theirs.items())


def test_a_request_decodes_its_headers_once_and_shares_the_empty_query() -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": RAW, "query_string": b""}
    request = ApiRequest(scope)
    assert request.headers is request.headers
    assert request.headers["authorization"] == "Bearer first"
    assert not request.query_params
    assert ApiRequest({**scope, "query_string": b"a=1&a=2"}).query_params.getlist("a") == ["1", "2"]


@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 503])
@pytest.mark.parametrize("headers", [None, {}, {"Retry-After": "1"}, {"Content-Type": "application/problem+json"}])
def test_json_responses_carry_starlette_headers_in_starlette_order(status: int, headers: dict[str, str] | None) -> None:
    body = b'{"a":1}'
    ours = JsonResponse(body, status, headers)
    theirs = Response(body, status_code=status, headers=headers, media_type="application/json")
    assert ours.raw_headers == theirs.raw_headers
    assert (ours.status_code, ours.body) == (theirs.status_code, theirs.body)


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
