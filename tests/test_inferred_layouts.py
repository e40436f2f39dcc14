"""Inference on the layouts vendors publish: Versori's layouts reproduced in tests/layouts/, Swagger's
Petstore 3 vendored in tests/thirdparty/; the inferred extensions pass the extension schema; and
overlays are checked against the document they change (refused at their line, or served).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from inference_support import (
    CONNECT,
    ORG,
    PETSTORE3,
    PLATFORM,
    TESTS,
    ULID,
    serve,
)
from specmock import MockApp
from specmock._clock import MockClock
from specmock._errors import LoadError
from specmock._spec.extension_schema import FAMILY_SCHEMA, OPERATION_SCHEMA
from specmock._spec.infer import infer
from specmock._spec.spec_loader import read_document
from specmock._testing.transport import SyncASGITransport

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
