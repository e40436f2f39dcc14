"""Inference of how writes land, each rule over a class of small documents written here: creates at
a path other than the item's, discriminated items, what a body may store, cascading deletes,
upserts and client-chosen keys, what a replace keeps, a DELETE that answers a body. Every response
is checked against its document.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from inference_support import (
    body,
    document,
    ok,
    param,
    ref,
    thing,
)

# The `mock` fixture: `mock(document)` is a client of the document.
from inference_support import documents_served as documents_served
from specmock._clock import MockClock

# -- creates at a path other than the item's ------------------------------------------------------

ITEM_SHAPES = {
    "plain": {"Thing": thing()},
    "allOf": {"Base": thing(), "Thing": {"allOf": [ref("Base"), {"properties": {"kind": {"const": "a"}}}]}},
    "oneOf": {
        "A": {"allOf": [thing(), {"properties": {"kind": {"const": "a"}, "url": {"type": "string"}}}]},
        "B": {"allOf": [thing(), {"properties": {"kind": {"const": "b"}, "table": {"type": "string"}}}]},
        "Thing": {"oneOf": [ref("A"), ref("B")], "discriminator": {"propertyName": "kind"}},
    },
}
CREATE_PATHS = ["/w/{ws}/kinds/a/things", "/w/{ws}/things:create", "/w/{ws}/make-thing"]


@pytest.mark.parametrize("shape", sorted(ITEM_SHAPES))
@pytest.mark.parametrize("create_path", CREATE_PATHS)
def test_a_create_elsewhere_feeds_the_item_path(mock: Any, shape: str, create_path: str) -> None:
    created_schema = ref("A") if shape == "oneOf" else ref("Thing")
    paths = {
        "/w/{ws}/things": {
            "parameters": [param("ws")],
            "get": {"responses": ok({"type": "array", "items": ref("Thing")})},
        },
        "/w/{ws}/things/{thing_id}": {
            "parameters": [param("ws"), param("thing_id")],
            "get": {"responses": ok(ref("Thing"))},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        create_path: {
            "parameters": [param("ws")],
            "post": {
                "requestBody": body({"type": "object", "properties": {"name": {"type": "string"}}}),
                "responses": ok(created_schema, "201"),
            },
        },
    }
    c = mock(document(paths, ITEM_SHAPES[shape]))
    created = c.post(f"/w/w1/{create_path.split('/', 3)[3]}", json={"name": "one"})
    assert created.status_code == 201
    item = created.json()
    first, second = c.get(f"/w/w1/things/{item['id']}"), c.get(f"/w/w1/things/{item['id']}")
    assert first.json() == second.json() == item
    assert c.get("/w/w1/things").json() == [item]
    assert c.get("/w/w2/things").json() == []
    assert c.delete(f"/w/w1/things/{item['id']}").status_code == 204
    assert c.get(f"/w/w1/things/{item['id']}").status_code == 404
    assert c.get("/w/w1/things").json() == []


def test_a_discriminated_item_is_filled_as_the_branch_it_is(mock: Any) -> None:
    schemas = ITEM_SHAPES["oneOf"] | {
        "ACreate": {"type": "object", "properties": {"name": {"type": "string"}, "url": {"type": "string"}}},
        "BCreate": {"type": "object", "properties": {"name": {"type": "string"}, "table": {"type": "string"}}},
    }
    paths = {
        "/things/{thing_id}": {"parameters": [param("thing_id")], "get": {"responses": ok(ref("Thing"))}},
        "/kinds/a/things": {"post": {"requestBody": body(ref("ACreate")), "responses": ok(ref("A"), "201")}},
        "/kinds/b/things": {"post": {"requestBody": body(ref("BCreate")), "responses": ok(ref("B"), "201")}},
    }
    c = mock(document(paths, schemas))
    a = c.post("/kinds/a/things", json={"name": "a", "url": "https://a.example"}).json()
    b = c.post("/kinds/b/things", json={"name": "b", "table": "t"}).json()
    assert (a["kind"], b["kind"]) == ("a", "b")
    assert c.get(f"/things/{b['id']}").json() == b


@pytest.mark.parametrize("kind", ["a", "b"])
def test_a_create_gives_its_item_the_branch_it_answers(mock: Any, kind: str) -> None:
    named = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    paths = {
        "/things/{thing_id}": {"parameters": [param("thing_id")], "get": {"responses": ok(ref("Thing"))}},
        f"/kinds/{kind}/things": {"post": {"requestBody": body(named), "responses": ok(ref(kind.upper()), "201")}},
    }
    c = mock(document(paths, ITEM_SHAPES["oneOf"]))
    made = c.post(f"/kinds/{kind}/things", json={"name": "x"}).json()
    assert made["kind"] == kind and c.get(f"/things/{made['id']}").json() == made


@pytest.mark.parametrize(("field", "bad"), [("tags", None), ("tags", "red"), ("size", "big"), ("at", "yesterday")])
def test_a_body_value_the_body_schema_leaves_open_is_stored_only_if_the_item_allows_it(
    mock: Any, field: str, bad: Any
) -> None:
    item = thing(
        tags={"type": "array", "items": {"type": "string"}},
        size={"type": "integer"},
        at={"type": "string", "format": "date-time"},
    )
    item["required"] = ["id", "name", field]
    create = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name", field]}
    paths = {
        "/things": {"post": {"requestBody": body(create), "responses": ok(ref("Thing"), "201")}},
        "/things/{id}": {"parameters": [param("id")], "get": {"responses": ok(ref("Thing"))}},
    }
    c = mock(document(paths, {"Thing": item}))
    made = c.post("/things", json={"name": "x", field: bad}).json()  # the hook checks the item's schema
    assert made[field] != bad


@pytest.mark.parametrize(
    ("field", "sent_schema", "item_schema", "sent"),
    [
        (
            "connections",
            {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
            [{"name": "c"}],
        ),
        ("size", {"type": "string"}, {"type": "integer"}, "big"),
    ],
)
def test_a_body_field_declared_otherwise_than_the_item_is_stored_as_the_item_allows(
    mock: Any, field: str, sent_schema: dict[str, Any], item_schema: dict[str, Any], sent: Any
) -> None:
    item = thing(**{field: item_schema})
    item["required"] = ["id", "name", field]
    create = {"type": "object", "properties": {"name": {"type": "string"}, field: sent_schema}}
    paths = {
        "/things": {"post": {"requestBody": body(create), "responses": ok(ref("Thing"), "201")}},
        "/things/{id}": {"parameters": [param("id")], "get": {"responses": ok(ref("Thing"))}},
    }
    c = mock(document(paths, {"Thing": item}))
    made = c.post("/things", json={"name": "x", field: sent}).json()  # the hook checks the item's schema
    assert made[field] != sent and c.get(f"/things/{made['id']}").json() == made


@pytest.mark.parametrize(
    ("method", "sub_path"),
    [("put", "/things/{thing_id}/tags"), ("post", "/things/{thing_id}"), ("get", "/things/{thing_id}/stats")],
)
def test_what_hangs_under_a_deleted_item_is_gone_with_it(mock: Any, method: str, sub_path: str) -> None:
    answer = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    op: dict[str, Any] = {"responses": ok(answer)}
    if method != "get":
        op["requestBody"] = body({"type": "object"})
    params = [param(p) for p in re.findall(r"\{(\w+)\}", sub_path)]
    paths = {
        "/things": {"post": {"requestBody": body(thing()), "responses": ok(ref("Thing"), "201")}},
        "/things/{thing_id}": {
            "parameters": [param("thing_id")],
            "get": {"responses": ok(ref("Thing"))},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
    }
    paths.setdefault(sub_path, {"parameters": params})[method] = op
    c = mock(document(paths, {"Thing": thing()}))
    item = c.post("/things", json={"name": "one"}).json()
    url = sub_path.replace("{thing_id}", item["id"])
    kwargs: dict[str, Any] = {} if method == "get" else {"json": {}}
    assert c.request(method.upper(), url, **kwargs).status_code == 200
    assert c.request(method.upper(), url.replace(item["id"], "nope", 1), **kwargs).status_code == 404
    assert c.delete(f"/things/{item['id']}").status_code == 204
    assert c.request(method.upper(), url, **kwargs).status_code == 404


# -- upserts, client-chosen keys, the id in the body -----------------------------------------------


@pytest.mark.parametrize("documented", ["200", "201"])
def test_a_put_on_an_item_nothing_else_creates_is_an_upsert(mock: Any, documented: str) -> None:
    value = {"type": "object", "properties": {"value": {"type": "string"}}}
    paths = {
        "/stores/{store}/kv/{key}": {
            "parameters": [param("store"), param("key")],
            "get": {"responses": ok(value)},
            "put": {"requestBody": body(value), "responses": ok(value, documented)},
            "delete": {"responses": {"204": {"description": "gone"}}},
        }
    }
    c = mock(document(paths, {}))
    assert c.get("/stores/s/kv/colour").status_code == 404
    first = c.put("/stores/s/kv/colour", json={"value": "blue"})
    assert first.status_code == int(documented) and first.json()["value"] == "blue"
    again = c.put("/stores/s/kv/colour", json={"value": "red"})
    assert again.status_code == int(documented)  # the document's only success
    assert c.get("/stores/s/kv/colour").json()["value"] == "red"
    assert c.get("/stores/other/kv/colour").status_code == 404
    assert c.delete("/stores/s/kv/colour").status_code == 204
    assert c.get("/stores/s/kv/colour").status_code == 404


@pytest.mark.parametrize(("documented", "upsert"), [(["200", "201"], True), (["204", "201"], True), (["201"], False)])
def test_a_put_beside_a_create_upserts_when_it_documents_both_outcomes(
    mock: Any, documented: list[str], upsert: bool
) -> None:
    item = thing()
    responses: dict[str, Any] = {}
    for status in documented:
        responses |= ok(ref("Thing"), status) if status != "204" else {"204": {"description": "replaced"}}
    paths = {
        "/things": {"post": {"requestBody": body(item), "responses": ok(ref("Thing"), "201")}},
        "/things/{id}": {
            "parameters": [param("id")],
            "get": {"responses": ok(ref("Thing"))},
            "put": {"requestBody": body(item), "responses": responses},
        },
    }
    c = mock(document(paths, {"Thing": item}))
    answer = c.put("/things/t1", json={"name": "n"})
    assert answer.status_code == (201 if upsert else 404)


@pytest.mark.parametrize(
    ("field", "parameter", "value"),
    [
        ("username", "username", "jdoe"),
        ("slug", "slug", "my-page"),
        ("code", "code", 42),
        ("email", "thingEmail", "a@example.com"),  # the parameter less the collection's stem (corpus class 5)
    ],
)
def test_a_body_field_named_as_the_path_parameter_chooses_the_key(
    mock: Any, field: str, parameter: str, value: Any
) -> None:
    kind = {"type": "integer"} if isinstance(value, int) else {"type": "string"}
    schema = {"type": "object", "properties": {field: kind, "note": {"type": "string"}}, "required": [field]}
    taken = {"409": {"description": "taken", "content": {"application/json": {"schema": ref("Error")}}}}
    paths = {
        "/things": {"post": {"requestBody": body(schema), "responses": ok(schema) | taken}},
        f"/things/{{{parameter}}}": {"parameters": [param(parameter, kind)], "get": {"responses": ok(schema)}},
    }
    c = mock(document(paths, {}))
    created = c.post("/things", json={field: value, "note": "n"})
    assert created.json() == {field: value, "note": "n"}
    assert c.get(f"/things/{value}").json() == created.json()
    assert c.post("/things", json={field: value}).status_code == 409


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("id_kind", ["integer", "string"])
def test_a_change_on_the_list_path_names_its_item_by_the_body_id(mock: Any, method: str, id_kind: str) -> None:
    schema = {"type": "object", "properties": {"id": {"type": id_kind}, "name": {"type": "string"}}}
    paths = {
        "/pets": {
            "post": {"requestBody": body(schema), "responses": ok(schema)},
            method: {"requestBody": body(schema), "responses": ok(schema)},
        },
        "/pets/{petId}": {"parameters": [param("petId", {"type": id_kind})], "get": {"responses": ok(schema)}},
    }
    c = mock(document(paths, {}))
    pet = c.post("/pets", json={"name": "Rex"}).json()
    changed = c.request(method.upper(), "/pets", json={"id": pet["id"], "name": "Max"})
    assert changed.status_code == 200 and changed.json() == {"id": pet["id"], "name": "Max"}
    assert c.get(f"/pets/{pet['id']}").json()["name"] == "Max"
    other = 999 if id_kind == "integer" else "999"
    assert c.request(method.upper(), "/pets", json={"id": other, "name": "Max"}).status_code == 404


# -- what a replace keeps --------------------------------------------------------------------------


@pytest.mark.parametrize("created", ["createdAt", "created_at", "creationDate"])
def test_a_replace_keeps_the_server_fields(mock: Any, created: str) -> None:
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "owner": {"type": "string", "readOnly": True},
            "environments": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            created: {"type": "string", "format": "date-time"},
        },
        "required": ["id", "name", "owner", "environments", created],
    }
    update = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "owner": {"type": "string", "readOnly": True}},
    }
    paths = {
        "/projects": {"post": {"requestBody": body(update), "responses": ok(ref("Item"))}},
        "/projects/{id}": {
            "parameters": [param("id")],
            "get": {"responses": ok(ref("Item"))},
            "put": {"requestBody": body(update), "responses": ok(ref("Item"))},
        },
    }
    clock = MockClock(frozen=True, start=datetime(2026, 1, 1, tzinfo=UTC))
    c = mock(document(paths, {"Item": item}), clock)
    project = c.post("/projects", json={"name": "p1"}).json()
    clock.advance(3600)
    replaced = c.put(f"/projects/{project['id']}", json={"name": "p2", "owner": "mallory"}).json()
    assert replaced == {**project, "name": "p2"}


@pytest.mark.parametrize("documented", ["example", "schema"])
def test_a_delete_whose_success_declares_a_body_answers_one(mock: Any, documented: str) -> None:
    """A DELETE documented as 200 with a JSON body (apideck's `{status_code, data: {id}}`) answers
    that body, its example or data from its schema; it answered 200 with nothing and no
    Content-Type (corpus sweep, after the merges)."""
    item = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    deleted = {
        "type": "object",
        "required": ["status_code", "data"],
        "properties": {"status_code": {"type": "integer"}, "data": {"type": "object", "required": ["id"],
                       "properties": {"id": {"type": "string"}}}},
    }  # fmt: skip
    answer = {"200": {"description": "deleted", "content": {"application/json": {"schema": deleted}}}}
    if documented == "example":
        answer["200"]["content"]["application/json"]["example"] = {"status_code": 200, "data": {"id": "12"}}
    paths = {
        "/things": {"post": {"requestBody": body(item), "responses": ok(item, "201")}},
        "/things/{id}": {
            "parameters": [param("id", {"type": "integer"})],
            "get": {"responses": ok(item)},
            "delete": {"responses": answer},
        },
    }
    c = mock(document(paths, {}))
    thing = c.post("/things", json={"name": "n"}).json()
    gone = c.delete(f"/things/{thing['id']}")
    assert gone.status_code == 200 and gone.headers["content-type"].startswith("application/json")
    assert Draft202012Validator(deleted).is_valid(gone.json()), gone.json()
    if documented == "example":
        assert gone.json() == {"status_code": 200, "data": {"id": "12"}}
    assert c.get(f"/things/{thing['id']}").status_code == 404
    assert c.delete(f"/things/{thing['id']}").status_code == 404
