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


# -- a PATCH sending a nested object under a narrower schema (azure.com/alertsmanagement) ---------


def test_a_patch_of_the_rules_status_keeps_its_type(mock: Any) -> None:
    c = mock("patch_nested_partial_object.yaml")
    rule = {"location": "eu", "properties": {"type": "Suppression", "status": "Enabled", "description": "night"}}
    assert c.put("/rules/night", json=rule).status_code == 200
    changed = c.patch("/rules/night", json={"properties": {"status": "Disabled"}, "tags": {}})
    expected = {"type": "Suppression", "status": "Disabled", "description": "night"}
    assert changed.json()["properties"] == expected
    assert c.get("/rules/night").json()["properties"] == expected


def test_a_patch_of_a_rule_without_properties_completes_them_around_what_was_sent(mock: Any) -> None:
    c = mock("patch_nested_partial_object.yaml")
    c.put("/rules/bare", json={"location": "eu"})
    changed = c.patch("/rules/bare", json={"properties": {"status": "Disabled"}}).json()["properties"]
    assert changed["status"] == "Disabled"
    assert changed["type"] in ("Suppression", "ActionGroup")


def nested_document(narrow: dict[str, Any], item_inner: dict[str, Any]) -> dict[str, Any]:
    """An item `{settings: item_inner}` whose PATCH body declares `settings` as `narrow`."""
    item = {"type": "object", "properties": {"name": {"type": "string"}, "settings": item_inner}}
    patch = {"type": "object", "properties": {"settings": narrow}}

    def op(schema: dict[str, Any] | None) -> dict[str, Any]:
        answer = {"200": {"description": "ok", "content": {"application/json": {"schema": item}}}}
        sent = {"requestBody": {"content": {"application/json": {"schema": schema}}}} if schema else {}
        return {**sent, "responses": {**answer, "404": {"description": "absent"}}}

    param = {"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Nested", "version": "1"},
        "paths": {"/things/{thingId}": {"parameters": [param], "get": op(None), "put": op(item), "patch": op(patch)}},
    }


LEVEL = {"type": "string", "enum": ["low", "high"]}
NESTED = {
    "required discriminator": (
        {"type": "object", "properties": {"level": LEVEL}},
        {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "a"}, "level": LEVEL}},
        {"kind": "a", "level": "low"},
    ),
    "two levels": (
        {"type": "object", "properties": {"limits": {"type": "object", "properties": {"max": {"type": "integer"}}}}},
        {
            "type": "object",
            "required": ["limits"],
            "properties": {
                "limits": {
                    "type": "object",
                    "required": ["min", "max"],
                    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
                }
            },
        },
        {"limits": {"min": 1, "max": 5}},
    ),
}


@pytest.mark.parametrize("case", sorted(NESTED))
def test_a_patch_changes_only_the_nested_fields_it_sends(mock: Any, case: str) -> None:
    narrow, inner, stored = NESTED[case]
    c = mock(nested_document(narrow, inner))
    assert c.put("/things/t1", json={"name": "n", "settings": stored}).status_code == 200
    sent = {"level": "high"} if "level" in stored else {"limits": {"max": 9}}
    changed = c.patch("/things/t1", json={"settings": sent}).json()["settings"]
    expected = {**stored, **sent} if "level" in stored else {"limits": {"min": 1, "max": 9}}
    assert changed == expected
    assert c.get("/things/t1").json()["settings"] == expected


def test_a_patch_sending_the_items_own_schema_still_replaces_the_object(mock: Any) -> None:
    """Where the body declares the field as the item does, what is sent is the whole new value."""
    inner = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    c = mock(nested_document(inner, inner))
    c.put("/things/t1", json={"settings": {"a": "1", "b": "2"}})
    assert c.patch("/things/t1", json={"settings": {"a": "3"}}).json()["settings"] == {"a": "3"}


# -- an answer whose item schema requires more than the item's own (amazonaws.com/mq) -------------


def test_brokers_listed_as_summaries_hold_what_the_summary_requires(mock: Any) -> None:
    c = mock("list_item_schema_requires_more.yaml")
    for name in ("a", "b"):
        assert c.post("/v1/brokers", json={"brokerName": name, "engineType": "RABBITMQ"}).status_code == 200
    listed = c.get("/v1/brokers").json()["BrokerSummaries"]
    assert len(listed) == 2
    assert all({"DeploymentMode", "EngineType"} <= set(summary) for summary in listed)
    assert c.get("/v1/brokers").json()["BrokerSummaries"] == listed  # stored: the same every time
    one = c.get(f"/v1/brokers/{listed[0]['BrokerId']}").json()
    assert (one["DeploymentMode"], one["EngineType"]) == (listed[0]["DeploymentMode"], listed[0]["EngineType"])


SUMMARY = {
    "type": "object",
    "required": ["kind", "size"],
    "properties": {"id": {"type": "string"}, "kind": {"enum": ["x", "y"]}, "size": {"type": "integer", "minimum": 3}},
}
ITEM = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "note": {"type": "string"}, "kind": {"type": "string"}, "size": {}},
}
LISTS = {
    "bare array": {"type": "array", "items": SUMMARY},
    "envelope": {"type": "object", "properties": {"things": {"type": "array", "items": SUMMARY}}},
    "envelope in allOf": {
        "type": "object",
        "properties": {"things": {"allOf": [{"type": "array", "items": SUMMARY}, {"description": "AWS style"}]}},
    },
}


def summary_document(listed: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    def answer(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
        return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}

    param = {"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}
    sent = {"type": "object", "properties": {"note": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Summaries", "version": "1"},
        "paths": {
            "/things": {
                "get": {"responses": answer(listed)},
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": sent}}},
                    "responses": answer(created, "201"),
                },
            },
            "/things/{thingId}": {"parameters": [param], "get": {"responses": answer(ITEM)}},
        },
    }


@pytest.mark.parametrize("layout", sorted(LISTS))
def test_a_list_of_summaries_answers_what_they_require(mock: Any, layout: str) -> None:
    c = mock(summary_document(LISTS[layout], ITEM))
    made = c.post("/things", json={"note": "n"}).json()
    body = c.get("/things").json()
    (listed,) = body if isinstance(body, list) else body["things"]
    assert listed["kind"] in ("x", "y") and listed["size"] >= 3
    assert c.get(f"/things/{made['id']}").json() == listed


def test_a_create_answer_requiring_more_than_the_item_answers_it(mock: Any) -> None:
    c = mock(summary_document({"type": "array", "items": ITEM}, SUMMARY))
    made = c.post("/things", json={"note": "n"}).json()
    assert made["kind"] in ("x", "y") and made["size"] >= 3
