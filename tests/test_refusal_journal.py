"""A refused request is diagnosable from the journal: its body as received and the reason.

Every kind of refusal (authentication, validation, malformed JSON, media type, an
unknown item, a route no operation has) keeps the body the client sent, within the
journal's body limit, and names the check that refused it and the failing fields.
"""

from __future__ import annotations

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
