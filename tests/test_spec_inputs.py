"""What the spec loader accepts, converts, infers and refuses, one class of input at a time."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conftest import run_cli
from specmock import MockApp
from specmock._errors import LoadError
from specmock._spec.compiler import compile_family
from specmock._spec.infer import infer
from specmock._spec.openapi_versions import convert_schema
from specmock._spec.overlay import apply_overlay, parse_path
from specmock._spec.routing_trie import SegmentTrie
from specmock._spec.spec_loader import read_document
from specmock._spec.yaml_lines import load_yaml
from specmock._testing.transport import SyncASGITransport

PETSTORE = Path(__file__).parent / "thirdparty" / "petstore-expanded.yaml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def client(*specs: Path) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(MockApp(specs, seed=1)), base_url="http://testserver")


def doc(version: str, paths: str, components: str = "") -> str:
    return f"openapi: {version}\ninfo: {{title: Test API, version: '1'}}\npaths:\n{textwrap.indent(paths, '  ')}\n" + (
        f"components:\n{textwrap.indent(components, '  ')}\n" if components else ""
    )


THINGS = textwrap.dedent(
    """
    /things:
      get:
        responses:
          '200':
            description: ok
            content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}}}
      post:
        requestBody:
          required: true
          content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
        responses:
          '201':
            description: ok
            content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
    /things/{thingId}:
      parameters: [{name: thingId, in: path, required: true, schema: {type: string, format: uuid}}]
      get:
        responses:
          '200':
            description: ok
            content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
    """
)


# -- OpenAPI 3.0 read as 3.1 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"type": "string", "nullable": True}, [None, "a"], [1]),
        ({"type": "string", "enum": ["a"], "nullable": True}, [None, "a"], ["b"]),
        ({"$ref": "#/x", "nullable": True}, [None], []),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, [1], [0]),
        ({"type": "integer", "maximum": 10, "exclusiveMaximum": True}, [9], [10]),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": False}, [0], [-1]),
    ],
)
def test_30_schemas_mean_the_same_in_31(schema: dict[str, Any], valid: list[Any], invalid: list[Any]) -> None:
    from jsonschema import Draft202012Validator

    converted = convert_schema(schema)
    if "$ref" in schema:
        assert converted == {"anyOf": [{"$ref": "#/x"}], "type": "null"} or {"type": "null"} in converted["anyOf"]
        return
    validator = Draft202012Validator(converted)
    assert all(validator.is_valid(v) for v in valid)
    assert not any(validator.is_valid(v) for v in invalid)


def test_30_nested_schemas_and_examples_are_converted() -> None:
    converted = convert_schema(
        {
            "type": "object",
            "example": {"a": None},
            "properties": {"a": {"type": "string", "nullable": True}},
            "items": {"allOf": [{"type": "number", "nullable": True, "example": 1.5}]},
        }
    )
    assert converted["examples"] == [{"a": None}] and "example" not in converted
    assert converted["properties"]["a"]["type"] == ["string", "null"]
    assert converted["items"]["allOf"][0] == {"type": ["number", "null"], "examples": [1.5]}


def test_a_30_nullable_field_accepts_null_when_served(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "api.yaml",
        doc(
            "3.0.3",
            THINGS,
            "schemas:\n  Thing:\n    type: object\n    required: [name]\n    properties:\n"
            "      id: {type: string, format: uuid, readOnly: true}\n"
            "      name: {type: string}\n      note: {type: string, nullable: true}\n",
        ),
    )
    with client(spec) as c:
        created = c.post("/things", json={"name": "a", "note": None})
        assert created.status_code == 201, created.text
        assert len(created.json()["id"]) == 36  # format: uuid -> uuid ids
        assert c.post("/things", json={"name": "a", "note": 3}).status_code == 400


def test_swagger_2_is_refused_with_the_way_to_convert_it(tmp_path: Path) -> None:
    spec = write(tmp_path, "old.yaml", "swagger: '2.0'\ninfo: {title: Old, version: '1'}\npaths: {}\n")
    with pytest.raises(LoadError) as caught:
        MockApp([spec])
    assert "Swagger 2.0 is not supported" in str(caught.value) and "swagger2openapi" in str(caught.value)
    assert str(caught.value).startswith(f"{spec}:1:")
    done = run_cli("serve", "--spec", str(spec), "--port", "0")
    assert done.returncode == 2 and "Swagger 2.0" in done.stderr


def test_json_documents_load_like_yaml(tmp_path: Path) -> None:
    import json

    spec = tmp_path / "petstore.json"
    spec.write_text(json.dumps(yaml.safe_load(PETSTORE.read_text())))
    with client(spec) as c:
        assert c.post("/api/pets", json={"name": "Rex"}).status_code == 200
        assert c.get("/api/pets/1").json()["name"] == "Rex"


# -- external references --------------------------------------------------------------------------


def test_external_local_refs_are_followed_relative_to_their_file(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    write(
        tmp_path / "schemas",
        "thing.yaml",
        """
        Thing:
          type: object
          required: [name]
          properties:
            id: {type: string, format: uuid, readOnly: true}
            name: {$ref: '#/Name'}
            parts: {type: array, items: {$ref: 'part.yaml'}}
        Name: {type: string, minLength: 1}
        """,
    )
    write(
        tmp_path / "schemas",
        "part.yaml",
        "type: object\nproperties:\n  sub: {type: array, items: {$ref: 'part.yaml'}}\n",
    )
    paths = THINGS.replace("'#/components/schemas/Thing'", "'schemas/thing.yaml#/Thing'")
    spec = write(tmp_path, "api.yaml", doc("3.1.0", paths))
    with client(spec) as c:
        assert c.post("/things", json={"name": "a", "parts": [{"sub": [{}]}]}).status_code == 201
        assert c.post("/things", json={"name": ""}).status_code == 400  # the Name schema, two files away
        assert c.post("/things", json={"name": "b", "parts": [{"sub": [{"sub": 1}]}]}).status_code == 400


def test_a_missing_external_file_names_itself(tmp_path: Path) -> None:
    """Lenient: one warning naming the file, the reference matches any value; strict: refused."""
    spec = write(tmp_path, "api.yaml", doc("3.1.0", THINGS.replace("'#/components/schemas/Thing'", "'gone.yaml'")))
    (warning, *_) = MockApp([spec]).families[0].warnings
    assert "gone.yaml" in warning and warning.endswith("; any value matches it")
    with pytest.raises(LoadError, match=r"gone\.yaml"):
        MockApp([spec], strict=True)


def test_remote_refs_are_never_fetched(tmp_path: Path) -> None:
    remote = "'https://example.com/thing.yaml'"
    spec = write(tmp_path, "api.yaml", doc("3.1.0", THINGS.replace("'#/components/schemas/Thing'", remote)))
    (warning, *_) = MockApp([spec]).families[0].warnings
    assert "remote $ref 'https://example.com/thing.yaml' is not fetched" in warning
    with pytest.raises(LoadError, match="remote \\$ref"):
        MockApp([spec], strict=True)


# -- several specs ---------------------------------------------------------------------------------


def test_a_route_declared_by_two_specs_names_both_files_and_lines(tmp_path: Path) -> None:
    components = "schemas:\n  Thing: {type: object, properties: {id: {type: string}, name: {type: string}}}\n"
    first = write(tmp_path, "first.yaml", doc("3.1.0", THINGS, components))
    second = write(
        tmp_path,
        "second.yaml",
        doc("3.1.0", THINGS.replace("thingId", "id"), components).replace("Test API", "Other API"),
    )
    with pytest.raises(LoadError) as caught:
        MockApp([first, second])
    message = str(caught.value)
    assert message.startswith(f"{second}:") and f"{first}:" in message
    assert "GET /things is also declared by" in message


def test_a_users_spec_is_served_beside_the_bundled_ones_each_with_its_errors() -> None:
    from specmock._spec.bundled import bundled_specs

    with client(*bundled_specs(), PETSTORE) as c:
        pet = c.post("/api/pets", json={})
        assert pet.status_code == 400 and set(pet.json()) == {"code", "message"}
        connector = c.post("/connectors", json={}, headers={"Authorization": "Bearer t"})
        assert connector.status_code == 400 and "error" in connector.json()


# -- inference on messy documents -------------------------------------------------------------------


MESSY = """
/workspaces/{workspaceId}/connectors:
  get:
    operationId: listConnectors
    parameters: [{name: workspaceId, in: path, required: true, schema: {type: string}}]
    responses:
      '200':
        description: ok
        content:
          application/json:
            schema:
              type: object
              properties:
                total: {type: integer}
                connectors: {type: array, items: {$ref: '#/components/schemas/Connector'}}
/workspaces/{workspaceId}/protocols/http/connectors:
  post:
    operationId: createHttpConnector
    parameters: [{name: workspaceId, in: path, required: true, schema: {type: string}}]
    requestBody:
      content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}
    responses:
      default:
        description: whatever happened
        content:
          application/json:
            schema: {oneOf: [{$ref: '#/components/schemas/Connector'}, {$ref: '#/components/schemas/Problem'}]}
/workspaces/{workspaceId}/connectors/{connectorId}:
  parameters:
    - {name: workspaceId, in: path, required: true, schema: {type: string}}
    - {name: connectorId, in: path, required: true, schema: {type: string}}
  get:
    operationId: getConnector
    responses:
      '200':
        description: ok
        content: {application/json: {schema: {$ref: '#/components/schemas/Connector'}}}
      '404':
        description: nope
        content: {application/json: {schema: {$ref: '#/components/schemas/Problem'}}}
  patch:
    operationId: patchConnector
    requestBody:
      content: {application/json: {schema: {type: object, properties: {name: {type: string}}}}}
    responses:
      '200':
        description: ok
        content: {application/json: {schema: {$ref: '#/components/schemas/Connector'}}}
/bookings/{bookingId}:
  get:
    operationId: getBooking
    parameters: [{name: bookingId, in: path, required: true, schema: {type: integer}}]
    responses:
      '200':
        description: ok
        content:
          application/json:
            schema: {type: object, properties: {bookingId: {type: integer}, at: {type: string}}}
/health:
  get:
    operationId: health
    responses:
      '200':
        description: ok
        content: {application/json: {schema: {type: object}, example: {status: up}}}
"""

MESSY_COMPONENTS = """
schemas:
  Connector:
    type: object
    required: [id, name]
    properties:
      id: {type: string, readOnly: true}
      name: {type: string}
  Problem:
    type: object
    required: [error]
    properties:
      error: {type: string}
"""


def test_inference_matches_operations_to_collections_by_schema_not_path(tmp_path: Path) -> None:
    spec = write(tmp_path, "messy.yaml", doc("3.1.0", MESSY, MESSY_COMPONENTS))
    inferred = infer(load_yaml(spec).data)
    ops = {path: ext for (path, _method), ext in inferred.operations.items()}
    assert ops["/workspaces/{workspaceId}/protocols/http/connectors"] == {
        "action": "create",
        "collection": "connectors",
        "status": 201,  # only `default` documented
    }
    assert ops["/workspaces/{workspaceId}/connectors"] == {
        "action": "list",
        "collection": "connectors",
        "envelope": "connectors",
        "counts": ["total"],  # the envelope's count follows its items
    }
    assert inferred.family["collections"]["connectors"]["scope"] == {"workspaceId": "workspaceId"}
    assert inferred.family["collections"]["bookings"]["id"] == {"style": "integer", "field": "bookingId"}
    assert ops["/health"] == {"action": "example"}
    assert inferred.family["errors"]["body"] == {"error": "$message"}


def test_messy_document_is_stateful_per_scope(tmp_path: Path) -> None:
    spec = write(tmp_path, "messy.yaml", doc("3.1.0", MESSY, MESSY_COMPONENTS))
    with client(spec) as c:
        created = c.post("/workspaces/w1/protocols/http/connectors", json={"name": "hook"})
        assert created.status_code == 201
        cid = created.json()["id"]
        assert c.get(f"/workspaces/w1/connectors/{cid}").json() == created.json()
        assert c.get(f"/workspaces/w2/connectors/{cid}").json() == {"error": "Connector not found."}
        assert c.patch(f"/workspaces/w1/connectors/{cid}", json={"name": "renamed"}).json()["name"] == "renamed"
        assert c.get("/workspaces/w1/connectors").json()["connectors"][0]["name"] == "renamed"
        assert c.get("/workspaces/w2/connectors").json()["connectors"] == []
        assert c.get("/health").json() == {"status": "up"}


# -- overlays --------------------------------------------------------------------------------------


def test_the_printed_overlay_alone_gives_the_inferred_extension() -> None:
    """Applied to the bare document (inference off), the printed overlay compiles to the same routes."""
    printed = run_cli("infer", str(PETSTORE))
    assert printed.returncode == 0
    overlay_path = PETSTORE.parent / "does-not-matter.yaml"
    from specmock._spec.yaml_lines import parse_yaml

    overlay = parse_yaml(printed.stdout, overlay_path)
    bare = read_document(PETSTORE)
    applied = compile_family(bare.__class__(bare.path, apply_overlay(bare.data, overlay), bare.lines))
    routes = {(op.method, op.path, op.action, op.collection.name) for op in applied.operations}
    assert routes == {
        ("GET", "/api/pets", "list", "pets"),
        ("POST", "/api/pets", "create", "pets"),
        ("GET", "/api/pets/{id}", "get", "pets"),
        ("DELETE", "/api/pets/{id}", "delete", "pets"),
    }


@pytest.mark.parametrize(
    ("target", "steps"),
    [
        ("$", []),
        ("$.paths['/pets/{id}'].get", ["paths", "/pets/{id}", "get"]),
        ('$.paths["/a.b"]', ["paths", "/a.b"]),
        ("$.paths.*.get", ["paths", None, "get"]),
        ("$['x-specmock'].collections[*]", ["x-specmock", "collections", None]),
    ],
)
def test_overlay_targets(target: str, steps: list[str | None]) -> None:
    assert parse_path(target) == steps


def test_an_unsupported_overlay_target_names_its_line(tmp_path: Path) -> None:
    overlay = write(
        tmp_path,
        "o.yaml",
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $..get[?(@.x)]\n    update: {}\n",
    )
    with pytest.raises(LoadError) as caught:
        MockApp([PETSTORE], overlays=[overlay])
    assert str(caught.value).startswith(f"{overlay}:4:") and "unsupported JSONPath" in str(caught.value)


def test_overlay_remove_and_a_target_matching_nothing(tmp_path: Path) -> None:
    removing = write(
        tmp_path,
        "rm.yaml",
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.paths['/pets/{id}'].delete\n    remove: true\n",
    )
    routes = {(op.method, op.path) for op in MockApp([PETSTORE], overlays=[removing]).operations}
    assert ("DELETE", "/api/pets/{id}") not in routes and ("GET", "/api/pets/{id}") in routes
    missing = write(
        tmp_path,
        "miss.yaml",
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.paths['/nope'].get\n    update: {x: 1}\n",
    )
    with pytest.raises(LoadError, match="matches nothing"):
        MockApp([PETSTORE], overlays=[missing])


def test_an_overlay_for_another_spec_is_refused(tmp_path: Path) -> None:
    overlay = write(tmp_path, "o.yaml", "extends: other.yaml\nx-specmock: {family: x}\n")
    with pytest.raises(LoadError, match=r"extends 'other\.yaml'"):
        MockApp([PETSTORE], overlays=[overlay])


def test_a_broken_overlay_extension_is_a_load_error(tmp_path: Path) -> None:
    overlay = write(tmp_path, "o.yaml", "x-specmock:\n  collections:\n    pets:\n      id: {style: sideways}\n")
    with pytest.raises(LoadError, match="sideways"):
        MockApp([PETSTORE], overlays=[overlay])


# -- routing ---------------------------------------------------------------------------------------


def test_trie_prefers_literals_and_backs_off_to_parameters() -> None:
    trie: SegmentTrie[str] = SegmentTrie()
    for template in ("/v/{id}", "/v/latest/publish", "/v/{id}/items/{item}", "/v/latest", "/{a}/x"):
        trie.insert(template, template)
    assert trie.match("/v/latest") == ("/v/latest", [])
    assert trie.match("/v/latest/items/3") == ("/v/{id}/items/{item}", ["latest", "3"])  # back-off
    assert trie.match("/v/7/") == ("/v/{id}", ["7"])
    assert trie.match("/v/a%2Fb") == ("/v/{id}", ["a%2Fb"])
    assert trie.match("/v/") is None and trie.match("/v//") is None and trie.match("/q/x/y") is None
    assert trie.match("/v/x") == ("/v/{id}", ["x"])
    assert trie.match("/q/x") == ("/{a}/x", ["q"])


def test_routing_a_thousand_templates_costs_the_same_as_ten() -> None:
    """O(path segments): matching the last of 2,000 templates is not 200x slower than the last of 10."""
    import time

    def cost(n: int) -> float:
        trie: SegmentTrie[int] = SegmentTrie()
        for i in range(n):
            trie.insert(f"/r{i}/{{owner}}/items/{{id}}", i)
        started = time.perf_counter()
        for _ in range(2000):
            assert trie.match(f"/r{n - 1}/me/items/9") is not None
        return time.perf_counter() - started

    assert cost(2000) < cost(10) * 20
