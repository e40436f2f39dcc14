"""Versori Connect operations as a client meets them: connector round trips, auth scheme configs,
organisation scoping, PUT, cursor paging, versions (publish, aliases, names).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import BEARER, ORG, OTHER_ORG, VERSORI
from operations_support import (
    KEY_A,
    KEY_B,
    SHOPIFY,
    UNKNOWN,
    assert_error,
    versori_update,
    without,
)

# The fixtures, by the names the tests ask for: `client` and `ids` ask for this module's `app`, not conftest's.
from operations_support import bundled_families as bundled_families
from operations_support import frozen_app as frozen_app
from operations_support import frozen_client as frozen_client
from operations_support import one_of_each as one_of_each
from operations_support import response_check as response_check

# -- Versori ---------------------------------------------------------------------------------------------------------

CONNECTORS = f"{VERSORI}/connectors"


def create_connector(client: httpx.Client, org: str = ORG, **changes: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/connect/v1/o/{org}/protocols/http/connectors", json={**SHOPIFY, **changes}, headers=BEARER
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_versori_connector_round_trip(client):
    connector = create_connector(client)
    cid = connector["id"]
    assert connector["organisationId"] == ORG
    assert connector["protocol"] == "http"
    assert connector["connections"] == []
    assert [v["name"] for v in connector["versions"]] == ["1"]
    assert client.get(f"{CONNECTORS}/{cid}", headers=BEARER).json() == connector
    assert client.get(CONNECTORS, headers=BEARER).json() == {"totalCount": 1, "connectors": [connector]}

    updated = client.put(f"{CONNECTORS}/{cid}", json={**versori_update(cid), "name": "Shopify Plus"}, headers=BEARER)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Shopify Plus"
    assert client.get(f"{CONNECTORS}/{cid}", headers=BEARER).json() == updated.json()

    deleted = client.delete(f"{CONNECTORS}/{cid}", headers=BEARER)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.get(f"{CONNECTORS}/{cid}", headers=BEARER), 404, message="connector not found")
    assert_error(client.get(f"{CONNECTORS}/{cid}/versions", headers=BEARER), 404)  # its versions went with it
    assert client.get(CONNECTORS, headers=BEARER).json() == {"totalCount": 0, "connectors": []}


def auth_configs(connector: dict[str, Any]) -> list[dict[str, Any]]:
    return connector["authSchemeConfigs"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param([{"text": "Key looks fine", "severity": "info", "detail": ["checked"]}], id="messages"),
        pytest.param([{"text": 1, "severity": "fatal"}], id="messages of another shape"),
        pytest.param("all good", id="a string"),
        pytest.param({"text": "one"}, id="an object"),
        pytest.param(None, id="null"),
        pytest.param([1, [2], None], id="a list of anything"),
    ],
)
def test_versori_validation_messages_are_ignored_on_input(client, app, sent):
    """The vendor's schema: validationMessages "will be ignored if sent to the API"."""
    configs = [{**config, "validationMessages": sent} for config in SHOPIFY["authSchemeConfigs"]]
    connector = create_connector(client, authSchemeConfigs=configs)
    assert [c["validationMessages"] for c in auth_configs(connector)] == [[], []]
    (stored,) = app.state()["collections"]["versori.connectors"]
    assert [c["validationMessages"] for c in stored["item"]["authSchemeConfigs"]] == [[], []]


def test_versori_every_auth_scheme_config_carries_validation_messages(client):
    """Every response that shows a connector shows validationMessages on each of its configs."""
    connector = create_connector(client)
    cid = connector["id"]
    key_a, key_b = (c["id"] for c in auth_configs(connector))
    url = f"{CONNECTORS}/{cid}"
    shown = [
        connector,
        client.get(url, headers=BEARER).json(),
        client.get(CONNECTORS, headers=BEARER).json()["connectors"][0],
        client.put(url, json=versori_update(cid), headers=BEARER).json(),
        client.put(url, json={**versori_update(cid), "authSchemeConfigIds": [key_b, key_a]}, headers=BEARER).json(),
    ]
    for body in shown:
        assert [c.get("validationMessages") for c in auth_configs(body)] == [[], []], body


def test_versori_connectors_are_scoped_by_organisation(client, app):
    cid = create_connector(client)["id"]
    elsewhere = f"/api/connect/v1/o/{OTHER_ORG}/connectors"
    before = app.state()
    assert client.get(elsewhere, headers=BEARER).json() == {"totalCount": 0, "connectors": []}
    assert_error(client.get(f"{elsewhere}/{cid}", headers=BEARER), 404)
    assert_error(client.get(f"{elsewhere}/{cid}/versions/1", headers=BEARER), 404)
    update = versori_update(cid, organisationId=OTHER_ORG)
    assert_error(client.put(f"{elsewhere}/{cid}", json=update, headers=BEARER), 404)
    assert_error(client.post(f"{elsewhere}/{cid}/versions/1/publish", headers=BEARER), 404)
    assert_error(client.delete(f"{elsewhere}/{cid}", headers=BEARER), 404)
    assert app.state() == before
    # The same name in another organisation is another connector.
    other = create_connector(client, org=OTHER_ORG)
    assert other["organisationId"] == OTHER_ORG
    assert client.get(CONNECTORS, headers=BEARER).json()["totalCount"] == 1


def test_versori_put_replaces_every_mutable_field(client, app):
    connector = create_connector(client)
    cid = connector["id"]
    app.clock.advance(60)
    response = client.put(f"{CONNECTORS}/{cid}", json=versori_update(cid, name="Shopify Lite"), headers=BEARER)
    assert response.status_code == 200
    replaced = response.json()
    # Mutable fields the body leaves out are unset...
    for unset in ("tags", "documentationURL", "imageURL", "connectionVariables"):
        assert unset not in replaced, unset
    assert replaced["public"] is False
    # ...what PUT cannot change stays, and updatedAt moves to now.
    for kept in ("id", "organisationId", "protocol", "authSchemeConfigs", "connections", "versions", "createdAt"):
        assert replaced[kept] == connector[kept], kept
    assert replaced["name"] == "Shopify Lite"
    assert replaced["updatedAt"] == "2025-11-01T12:01:00Z"
    assert connector["updatedAt"] == "2025-11-01T12:00:00Z"
    assert client.get(f"{CONNECTORS}/{cid}", headers=BEARER).json() == replaced


def test_versori_put_must_name_the_connector_of_the_path(client, app):
    cid = create_connector(client)["id"]
    before = app.state()
    for body, field in [
        (versori_update(UNKNOWN), "id"),
        (versori_update(cid, organisationId=OTHER_ORG), "organisationId"),
        (without(versori_update(cid), "id"), "id"),
    ]:
        assert_error(client.put(f"{CONNECTORS}/{cid}", json=body, headers=BEARER), 400, field)
    assert app.state() == before


def test_versori_auth_scheme_config_ids_reorder_the_configs(client):
    connector = create_connector(client)
    cid = connector["id"]
    key_a, key_b = connector["authSchemeConfigs"]
    url = f"{CONNECTORS}/{cid}"

    reordered = client.put(url, json=versori_update(cid, authSchemeConfigIds=[KEY_B, KEY_A]), headers=BEARER)
    assert reordered.status_code == 200
    assert reordered.json()["authSchemeConfigs"] == [key_b, key_a]
    assert "authSchemeConfigIds" not in reordered.json()
    # Without the field the order stays; a list that adds or drops an id is refused.
    assert client.put(url, json=versori_update(cid), headers=BEARER).json()["authSchemeConfigs"] == [key_b, key_a]
    for ids in ([KEY_A], [KEY_A, KEY_B, UNKNOWN], [KEY_A, KEY_A]):
        response = client.put(url, json=versori_update(cid, authSchemeConfigIds=ids), headers=BEARER)
        assert_error(response, 400, "authSchemeConfigIds")
    assert client.get(url, headers=BEARER).json()["authSchemeConfigs"] == [key_b, key_a]


def test_versori_connector_lists_are_cursor_paged_sorted_and_filtered(client):
    shopify = create_connector(client)["id"]
    slack = create_connector(client, name="Slack", tags={"category": ["chat"]})["id"]
    salesforce = create_connector(client, name="Salesforce", tags={"category": ["crm", "e-commerce"]})["id"]

    def page(**params: str) -> tuple[int, list[str], str | None, str | None]:
        response = client.get(CONNECTORS, params=params, headers=BEARER)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["totalCount"], [c["name"] for c in body["connectors"]], body.get("next"), body.get("prev")

    assert page(first="2") == (3, ["Shopify", "Slack"], slack, None)
    assert page(first="2", after=slack) == (3, ["Salesforce"], None, salesforce)
    assert page(first="2", before=salesforce) == (3, ["Shopify", "Slack"], slack, None)
    assert page(first="1", after=shopify) == (3, ["Slack"], slack, slack)
    assert page(sort="name:desc")[1] == ["Slack", "Shopify", "Salesforce"]
    assert page(sort="name:asc")[1] == ["Salesforce", "Shopify", "Slack"]
    assert page(name="sHoP")[:2] == (1, ["Shopify"])
    assert page(tags="category:e-commerce")[:2] == (2, ["Shopify", "Salesforce"])
    assert page(tags="category:chat")[:2] == (1, ["Slack"])


def test_versori_versions_publish_unpublish_and_aliases(client):
    cid = create_connector(client)["id"]
    versions = f"{CONNECTORS}/{cid}/versions"

    def get(version: str) -> httpx.Response:
        return client.get(f"{versions}/{version}", headers=BEARER)

    listed = client.get(versions, headers=BEARER).json()
    assert listed["totalCount"] == 1
    (draft,) = listed["items"]
    assert (draft["name"], draft["isDefault"], draft["isLatest"], draft["publishedAt"]) == ("1", True, False, None)
    assert get("1").json() == draft
    assert get("default").json() == draft
    assert_error(get("latest"), 404, message="connector version not found")  # nothing is published yet

    created = client.post(versions, json={"name": "2"}, headers=BEARER)
    assert created.status_code == 201
    two = created.json()
    assert (two["name"], two["isDefault"], two["isLatest"], two["publishedAt"]) == ("2", False, False, None)
    assert_error(client.post(versions, json={"name": "2"}, headers=BEARER), 409)
    assert client.get(versions, headers=BEARER).json()["totalCount"] == 2

    published = client.post(f"{versions}/2/publish", headers=BEARER)
    assert published.status_code == 200
    assert list(published.json()) == ["version"]
    assert published.json()["version"]["isLatest"] is True
    assert published.json()["version"]["publishedAt"] == "2025-11-01T12:00:00Z"
    assert get("latest").json() == published.json()["version"]

    # Publishing another version makes it the latest, and only it.
    client.post(f"{versions}/1/publish", headers=BEARER)
    assert get("latest").json()["name"] == "1"
    assert get("2").json()["isLatest"] is False
    assert get("default").json()["name"] == "1"

    unpublished = client.post(f"{versions}/1/unpublish", headers=BEARER)
    assert unpublished.status_code == 200
    assert unpublished.json()["version"]["publishedAt"] is None
    assert unpublished.json()["version"]["isLatest"] is False
    assert_error(get("latest"), 404)
    # The connector embeds its versions as they are now.
    embedded = client.get(f"{CONNECTORS}/{cid}", headers=BEARER).json()["versions"]
    assert embedded == client.get(versions, headers=BEARER).json()["items"]


def test_versori_versions_are_cursor_paged(client):
    cid = create_connector(client)["id"]
    versions = f"{CONNECTORS}/{cid}/versions"
    for name in ("2", "3"):
        client.post(versions, json={"name": name}, headers=BEARER)
    first = client.get(versions, params={"first": "2"}, headers=BEARER).json()
    assert (first["totalCount"], [v["name"] for v in first["items"]], first["next"]) == (3, ["1", "2"], "2")
    rest = client.get(versions, params={"first": "2", "after": first["next"]}, headers=BEARER).json()
    assert ([v["name"] for v in rest["items"]], rest.get("next")) == (["3"], None)


def test_versori_duplicate_version_name_is_409_with_the_spec_message(client):
    versions = f"{CONNECTORS}/{create_connector(client)['id']}/versions"
    assert_error(
        client.post(versions, json={"name": "1"}, headers=BEARER),
        409,
        message="a version with this name already exists",
    )


def test_a_version_is_not_stored_with_the_version_it_was_created_from(client):
    versions = f"{CONNECTORS}/{create_connector(client)['id']}/versions"
    created = client.post(versions, json={"name": "2", "fromVersion": "1"}, headers=BEARER)
    assert created.status_code == 201
    version_fields = {"id", "name", "description", "isLatest", "isDefault", "createdAt", "updatedAt", "publishedAt"}
    assert set(created.json()) <= version_fields | {"messages"}
