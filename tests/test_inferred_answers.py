"""Inference of what is answered, each rule over a class of small documents written here: ids in the
declared format (and the patterns they are drawn from), list envelopes that count and page,
items wrapped in their answer, generated answers. Every response is checked against its document.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from inference_support import (
    ULID,
    UUID,
    body,
    document,
    ok,
    param,
    query,
    ref,
    thing,
)

# The `mock` fixture: `mock(document)` is a client of the document.
from inference_support import documents_served as documents_served
from specmock._spec.infer import infer
from specmock._spec.regex_sample import sample_pattern

# -- ids in the declared format --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_schema", "shape"),
    [
        ({"type": "string", "format": "ulid"}, ULID),
        ({"type": "string", "format": "uuid"}, UUID),
        ({"type": "integer", "format": "int64"}, None),
        ({"type": "string", "pattern": "^usr_[a-z0-9]{12}$"}, re.compile(r"^usr_[a-z0-9]{12}$")),
        ({"type": "string", "pattern": "^[A-Z]{2}-\\d{4}$"}, re.compile(r"^[A-Z]{2}-\d{4}$")),
    ],
)
def test_generated_ids_follow_the_declared_format(mock: Any, id_schema: dict[str, Any], shape: Any) -> None:
    schema = {"type": "object", "properties": {"id": id_schema, "name": {"type": "string"}}, "required": ["id"]}
    new = {"type": "object", "properties": {"name": {"type": "string"}}}
    paths = {
        "/things": {"post": {"requestBody": body(new), "responses": ok(schema, "201")}},
        "/things/{id}": {"parameters": [param("id", id_schema)], "get": {"responses": ok(schema)}},
    }
    c = mock(document(paths, {}))
    ids = [c.post("/things", json={"name": str(n)}).json()["id"] for n in range(3)]
    assert len(set(ids)) == 3
    for value in ids:
        assert isinstance(value, int) if shape is None else shape.match(value), value
        assert c.get(f"/things/{value}").status_code == 200


# -- list envelopes --------------------------------------------------------------------------------

PAGINGS = {
    "cursor": (
        [query("first", "integer"), query("after")],
        {"totalCount": {"type": "integer"}, "next": {"type": "string"}},
    ),
    "offset": ([query("limit", "integer"), query("offset", "integer")], {"total": {"type": "integer"}}),
    "page": (
        [query("page", "integer"), query("page_size", "integer")],
        {"count": {"type": "integer"}, "next": {"type": ["string", "null"]}, "previous": {"type": ["string", "null"]}},
    ),
    "none": ([], {"total_count": {"type": "integer"}, "itemCount": {"type": "integer"}}),
}


@pytest.mark.parametrize("paging", sorted(PAGINGS))
def test_a_list_envelope_counts_and_pages_its_items(mock: Any, paging: str) -> None:
    params, counts = PAGINGS[paging]
    page = {
        "type": "object",
        "properties": {"data": {"type": "array", "items": ref("Thing")}, **counts},
        "required": ["data", *(name for name in counts if name not in ("next", "previous"))],
    }
    paths = {
        "/things": {
            "get": {"parameters": params, "responses": ok(page)},
            "post": {"requestBody": body(thing()), "responses": ok(ref("Thing"), "201")},
        },
        "/things/{id}": {"parameters": [param("id")], "get": {"responses": ok(ref("Thing"))}},
    }
    c = mock(document(paths, {"Thing": thing()}))
    made = [c.post("/things", json={"name": f"t{n}"}).json() for n in range(5)]
    listed = c.get("/things").json()
    assert listed["data"] == made
    assert {listed[name] for name in counts if "ount" in name or name == "total"} == {5}
    window = {
        "cursor": {"first": 2, "after": made[0]["id"]},
        "offset": {"limit": 2, "offset": 1},
        "page": {"page": 2, "page_size": 2},
    }
    if paging in window:
        second = c.get("/things", params=window[paging]).json()
        assert (
            [t["id"] for t in second["data"]] == [t["id"] for t in made[1:3]]
            if paging != "page"
            else made[2:4] == second["data"]
        )
        assert all(second[name] == 5 for name in counts if name in ("totalCount", "total", "count"))


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("broker-id", ["BrokerId", "BrokerName"], "BrokerId"),
        ("thingIdentity", ["thingId", "name"], "thingId"),
        ("username", ["username", "id"], "username"),
        ("connector_id", ["id", "name"], "id"),
        ("sku", ["name", "price"], "name"),
    ],
)
def test_the_id_field_is_the_one_the_path_parameter_names(
    mock: Any, name: str, fields: list[str], expected: str
) -> None:
    schema = {"type": "object", "properties": {f: {"type": "string"} for f in fields}}
    new = {"type": "object", "properties": {"note": {"type": "string"}}}
    paths = {
        "/things": {"post": {"requestBody": body(new), "responses": ok(schema)}},
        f"/things/{{{name}}}": {"parameters": [param(name)], "get": {"responses": ok(schema)}},
    }
    data = document(paths, {})
    assert infer(data).family["collections"]["things"]["id"].get("field", "id") == expected
    c = mock(data)
    made = c.post("/things", json={"note": "n"}).json()
    assert c.get(f"/things/{made[expected]}").json() == made


@pytest.mark.parametrize(
    "extra",
    [
        {"status_code": {"type": "integer", "example": 200}},
        {"status": {"type": "string"}, "service": {"type": "string", "example": "crm"}},
        {"meta": {"type": "object", "properties": {"page": {"type": "integer"}}, "required": ["page"]}},
    ],
)
def test_a_list_envelope_answers_its_other_required_fields(mock: Any, extra: dict[str, Any]) -> None:
    page = {"type": "object", "properties": {"data": {"type": "array", "items": ref("Thing")}, **extra}}
    page["required"] = ["data", *extra]
    paths = {
        "/things": {
            "get": {"responses": ok(page)},
            "post": {"requestBody": body(thing()), "responses": ok(ref("Thing"), "201")},
        },
        "/things/{id}": {"parameters": [param("id")], "get": {"responses": ok(ref("Thing"))}},
    }
    c = mock(document(paths, {"Thing": thing()}))
    first = c.get("/things").json()
    made = c.post("/things", json={"name": "a"}).json()
    second = c.get("/things").json()
    assert second == {**first, "data": [made]}
    for name, schema in extra.items():
        if "example" in schema:
            assert first[name] == schema["example"]


@pytest.mark.parametrize("wrapper", ["data", "result", "item"])
def test_an_item_wrapped_in_its_answer_is_stored_unwrapped(mock: Any, wrapper: str) -> None:
    def wrapped(schema: Any, status: int) -> dict[str, Any]:
        code = {"type": "integer", "example": status}
        return {
            "type": "object",
            "properties": {"status_code": code, wrapper: schema},
            "required": ["status_code", wrapper],
        }

    page = {"type": "object", "properties": {wrapper: {"type": "array", "items": ref("Lead")}}, "required": [wrapper]}
    paths = {
        "/leads": {
            "get": {"responses": ok(page)},
            "post": {"requestBody": body(ref("Lead")), "responses": ok(wrapped(ref("Lead"), 201), "201")},
        },
        "/leads/{id}": {
            "parameters": [param("id")],
            "get": {
                "responses": ok(
                    {
                        "type": "object",
                        "properties": {"status_code": {"type": "integer"}, wrapper: ref("Lead")},
                        "required": ["status_code", wrapper],
                    }
                )
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
    }
    lead = {
        "type": "object",
        "properties": {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}},
        "required": ["id", "name"],
    }
    c = mock(document(paths, {"Lead": lead}))
    made = c.post("/leads", json={"name": "x"}).json()
    assert made["status_code"] == 201 and made[wrapper]["name"] == "x"
    lead_id = made[wrapper]["id"]
    assert c.get(f"/leads/{lead_id}").json() == {"status_code": 200, wrapper: made[wrapper]}
    assert c.get("/leads").json() == {wrapper: [made[wrapper]]}
    assert c.delete(f"/leads/{lead_id}").status_code == 204
    assert c.get(f"/leads/{lead_id}").status_code == 404


@pytest.mark.parametrize(
    "answer",
    [
        {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
        {"type": "object", "properties": {"id": {"type": "string"}, "uploadUrl": {"type": "string"}}},
    ],
    ids=["a bulk create", "an upload ticket"],
)
def test_a_post_on_the_list_path_answering_something_else_creates_nothing(mock: Any, answer: Any) -> None:
    paths = {
        "/things": {
            "get": {"responses": ok({"type": "array", "items": ref("Thing")})},
            "post": {
                "requestBody": body({"type": "object", "properties": {"name": {"type": "string"}}}),
                "responses": ok(answer),
            },
        },
        "/things/{id}": {"parameters": [param("id")], "get": {"responses": ok(ref("Thing"))}},
    }
    c = mock(document(paths, {"Thing": thing()}))
    assert c.post("/things", json={"name": "a"}).status_code == 200
    assert c.get("/things").json() == []


# -- generated answers -----------------------------------------------------------------------------


def test_a_generated_answer_is_the_same_every_time_and_fits_its_names(mock: Any) -> None:
    report = {
        "type": "object",
        "properties": {
            "contactEmail": {"type": "string"},
            "baseUrl": {"type": "string"},
            "host": {"type": "string", "format": "hostname"},
            "day": {"type": "string", "format": "date"},
            "ref": {"type": "string", "format": "ulid"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        },
        "required": ["contactEmail", "baseUrl", "host", "day", "ref", "code"],
    }
    paths = {"/reports/{day}/summary": {"parameters": [param("day")], "get": {"responses": ok(report)}}}
    c = mock(document(paths, {}))
    first = c.get("/reports/mon/summary").json()
    assert c.get("/reports/mon/summary").json() == first
    assert "@" in first["contactEmail"] and first["baseUrl"].startswith("http")
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", first["day"]) and ULID.match(first["ref"])
    assert re.match(r"^[A-Z]{3}$", first["code"]) and "." in first["host"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[a-z]{3}-[0-9]{6}$",
        r"^[0-9A-HJKMNP-TV-Z]{26}$",
        r"^(foo|bar)_\d+$",
        r"^[^/]+$",
        r"^\w{1,5}(\.\w+)?$",
        r"^(a+)+$",  # nested repeats: drawn and checked in linear time
        r"[A-Z]{2}",  # unanchored
    ],
)
def test_drawn_strings_match_their_pattern(pattern: str) -> None:
    rng = random.Random(7)
    drawn = {sample_pattern(pattern, rng) for _ in range(20)}
    assert all(re.search(pattern, text) and len(text) <= 256 for text in drawn)
    assert len(drawn) > 1 or pattern.startswith("^(a+)")


@pytest.mark.parametrize("pattern", [r"^(?=a)a$", r"^(a)\1$", r"["])
def test_a_pattern_ids_cannot_be_drawn_from_is_a_value_error(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"not supported|invalid regular expression"):
        sample_pattern(pattern, random.Random(0))
