"""Real documents written by others, served with zero configuration.

The OpenAPI Initiative's Petstore (3.0) and Scalar's Galaxy (3.1), vendored
unchanged under tests/thirdparty/: no x-specmock, no overlay. Each must keep
state (what POST creates, GET returns, lists, replaces and deletes) and refuse
invalid bodies with 400 in the error shape the document itself declares.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from conftest import conformance_hook, run_cli
from specmock import MockApp
from specmock._spec.openapi_versions import convert_schema
from specmock._spec.schematools import inline_refs
from specmock._testing.transport import SyncASGITransport

THIRDPARTY = Path(__file__).parent / "thirdparty"
PETSTORE = THIRDPARTY / "petstore-expanded.yaml"
GALAXY = THIRDPARTY / "scalar-galaxy.yaml"
TOKEN = {"Authorization": "Bearer any-token"}


def serve(*specs: Path, overlays: tuple[Path, ...] = ()) -> httpx.Client:
    """An in-process client of a mock of `specs`, every response checked against its document."""
    app = MockApp(specs, seed=1, overlays=overlays)
    return httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://testserver",
        event_hooks={"response": [conformance_hook(app)]},
    )


def error_schema(spec: Path, pointer: str) -> Draft202012Validator:
    """A validator for the error body the document declares at `pointer` (3.0 read as 3.1)."""
    document = yaml.safe_load(spec.read_text())
    node: Any = document
    for part in pointer.split("/")[1:]:
        node = node[part]
    return Draft202012Validator(convert_schema(inline_refs(node, document)))


@pytest.fixture
def petstore() -> Iterator[httpx.Client]:
    with serve(PETSTORE) as client:
        yield client


@pytest.fixture
def galaxy() -> Iterator[httpx.Client]:
    with serve(GALAXY) as client:
        yield client


# -- Petstore (OpenAPI 3.0.0) ---------------------------------------------------------------


def test_petstore_round_trip_keeps_state(petstore: httpx.Client) -> None:
    created = petstore.post("/api/pets", json={"name": "Rex", "tag": "dog"})
    assert created.status_code == 200  # the only success Petstore documents for addPet
    pet = created.json()
    assert pet == {"name": "Rex", "tag": "dog", "id": pet["id"]} and isinstance(pet["id"], int)
    assert petstore.get(f"/api/pets/{pet['id']}").json() == pet
    other = petstore.post("/api/pets", json={"name": "Tom"}).json()
    assert other["id"] != pet["id"]
    assert petstore.get("/api/pets").json() == [pet, other]
    # Petstore documents no PUT: replacing is refused as the method the path does not have.
    replaced = petstore.put(f"/api/pets/{pet['id']}", json={"name": "Max"})
    assert replaced.status_code == 405 and "DELETE" in replaced.headers["allow"]
    assert petstore.delete(f"/api/pets/{pet['id']}").status_code == 204
    gone = petstore.get(f"/api/pets/{pet['id']}")
    assert gone.status_code == 404
    assert petstore.get("/api/pets").json() == [other]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": 7}, {"name": "Rex", "tag": ["dog"]}, [], "Rex", None],
    ids=["missing-name", "name-not-string", "tag-not-string", "array", "string", "null"],
)
def test_petstore_refuses_invalid_pets_in_its_error_shape(petstore: httpx.Client, body: Any) -> None:
    response = petstore.post("/api/pets", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 400
    validator = error_schema(PETSTORE, "#/components/schemas/Error")
    assert not list(validator.iter_errors(response.json())), response.text
    assert response.json()["code"] == 400
    assert petstore.get("/api/pets").json() == []  # a refused request changes nothing


def test_petstore_refuses_malformed_json_and_bad_ids_in_its_error_shape(petstore: httpx.Client) -> None:
    validator = error_schema(PETSTORE, "#/components/schemas/Error")
    for response in (
        petstore.post("/api/pets", content=b"{name", headers={"content-type": "application/json"}),
        petstore.get("/api/pets/not-a-number"),
        petstore.get("/api/pets", params={"limit": "many"}),
    ):
        assert response.status_code == 400, response.text
        assert not list(validator.iter_errors(response.json()))


# -- Galaxy (OpenAPI 3.1.1) -----------------------------------------------------------------


def test_galaxy_round_trip_keeps_state(galaxy: httpx.Client) -> None:
    created = galaxy.post("/planets", json={"name": "Mars", "description": "The red planet"}, headers=TOKEN)
    assert created.status_code == 201
    planet = created.json()
    assert planet["name"] == "Mars" and isinstance(planet["id"], int)
    assert galaxy.get(f"/planets/{planet['id']}").json() == planet
    assert galaxy.get("/planets").json() == {"data": [planet]}  # the list's envelope, from its schema
    replaced = galaxy.put(f"/planets/{planet['id']}", json={"name": "Venus", "description": None}, headers=TOKEN)
    assert replaced.status_code == 200
    assert replaced.json() == {"id": planet["id"], "name": "Venus", "description": None}
    assert galaxy.get(f"/planets/{planet['id']}").json() == replaced.json()
    assert galaxy.delete(f"/planets/{planet['id']}", headers=TOKEN).status_code == 204
    assert galaxy.get(f"/planets/{planet['id']}").status_code == 404
    assert galaxy.get("/planets").json() == {"data": []}


def test_galaxy_ignores_a_client_sent_read_only_id(galaxy: httpx.Client) -> None:
    planet = galaxy.post("/planets", json={"id": 999, "name": "Pluto"}, headers=TOKEN).json()
    assert planet["id"] != 999


@pytest.mark.parametrize(
    "body",
    [{}, {"name": 5}, {"name": "Mars", "description": 3}, ["Mars"]],
    ids=["missing-name", "name-not-string", "description-not-string", "array"],
)
def test_galaxy_refuses_invalid_planets_as_rfc7807(galaxy: httpx.Client, body: Any) -> None:
    response = galaxy.post("/planets", json=body, headers=TOKEN)
    assert response.status_code == 400
    problem = response.json()
    assert not list(error_schema(GALAXY, "#/components/schemas/BadRequestError").iter_errors(problem))
    assert problem["status"] == 400 and problem["detail"]
    assert galaxy.get("/planets").json() == {"data": []}


def test_galaxy_not_found_is_in_its_documented_shape(galaxy: httpx.Client) -> None:
    response = galaxy.get("/planets/12345")
    assert response.status_code == 404
    assert not list(error_schema(GALAXY, "#/components/schemas/NotFoundError").iter_errors(response.json()))


def test_galaxy_needs_the_credentials_it_documents(galaxy: httpx.Client) -> None:
    galaxy.event_hooks["response"] = []  # Galaxy requires credentials on createPlanet but documents no 401
    assert galaxy.post("/planets", json={"name": "Mars"}).status_code == 401
    assert galaxy.get("/planets").status_code == 200  # `security: [{}]`: open to anyone


def test_operations_outside_any_collection_answer_their_documented_example(galaxy: httpx.Client) -> None:
    token = galaxy.post("/auth/token", json={"email": "marc@scalar.com", "password": "i-love-scalar"})
    assert token.status_code == 201
    me = galaxy.get("/me", headers=TOKEN)
    assert me.status_code == 200 and isinstance(me.json(), dict)
    # The request is validated all the same (Galaxy documents no 400 for getToken: it is ours).
    galaxy.event_hooks["response"] = []
    assert galaxy.post("/auth/token", json={"email": 5}).status_code == 400


# -- specmock infer: the printed overlay serves the same --------------------------------------


def script(client: httpx.Client, base: str, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    """A create/get/list/invalid/delete sequence, as (status, body) pairs."""
    out: list[Any] = []
    for method, path, payload in (
        ("POST", base, body),
        ("GET", f"{base}/1", None),
        ("GET", base, None),
        ("POST", base, {"name": 12}),
        ("PUT", f"{base}/1", body),
        ("DELETE", f"{base}/1", None),
        ("GET", f"{base}/1", None),
    ):
        response = client.request(method, path, json=payload, headers=headers)
        out.append((response.status_code, response.json() if response.content else None))
    return out


@pytest.mark.parametrize(
    ("spec", "base", "body"),
    [(PETSTORE, "/api/pets", {"name": "Rex"}), (GALAXY, "/planets", {"name": "Mars"})],
    ids=["petstore", "galaxy"],
)
@pytest.mark.parametrize("form", ["overlay", "plain"])
def test_infer_output_served_as_an_overlay_behaves_as_inference(
    tmp_path: Path, spec: Path, base: str, body: dict[str, Any], form: str
) -> None:
    printed = run_cli("infer", str(spec), "--format", form)
    assert printed.returncode == 0, printed.stderr
    overlay = tmp_path / "behaviour.yaml"
    overlay.write_text(printed.stdout)
    with serve(spec) as inferred, serve(spec, overlays=(overlay,)) as overlaid:
        assert script(overlaid, base, body, TOKEN) == script(inferred, base, body, TOKEN)
    assert (
        MockApp([spec], overlays=[overlay]).families[0].collections.keys()
        == MockApp([spec]).families[0].collections.keys()
    )


def test_an_overlay_refines_what_inference_guessed(tmp_path: Path) -> None:
    overlay = tmp_path / "stray-pets.yaml"
    overlay.write_text(
        "overlay: 1.0.0\ninfo: {title: stray pets, version: '1'}\nactions:\n"
        "  - target: $['x-specmock'].collections.pets\n"
        "    update: {label: Animal, defaults: {tag: stray}}\n"
    )
    with serve(PETSTORE, overlays=(overlay,)) as client:  # (a uuid id would be refused: tests/test_inferred_layouts.py)
        pet = client.post("/api/pets", json={"name": "Rex"}).json()
        missing = client.get("/api/pets/999").json()
    assert isinstance(pet["id"], int) and pet["tag"] == "stray" and missing["message"] == "Animal not found."


def test_infer_prints_an_overlay_naming_the_spec() -> None:
    printed = run_cli("infer", str(PETSTORE))
    assert printed.returncode == 0, printed.stderr
    overlay = yaml.safe_load(printed.stdout)
    assert overlay["overlay"] == "1.0.0" and overlay["extends"] == "petstore-expanded.yaml"
    actions = {a["target"]: a["update"]["x-specmock"] for a in overlay["actions"]}
    assert actions["$"]["collections"]["pets"]["id"] == {"style": "integer"}
    assert actions["$.paths['/pets'].post"] == {"action": "create", "collection": "pets"}
    assert actions["$.paths['/pets/{id}'].delete"] == {"action": "delete", "collection": "pets"}
