"""The corpus sweep's last failure classes (docs/corpus.md), each served from the small document
written here for it (benchmarks/corpus_cases/, the document the sweep can run on its own) and
over a class of documents like it. Every answer is checked against its document, formats
included (the sweep's schemathesis checks `format: email`; the mock's own checker does not)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator

from conftest import conformance_hook
from specmock import MockApp
from specmock._testing.transport import SyncASGITransport

CASES = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus_cases"


def serve(spec: Path) -> httpx.Client:
    app = MockApp([spec], seed=1)
    hooks = {"response": [conformance_hook(app)]}
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver", event_hooks=hooks)


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[Any]:
    """`mock(document)`: a client of the document (a dict, or a case file's name)."""
    clients: list[httpx.Client] = []

    def start(data: dict[str, Any] | str) -> httpx.Client:
        if isinstance(data, str):
            spec = CASES / data
        else:
            spec = tmp_path / f"api{len(clients)}.json"
            spec.write_text(json.dumps(data))
        clients.append(serve(spec))
        return clients[-1]

    yield start
    for c in clients:
        c.close()


def holds_format(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` holds `schema`'s format too (uri and hostname by hand: their checkers are optional)."""
    fmt = schema.get("format")
    if fmt in ("uri", "url"):
        return isinstance(value, str) and bool(urlsplit(value).scheme and urlsplit(value).netloc)
    if fmt == "hostname":
        return isinstance(value, str) and "." in value and all(part.isalnum() for part in value.split("."))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(value)


# -- a client-chosen key the client left out (iqualify.com) ---------------------------------------


def test_a_user_created_without_its_email_gets_an_email_key(mock: Any) -> None:
    c = mock("client_key_format_not_sent.yaml")
    drawn = c.post("/users", json={"firstName": "Ann"})
    assert drawn.status_code == 201
    email = drawn.json()["email"]
    assert holds_format(email, {"type": "string", "format": "email"}), email
    assert c.get(f"/users/{email}").json() == drawn.json()
    chosen = c.post("/users", json={"email": "ann@example.org", "firstName": "Ann"})
    assert chosen.json()["email"] == "ann@example.org"
    assert c.get("/users/ann@example.org").status_code == 200


KEY_SCHEMAS = [
    {"type": "string", "format": "email"},
    {"type": "string", "format": "idn-email"},
    {"type": "string", "format": "uri"},
    {"type": "string", "format": "hostname"},
    {"type": "string", "format": "ipv4"},
    {"type": "string", "format": "ipv6"},
    {"type": "string", "format": "date"},
    {"type": "string", "minLength": 4},
]


@pytest.mark.parametrize("key", KEY_SCHEMAS, ids=lambda s: s.get("format") or "minLength")
def test_a_key_the_client_may_leave_out_is_drawn_in_its_declared_format(mock: Any, key: dict[str, Any]) -> None:
    item = {"type": "object", "properties": {"handle": key, "note": {"type": "string"}}}
    answer = {"201": {"description": "ok", "content": {"application/json": {"schema": item}}}}
    found = {"200": {"description": "ok", "content": {"application/json": {"schema": item}}}}
    param = {"name": "thingHandle", "in": "path", "required": True, "schema": {"type": "string"}}
    create = {"requestBody": {"content": {"application/json": {"schema": item}}}, "responses": answer}
    data = {
        "openapi": "3.1.0",
        "info": {"title": "Keys", "version": "1"},
        "paths": {
            "/things": {"post": create},
            "/things/{thingHandle}": {"parameters": [param], "get": {"responses": found}},
        },
    }
    c = mock(data)
    keys = [c.post("/things", json={"note": str(n)}).json()["handle"] for n in range(3)]
    assert all(holds_format(k, key) for k in keys), keys
    assert len(set(keys)) == 3
    assert [c.get(f"/things/{quote(k, safe='')}").json()["note"] for k in keys] == ["0", "1", "2"]
