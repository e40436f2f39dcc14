"""The bundled Versori family as the vendor's servers behave (versori/user-docs, openapi/connect-api-v1.yaml).

Versori decodes requests into its own types: what HTTPConnectorCreate or
HTTPConnectorUpdate does not declare (`connections`, `createdAt`, `authSchemeConfigs`
on an update, `versions`) is ignored, so a generated client that sends back the
connector it read changes only the mutable fields. Its `cookie` scheme is accepted
beside bearer tokens. All of it is declared in specs/versori-connect.yaml
(`undeclaredFields: ignore`, the `cookie` security scheme); the generic mechanism
(spec/undeclared.py) is tested on its own at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import BEARER, ORG, VERSORI, conformance_hook
from specmock import MockApp
from specmock._spec.undeclared import compile_projector
from specmock._testing.transport import SyncASGITransport

AUTH_SCHEME = {"id": "01HFS2NEAZ6ECZBZMN4FF775PA", "schemeType": "none", "description": "No authentication"}
CREATE = {"name": "Shopify", "baseUrl": "https://shop.example.com", "authSchemeConfigs": [AUTH_SCHEME]}


@pytest.fixture
def versori() -> Iterator[httpx.Client]:
    app = MockApp(seed=1)
    with httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://testserver",
        headers=BEARER,
        event_hooks={"response": [conformance_hook(app)]},
    ) as client:
        yield client


def create(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    created = client.post(f"{VERSORI}/protocols/http/connectors", json={**CREATE, **extra})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_a_create_ignores_what_the_client_may_not_set(versori: httpx.Client) -> None:
    connector = create(
        versori,
        createdAt="1999-01-01T00:00:00Z",
        updatedAt="1999-01-01T00:00:00Z",
        connections=[{"bogus": True}],
        versions=[],
        id="01HFS2NEAZ6ECZBZMN4FF775PB",
        organisationId="01HFS2NEAZ6ECZBZMN4FF775PC",
        color="blue",
    )
    assert connector["connections"] == [] and "color" not in connector
    assert connector["createdAt"] != "1999-01-01T00:00:00Z" and connector["updatedAt"] == connector["createdAt"]
    assert connector["id"] != "01HFS2NEAZ6ECZBZMN4FF775PB" and connector["organisationId"] == ORG
    assert [v["name"] for v in connector["versions"]] == ["1"]
    assert versori.get(f"{VERSORI}/connectors/{connector['id']}").json() == connector


def test_a_put_of_what_was_read_changes_only_the_mutable_fields(versori: httpx.Client) -> None:
    connector = create(versori)
    url = f"{VERSORI}/connectors/{connector['id']}"
    sent = {
        **connector,
        "name": "Shopify Admin",
        "baseUrl": "https://admin.example.com",
        "connections": [{"bogus": True}],
        "authSchemeConfigs": [],
        "versions": [],
        "createdAt": "1999-01-01T00:00:00Z",
    }
    replaced = versori.put(url, json=sent)
    assert replaced.status_code == 200, replaced.text
    after = versori.get(url).json()
    assert after["name"] == "Shopify Admin" and after["baseUrl"] == "https://admin.example.com"
    assert after["connections"] == [] and after["authSchemeConfigs"] == connector["authSchemeConfigs"]
    assert after["versions"] == connector["versions"] and after["createdAt"] == connector["createdAt"]
    assert after == replaced.json()


def test_the_cookie_scheme_is_accepted_beside_bearer(versori: httpx.Client) -> None:
    connector = create(versori)
    url = f"{VERSORI}/connectors/{connector['id']}"
    with_cookie = versori.get(url, headers={"Authorization": "", "Cookie": "cookie=session-value"})
    assert with_cookie.status_code == 200 and with_cookie.json()["id"] == connector["id"]
    assert versori.get(url, headers={"Authorization": ""}).status_code == 401


# -- the mechanism: properties a request schema does not declare ---------------------------------------------


def test_a_projector_keeps_only_what_the_schema_declares_at_every_depth() -> None:
    schema = {
        "type": "object",
        "allOf": [{"properties": {"a": {"type": "integer"}}}],
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"k": {}}}},
            "nested": {"oneOf": [{"properties": {"x": {}}}, {"properties": {"y": {}}}]},
            "free": {"type": "object", "additionalProperties": True},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    project = compile_projector(schema)
    assert project is not None
    sent = {
        "a": 1,
        "b": 2,
        "items": [{"k": 1, "z": 2}, 3],
        "nested": {"x": 1, "y": 2, "w": 3},
        "free": {"any": 1},
        "map": {"m": "n"},
    }
    assert project(sent) == {
        "a": 1,
        "items": [{"k": 1}, 3],
        "nested": {"x": 1, "y": 2},
        "free": {"any": 1},
        "map": {"m": "n"},
    }
    declared_only = {"a": 1}
    assert project(declared_only) is declared_only  # nothing copied when nothing is left out


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object"},
        {"type": "object", "properties": {"a": {}}, "additionalProperties": True},
        {"oneOf": [{"properties": {"a": {}}}, {"type": "object"}]},
        {"$ref": "#/components/schemas/Recursive"},
        {"type": "string"},
    ],
    ids=["no-properties", "additional-true", "an-open-branch", "recursive-ref", "not-an-object"],
)
def test_a_schema_that_allows_more_leaves_the_body_whole(schema: dict[str, Any]) -> None:
    assert compile_projector(schema) is None
