"""A refused request is diagnosable from the journal: its body as received and the reason.

Every kind of refusal (authentication, validation, malformed JSON, media type, an
unknown item, a route no operation has) keeps the body the client sent, within the
journal's body limit, and names the check that refused it and the failing fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import BEARER
from specmock import MockApp
from specmock._testing.transport import SyncASGITransport

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app() -> MockApp:
    return MockApp(seed=1, journal_body_limit=64)


@pytest.fixture
def client(app: MockApp) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver") as c:
        yield c


def last(client: httpx.Client) -> dict[str, Any]:
    seq = client.get("/__specmock/journal").json()["entries"][-1]["seq"]
    entry: dict[str, Any] = client.get(f"/__specmock/journal/{seq}").json()
    return entry


@pytest.mark.parametrize(
    ("headers", "content", "check", "kept"),
    [
        ({**JSON}, b'{"type": "github", "name": "n"}', "authentication", {"type": "github", "name": "n"}),
        ({**BEARER, **JSON}, b'{"type": "github", "name": 42}', "request validation", {"type": "github", "name": 42}),
        ({**BEARER, **JSON}, b'{"type": "github", ', "JSON parsing", '{"type": "github", '),
        ({**BEARER, "Content-Type": "text/plain"}, b"name=n", "media type", "name=n"),
    ],
    ids=["auth", "validation", "malformed", "media-type"],
)
def test_a_refused_requests_body_and_reason_are_journaled(
    client: httpx.Client, headers: dict[str, str], content: bytes, check: str, kept: Any
) -> None:
    refused = client.post("/connectors", content=content, headers=headers)
    assert 400 <= refused.status_code < 500
    entry = last(client)
    assert entry["requestBody"] == kept
    assert entry["reason"]["check"] == check and entry["reason"]["message"]


def test_the_failing_fields_are_named_in_the_reason(client: httpx.Client) -> None:
    client.post("/connectors", json={"type": "github", "name": 42}, headers=BEARER)
    fields = {f["field"] for f in last(client)["reason"]["fields"]}
    assert "name" in fields


def test_an_unknown_item_and_an_unknown_route_say_which_check_refused(client: httpx.Client) -> None:
    client.get("/connectors/no-such-id", headers=BEARER)
    assert last(client)["reason"]["check"] == "state: unknown item"
    client.post("/no/such/path", json={"a": 1})
    entry = last(client)
    assert entry["reason"]["check"] == "routing" and entry["requestBody"] == {"a": 1}


def test_a_body_over_the_journal_limit_keeps_a_marker_and_an_answered_request_has_no_reason(
    client: httpx.Client,
) -> None:
    big = b'{"type": "github", "name": "' + b"x" * 200 + b'"}'
    client.post("/connectors", content=big, headers=JSON)
    assert "over the journal's body limit" in last(client)["requestBody"]
    client.get("/connectors", headers=BEARER)
    assert last(client)["reason"] is None


def test_a_chunked_body_over_the_journal_limit_is_not_kept_whole(client: httpx.Client, app: MockApp) -> None:
    """Without a Content-Length the size is known only once read: an answered body over the
    limit leaves a marker, a refused one its head as text; neither is kept whole."""
    head = b'{"type": "github", "config": {"apiUrl": "https://a.example"}, '
    for tail, status in ((b'"name": "' + b"x" * 200 + b'"}', 201), (b'"name": ' + b"x" * 200 + b"}", 400)):
        answer = client.post("/connectors", content=iter([head, tail]), headers={**BEARER, **JSON})
        assert answer.status_code == status, answer.text
        shown = app.journal.entries()[-1].request_body
        if status == 201:
            assert shown == f"[request body of {len(head + tail)} bytes: over the journal's body limit of 64]"
        else:
            assert shown == (head + tail)[:64].decode()
    assert app.journal.bytes <= 2 * 64 + sum(len(e.response_raw) for e in app.journal.entries())


def test_an_entry_keeps_the_bytes_received_and_shows_them_as_sent(client: httpx.Client, app: MockApp) -> None:
    """The entry holds the body's bytes and makes data of them when read: what the client sent,
    whatever the mock did with the item since."""
    sent = {"type": "github", "name": "k", "config": {"apiUrl": "https://a.ex"}}
    raw = json.dumps(sent, separators=(",", ":")).encode()
    assert len(raw) <= 64  # within the journal's body limit
    created = client.post("/connectors", content=raw, headers={**BEARER, **JSON})
    assert created.status_code == 201, created.text
    entry = app.journal.entries()[-1]
    changed = client.put(f"/connectors/{created.json()['id']}", json={"name": "renamed"}, headers=BEARER)
    assert changed.status_code == 200, changed.text
    assert entry.request_body == sent and entry.request_body is not entry.request_body  # made when read
