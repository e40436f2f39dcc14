"""Inference on the layouts vendors publish: each rule over a class of small documents written
here, then the vendor flows (Versori's layouts reproduced in tests/layouts/, Swagger's Petstore 3
vendored in tests/thirdparty/). Every response is checked against its document."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from conftest import conformance_hook
from specmock import MockApp
from specmock._clock import MockClock
from specmock._errors import LoadError
from specmock._spec.extension_schema import FAMILY_SCHEMA, OPERATION_SCHEMA
from specmock._spec.infer import infer
from specmock._spec.loader import read_document
from specmock._spec.regex_sample import sample_pattern
from specmock._testing.transport import SyncASGITransport

TESTS = Path(__file__).parent
CONNECT = TESTS / "layouts" / "versori-connect-layout.yaml"
PLATFORM = TESTS / "layouts" / "versori-platform-layout.yaml"
PETSTORE3 = TESTS / "thirdparty" / "swagger-petstore-3.yaml"
ORG = "01HFS2NEAZ6ECZBZMN4FF775P7"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ERROR = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}


def ok(schema: Any, status: str = "200") -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def body(schema: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind}}


def document(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    missing = {"description": "absent", "content": {"application/json": {"schema": ref("Error")}}}
    for item in paths.values():
        for op in item.values():
            if isinstance(op, dict) and "responses" in op:
                op["responses"].setdefault("404", missing)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Layout", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR, **schemas}},
    }


def serve(spec: Path, clock: MockClock | None = None) -> httpx.Client:
    app = MockApp([spec], seed=1, clock=clock)
    return httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://testserver",
        headers={"Authorization": "Bearer any-token", "api_key": "any"},
        event_hooks={"response": [conformance_hook(app)]},
    )


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[Any]:
    """`mock(document)`: a client of the document written to a file."""
    clients: list[httpx.Client] = []

    def start(data: dict[str, Any], clock: MockClock | None = None) -> httpx.Client:
        spec = tmp_path / f"api{len(clients)}.json"
        spec.write_text(json.dumps(data))
        clients.append(serve(spec, clock))
        return clients[-1]

    yield start
    for c in clients:
        c.close()


def thing(**extra: Any) -> dict[str, Any]:
    props = {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}, **extra}
    return {"type": "object", "properties": props, "required": ["id", "name"]}


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


# -- the vendor layouts ----------------------------------------------------------------------------


def test_versori_connect_layout_serves_connectors_with_zero_configuration() -> None:
    base = f"/api/connect/v1/o/{ORG}"
    with serve(CONNECT) as c:
        created = c.post(f"{base}/protocols/http/connectors", json={"name": "hook", "baseUrl": "https://x.example"})
        assert created.status_code == 201
        connector = created.json()
        assert ULID.match(connector["id"]) and connector["protocol"] == "http"
        assert connector["organisationId"] == ORG
        first, second = c.get(f"{base}/connectors/{connector['id']}"), c.get(f"{base}/connectors/{connector['id']}")
        assert first.json() == second.json() == connector
        listed = c.get(f"{base}/connectors").json()
        assert listed == {"totalCount": 1, "connectors": [connector]}
        bq = c.post(f"{base}/protocols/bigquery/connectors", json={"name": "bq", "datasetId": "p.d"}).json()
        assert bq["protocol"] == "bigquery"
        assert c.get(f"{base}/connectors", params={"first": 1}).json()["totalCount"] == 2
        put = {"protocol": "http", "name": "renamed", "baseUrl": "https://y.example", "public": True}
        replaced = c.put(f"{base}/connectors/{connector['id']}", json=put).json()
        assert replaced["name"] == "renamed" and replaced["createdAt"] == connector["createdAt"]
        assert c.delete(f"{base}/connectors/{connector['id']}").status_code == 204
        assert c.get(f"{base}/connectors/{connector['id']}").status_code == 404
        assert c.get(f"{base}/connectors").json()["totalCount"] == 1


def test_versori_platform_layout_quirks() -> None:
    clock = MockClock(frozen=True, start=datetime(2026, 1, 1, tzinfo=UTC))
    with serve(PLATFORM, clock) as c:
        base = f"/api/v2/o/{ORG}"
        projects = [c.post(f"{base}/projects", json={"name": f"p{n}"}).json() for n in range(2)]
        assert all(ULID.match(p["id"]) for p in projects)  # not "1", "2"
        clock.advance(60)
        replaced = c.put(f"{base}/projects/{projects[0]['id']}", json={"name": "renamed"}).json()
        assert replaced["createdAt"] == projects[0]["createdAt"] != replaced["updatedAt"]
        assert replaced["environments"] == projects[0]["environments"]
        assert c.get(f"{base}/projects").json()["totalCount"] == 2
        kv = f"/api/v2/store/{ORG}/kv/colour"
        assert c.put(kv, json={"value": "blue"}).status_code == 200  # an upsert, not a 404
        assert c.get(kv).json()["value"] == "blue"


def test_petstore_3_keeps_the_users_key_and_replaces_pets_by_body_id() -> None:
    with serve(PETSTORE3) as c:
        user = c.post("/api/v3/user", json={"username": "jdoe", "firstName": "John", "email": "j@example.com"})
        assert user.json()["username"] == "jdoe"
        assert c.get("/api/v3/user/jdoe").json() == user.json()
        pet = c.post("/api/v3/pet", json={"name": "Rex", "photoUrls": []}).json()
        changed = c.put("/api/v3/pet", json={"id": pet["id"], "name": "Max", "photoUrls": [], "status": "sold"})
        assert changed.status_code == 200 and changed.json()["name"] == "Max"
        assert c.get(f"/api/v3/pet/{pet['id']}").json() == changed.json()


# -- the inference invariant -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [CONNECT, PLATFORM, *sorted((TESTS / "thirdparty").glob("*.yaml"))], ids=lambda p: p.name
)
def test_inferred_extensions_pass_the_extension_schema(spec: Path) -> None:
    inferred = infer(read_document(spec).data)
    assert not list(Draft202012Validator(FAMILY_SCHEMA).iter_errors(inferred.family))
    for ext in inferred.operations.values():
        assert not list(Draft202012Validator(OPERATION_SCHEMA).iter_errors(ext)), ext


# -- overlays are checked against the document -----------------------------------------------------

PETSTORE = TESTS / "thirdparty" / "petstore-expanded.yaml"  # pets: integer ids, no timestamps
PLAIN_BAD = {
    "uuid on an integer id": "x-specmock:\n  collections:\n    pets:\n      id: {style: uuid}\n",
    "sequential on an integer id": "x-specmock:\n  collections:\n    pets:\n      id:\n        style: sequential\n",
    "a timestamp on an integer field": "x-specmock:\n  collections:\n    pets:\n      timestamps: {created: id}\n",
    "a default of the wrong type": "x-specmock:\n  collections:\n    pets:\n      defaults: {name: 7}\n",
}


@pytest.mark.parametrize("case", sorted(PLAIN_BAD))
def test_an_overlay_breaking_the_documents_items_is_refused_at_its_line(tmp_path: Path, case: str) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text(PLAIN_BAD[case])
    with pytest.raises(LoadError) as caught:
        MockApp([PETSTORE], overlays=[overlay])
    message = str(caught.value)
    assert message.startswith((f"{overlay}:4:", f"{overlay}:5:")), message
    assert "would break the document's schema" in message and "'pets'" in message


def test_an_overlay_document_action_is_refused_at_the_action_that_declared_it(tmp_path: Path) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $['x-specmock'].collections.pets\n    update: {label: Pet}\n"
        "  - target: $['x-specmock'].collections.pets\n    update:\n      id: {style: ulid}\n"
    )
    with pytest.raises(LoadError, match=r"o\.yaml:8: collection 'pets': a ulid id"):
        MockApp([PETSTORE], overlays=[overlay])


@pytest.mark.parametrize(
    "text",
    [
        "x-specmock:\n  collections:\n    pets:\n      label: Animal\n      defaults: {tag: none}\n",
        "x-specmock:\n  collections:\n    pets:\n      id: {style: integer}\n",
    ],
)
def test_an_overlay_that_fits_the_document_is_served(tmp_path: Path, text: str) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text(text)
    with serve_with(PETSTORE, overlay) as c:
        pet = c.post("/api/pets", json={"name": "Rex"}).json()
        assert isinstance(pet["id"], int)


def serve_with(spec: Path, overlay: Path) -> httpx.Client:
    app = MockApp([spec], seed=1, overlays=[overlay])
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


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
