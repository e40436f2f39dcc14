"""AppSec+ operations as a client meets them: connector and scan round trips, secrets, unique names,
conflicts, and ids a refused create does not use up (on a frozen clock: scans stay queued).
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BEARER, SDE_TOKEN
from operations_support import (
    ALM,
    GITHUB,
    RALLY,
    SCAN,
    assert_error,
)

# The fixtures, by the names the tests ask for: `client` and `ids` ask for this module's `app`, not conftest's.
from operations_support import bundled_families as bundled_families
from operations_support import frozen_app as frozen_app
from operations_support import frozen_client as frozen_client
from operations_support import one_of_each as one_of_each
from operations_support import response_check as response_check
from specmock import MockApp

# -- AppSec+ ---------------------------------------------------------------------------------------------------------


def test_appsecplus_connector_round_trip(client):
    created = client.post("/connectors", json=GITHUB, headers=BEARER)
    assert created.status_code == 201
    connector = created.json()
    assert connector["id"] == "conn-001"
    assert connector["status"] == "active"
    assert connector["config"] == {"apiUrl": "https://api.github.com", "organization": "example-org"}
    assert client.get("/connectors/conn-001", headers=BEARER).json() == connector
    assert client.get("/connectors", headers=BEARER).json() == [connector]

    updated = client.put("/connectors/conn-001", json={"status": "inactive"}, headers=BEARER)
    assert updated.status_code == 200
    assert updated.json() == {**connector, "status": "inactive"}  # fields not sent keep their value
    assert client.get("/connectors", headers=BEARER).json() == [updated.json()]

    deleted = client.delete("/connectors/conn-001", headers=BEARER)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.get("/connectors/conn-001", headers=BEARER), 404, message="Connector not found.")
    assert_error(client.delete("/connectors/conn-001", headers=BEARER), 404)
    assert client.get("/connectors", headers=BEARER).json() == []


def test_appsecplus_credentials_are_accepted_but_never_returned(client):
    config = {"apiUrl": "https://okta.example.com", "token": "t0k3n", "password": "pw", "clientSecret": "s3cr3t"}
    created = client.post("/connectors", json={"type": "okta", "name": "Okta", "config": config}, headers=BEARER)
    updated = client.put("/connectors/conn-001", json={"config": {**config, "token": "new"}}, headers=BEARER)
    read = client.get("/connectors/conn-001", headers=BEARER)
    (listed,) = client.get("/connectors", headers=BEARER).json()
    for connector in (created.json(), updated.json(), read.json(), listed):
        assert connector["config"] == {"apiUrl": "https://okta.example.com"}


def stored_config(app: MockApp, connector_id: str) -> dict[str, Any]:
    """What the mock holds (write-only secrets included), as /__specmock/state shows it."""
    items = app.state()["collections"]["appsecplus.connectors"]
    return next(e["item"]["config"] for e in items if e["key"] == connector_id)  # type: ignore[no-any-return]


def test_appsecplus_update_keeps_the_secrets_it_does_not_resend(client, app):
    """The document's own UpdateConnector sample sends a config without the token: the token stays."""
    client.post("/connectors", json=GITHUB, headers=BEARER)
    sample = {
        "name": "GitHub Updated",
        "config": {"apiUrl": "https://api.github.com", "organization": "example-org-updated"},
    }
    updated = client.put("/connectors/conn-001", json=sample, headers=BEARER)
    assert updated.status_code == 200
    assert updated.json()["config"] == sample["config"]  # the new config, secrets still hidden
    assert stored_config(app, "conn-001") == {**sample["config"], "token": "ghp_secret"}

    # A secret the update names replaces the stored one; fields of the old config it leaves out are gone.
    rotated = {"token": "ghp_rotated", "password": "pw"}
    client.put("/connectors/conn-001", json={"config": rotated}, headers=BEARER)
    assert stored_config(app, "conn-001") == rotated
    # An update that leaves config alone leaves every secret alone.
    client.put("/connectors/conn-001", json={"status": "inactive"}, headers=BEARER)
    assert stored_config(app, "conn-001") == rotated
    client.put("/connectors/conn-001", json={"config": {"apiUrl": "https://ghe.example.com"}}, headers=BEARER)
    assert stored_config(app, "conn-001") == {"apiUrl": "https://ghe.example.com", **rotated}


def test_appsecplus_connector_names_are_unique_on_create_and_rename(client, app):
    client.post("/connectors", json=GITHUB, headers=BEARER)
    client.post("/connectors", json={**GITHUB, "name": "GitHub Backup"}, headers=BEARER)
    before = app.state()
    duplicate = client.post("/connectors", json={**GITHUB, "type": "gitlab"}, headers=BEARER)
    assert_error(duplicate, 409, message="Connector with the same name already exists.")
    renamed = client.put("/connectors/conn-002", json={"name": "GitHub Main"}, headers=BEARER)
    assert_error(renamed, 409, message="Connector with the same name already exists.")
    assert app.state() == before
    # Keeping one's own name is no conflict.
    assert client.put("/connectors/conn-001", json={"name": "GitHub Main"}, headers=BEARER).status_code == 200


def test_appsecplus_scan_round_trip_and_filters(client):
    sast = client.post("/scans", json=SCAN, headers=BEARER)
    assert sast.status_code == 201
    assert sast.json() == {
        "id": "scan-001",
        "applicationId": "app-12345",
        "scanType": "sast",
        "status": "queued",
        "triggeredBy": "ci-pipeline",
        "startedAt": None,
        "completedAt": None,
        "summary": None,
    }
    dast = client.post("/scans", json={"applicationId": "app-12345", "scanType": "dast"}, headers=BEARER)
    assert dast.json()["id"] == "scan-002"
    assert dast.json()["triggeredBy"] == "api-client"  # the caller, when the request names none
    assert client.get("/scans/scan-001", headers=BEARER).json() == sast.json()

    def listed(**params: str) -> list[str]:
        response = client.get("/scans", params=params, headers=BEARER)
        assert response.status_code == 200
        return [scan["id"] for scan in response.json()]

    assert listed() == ["scan-001", "scan-002"]
    assert listed(applicationId="app-12345") == ["scan-001", "scan-002"]
    assert listed(applicationId="app-00001") == []
    assert listed(status="queued") == ["scan-001", "scan-002"]
    assert listed(status="completed") == []


def test_appsecplus_trigger_scan_conflicts_and_unknown_applications(client, app):
    client.post("/scans", json=SCAN, headers=BEARER)
    assert_error(client.post("/scans", json=SCAN, headers=BEARER), 409, message="Conflicting scan is already running.")
    assert_error(
        client.post("/scans", json={**SCAN, "applicationId": "app-99999"}, headers=BEARER),
        404,
        message="Application not found.",
    )
    app.clock.advance(3600)  # long enough for any scan to finish
    assert client.get("/scans/scan-001", headers=BEARER).json()["status"] in ("completed", "failed")
    assert client.post("/scans", json=SCAN, headers=BEARER).status_code == 201


@pytest.mark.parametrize(
    ("refused", "accepted", "new_id"),
    [
        pytest.param(
            ("/connectors", {**GITHUB, "type": "gitlab"}, BEARER),  # 409: the name is taken
            ("/connectors", {**GITHUB, "name": "GitLab"}, BEARER),
            "conn-002",
            id="appsecplus connector after a 409",
        ),
        pytest.param(
            ("/scans", {**SCAN, "applicationId": "app-99999"}, BEARER),  # 404: no such application
            ("/scans", {**SCAN, "scanType": "sca"}, BEARER),
            "scan-002",
            id="appsecplus scan after a 404",
        ),
        pytest.param(
            (ALM, {**RALLY, "system": {"id": "bugzilla"}}, SDE_TOKEN),  # 400: no such ALM system
            (ALM, RALLY, SDE_TOKEN),
            3,
            id="sdelements connector after a 400",
        ),
    ],
)
def test_a_refused_create_does_not_use_up_an_id(client, refused, accepted, new_id):
    """conn-001 and scan-001 exist; SD Elements has its fixture connectors 1 and 2."""
    client.post("/connectors", json=GITHUB, headers=BEARER)
    client.post("/scans", json=SCAN, headers=BEARER)
    path, body, headers = refused
    assert client.post(path, json=body, headers=headers).status_code in (400, 404, 409)
    path, body, headers = accepted
    created = client.post(path, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == new_id
