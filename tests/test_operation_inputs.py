"""Every operation as a client meets it when the request is wrong: credentials (401), bad input
(400, 415), unknown ids and paths (404), methods (405), and fields no schema declares (not stored).

Every request goes through the `client` fixture, so every response is also checked against the
operation's own response schema; every error is checked to be in the family's format and to name
what was wrong (operations_support.error).
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BEARER, OTHER_ORG, SDE_TOKEN, VERSORI
from operations_support import (
    ALM,
    ANALYSIS,
    BASIC,
    CREDENTIALS,
    FORM,
    GITHUB,
    JSON,
    KEY_A,
    OPERATIONS,
    RALLY,
    SCAN,
    SHOPIFY,
    UNKNOWN,
    assert_error,
    error,
    family_of,
    send,
    versori_update,
    without,
)

# The fixtures, by the names the tests ask for: `client` and `ids` ask for this module's `app`, not conftest's.
from operations_support import bundled_families as bundled_families
from operations_support import frozen_app as frozen_app
from operations_support import frozen_client as frozen_client
from operations_support import one_of_each as one_of_each
from operations_support import response_check as response_check
from samples import fill


def test_the_table_names_every_served_operation(app):
    assert sorted(OPERATIONS) == sorted(op.qualified_id for op in app.operations)
    assert len(OPERATIONS) == 26


# -- 401 -------------------------------------------------------------------------------------------------------------

WRONG_SCHEME = {"appsecplus": BASIC, "versori": BASIC, "sdelements": BEARER}
EMPTY_TOKEN = {
    "appsecplus": {"Authorization": "Bearer "},
    "versori": {"Authorization": "Bearer "},
    "sdelements": {"Authorization": "Token "},
}
CHALLENGE = {"appsecplus": "Bearer", "versori": "Bearer", "sdelements": "Token"}


@pytest.mark.parametrize("credentials", ["none", "wrong scheme", "empty token"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_401_without_valid_credentials(client, app, operation, credentials):
    method, path, body = OPERATIONS[operation]
    family = operation.split(":")[0]
    headers = {"none": {}, "wrong scheme": WRONG_SCHEME[family], "empty token": EMPTY_TOKEN[family]}[credentials]
    ids = {"conn": "conn-001", "scan": "scan-001", "cid": UNKNOWN}  # credentials are checked before anything else
    before = app.state()
    response = client.request(method, fill(path, ids), headers=headers, json=fill(body, ids))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith(CHALLENGE[family])
    assert app.state() == before


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"Authorization": 'Token "YOUR SDE ACCESS TOKEN"'}, id="quoted token"),
        pytest.param({"Authorization": "Token 0123456789abcdef"}, id="bare token"),
        pytest.param({"Authorization": "Token '0123456789abcdef'"}, id="single-quoted token"),
        pytest.param(BASIC, id="basic"),
        pytest.param({"Cookie": "sessionid=abc123"}, id="session cookie"),
    ],
)
def test_sdelements_accepts_a_token_quoted_or_not_basic_and_a_session(client, credentials):
    response = client.get(ALM, headers=credentials)
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["results"]] == [1, 2]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"Authorization": 'Token ""'}, id="quoted empty token"),
        pytest.param({"Authorization": "Basic not-base64!"}, id="malformed basic"),
        pytest.param({"Authorization": "Basic dXNlcg=="}, id="basic without password"),
        pytest.param({"Cookie": "sessionid="}, id="empty session"),
    ],
)
def test_sdelements_refuses_empty_or_malformed_credentials(client, credentials):
    assert_error(client.get(ALM, headers=credentials), 401)


# -- 400 -------------------------------------------------------------------------------------------------------------


def bad(operation: str, kind: str, field: str | None, **request: Any) -> Any:
    return pytest.param(operation, request, field, id=f"{operation} {kind}")


MALFORMED = {"content": b'{"name": "x",', "headers": JSON}

BAD_INPUTS = [
    # AppSec+
    bad("appsecplus:RegisterConnector", "malformed JSON", None, **MALFORMED),
    bad("appsecplus:RegisterConnector", "wrong type", "name", json={**GITHUB, "name": 42}),
    bad("appsecplus:RegisterConnector", "unknown enum value", "type", json={**GITHUB, "type": "svn"}),
    bad("appsecplus:RegisterConnector", "missing required field", "config", json=without(GITHUB, "config")),
    bad("appsecplus:RegisterConnector", "additional property", "status", json={**GITHUB, "status": "active"}),
    bad("appsecplus:RegisterConnector", "empty config", "config", json={**GITHUB, "config": {}}),
    bad("appsecplus:RegisterConnector", "invalid URI", "config.apiUrl", json={**GITHUB, "config": {"apiUrl": "x y"}}),
    bad("appsecplus:RegisterConnector", "not an object", None, json=[GITHUB]),
    bad("appsecplus:UpdateConnector", "malformed JSON", None, **MALFORMED),
    bad("appsecplus:UpdateConnector", "wrong type", "config", json={"config": "https://api.github.com"}),
    bad("appsecplus:UpdateConnector", "unknown enum value", "status", json={"status": "paused"}),
    bad("appsecplus:UpdateConnector", "additional property (type cannot change)", "type", json={"type": "gitlab"}),
    bad("appsecplus:UpdateConnector", "empty body", None, json={}),
    bad("appsecplus:ListScans", "bad status filter", "status", params={"status": "bogus"}),
    bad("appsecplus:TriggerScan", "malformed JSON", None, **MALFORMED),
    bad("appsecplus:TriggerScan", "wrong type", "applicationId", json={**SCAN, "applicationId": 12345}),
    bad("appsecplus:TriggerScan", "unknown enum value", "scanType", json={**SCAN, "scanType": "iast"}),
    bad("appsecplus:TriggerScan", "missing required field", "scanType", json=without(SCAN, "scanType")),
    bad("appsecplus:TriggerScan", "additional property", "priority", json={**SCAN, "priority": "high"}),
    bad("appsecplus:TriggerScan", "too long", "triggeredBy", json={**SCAN, "triggeredBy": "x" * 201}),
    # Versori
    bad("versori:CreateHTTPConnector", "malformed JSON", None, **MALFORMED),
    bad("versori:CreateHTTPConnector", "wrong type", "public", json={**SHOPIFY, "public": "yes"}),
    bad(
        "versori:CreateHTTPConnector",
        "unknown schemeType",
        "authSchemeConfigs[0].schemeType",
        json={**SHOPIFY, "authSchemeConfigs": [{"id": KEY_A, "description": "d", "schemeType": "kerberos"}]},
    ),
    bad(
        "versori:CreateHTTPConnector",
        "unknown enum value",
        "authSchemeConfigs[0].in",
        json={**SHOPIFY, "authSchemeConfigs": [{**SHOPIFY["authSchemeConfigs"][0], "in": "body"}]},
    ),
    bad(
        "versori:CreateHTTPConnector",
        "missing field of the scheme",
        "authSchemeConfigs[0].name",
        json={**SHOPIFY, "authSchemeConfigs": [without(SHOPIFY["authSchemeConfigs"][0], "name")]},
    ),
    bad("versori:CreateHTTPConnector", "missing required field", "baseUrl", json=without(SHOPIFY, "baseUrl")),
    bad("versori:CreateHTTPConnector", "tags not lists", "tags.category", json={**SHOPIFY, "tags": {"category": "x"}}),
    bad(
        "versori:CreateHTTPConnector",
        "organisation not a ULID",
        "organisation_id",
        path="/api/connect/v1/o/acme/protocols/http/connectors",
    ),
    bad("versori:ListConnectors", "first=0", "first", params={"first": "0"}),
    bad("versori:ListConnectors", "first=101", "first", params={"first": "101"}),
    bad("versori:ListConnectors", "first not a number", "first", params={"first": "ten"}),
    bad("versori:ListConnectors", "bad sort", "sort", params={"sort": "name"}),
    bad("versori:ListConnectors", "unknown cursor", "after", params={"after": UNKNOWN}),
    bad("versori:ListConnectors", "unknown category", "categories[0]", params={"categories": "Gardening"}),
    bad("versori:GetConnector", "id not a ULID", "connector_id", path=f"{VERSORI}/connectors/conn-001"),
    bad("versori:UpdateConnector", "malformed JSON", None, **MALFORMED),
    bad("versori:UpdateConnector", "missing required field", "name", json=without(versori_update(), "name")),
    bad("versori:UpdateConnector", "other protocol", "protocol", json=versori_update(protocol="bigquery")),
    bad("versori:UpdateConnector", "wrong type", "public", json=versori_update(public="yes")),
    bad("versori:UpdateConnector", "id not the path's", "id", json=versori_update(UNKNOWN)),
    bad(
        "versori:UpdateConnector",
        "organisation not the path's",
        "organisationId",
        json=versori_update(organisationId=OTHER_ORG),
    ),
    bad(
        "versori:UpdateConnector",
        "authSchemeConfigIds not the existing ids",
        "authSchemeConfigIds",
        json=versori_update(authSchemeConfigIds=[KEY_A]),
    ),
    bad("versori:DeleteConnector", "force not a boolean", "force", params={"force": "maybe"}),
    bad("versori:DeleteConnector", "id not a ULID", "connector_id", path=f"{VERSORI}/connectors/42"),
    bad("versori:ListConnectorVersions", "first=0", "first", params={"first": "0"}),
    bad("versori:ListConnectorVersions", "unknown cursor", "after", params={"after": "9"}),
    bad("versori:CreateConnectorVersion", "malformed JSON", None, **MALFORMED),
    bad("versori:CreateConnectorVersion", "missing required field", "name", json={"fromVersion": "1"}),
    bad("versori:CreateConnectorVersion", "wrong type", "name", json={"name": 2}),
    bad("versori:CreateConnectorVersion", "empty name", "name", json={"name": ""}),
    bad("versori:CreateConnectorVersion", "reserved name latest", "name", json={"name": "latest"}),
    bad("versori:CreateConnectorVersion", "reserved name default", "name", json={"name": "default"}),
    bad(
        "versori:GetConnectorVersion",
        "connector id not a ULID",
        "connector_id",
        path=f"{VERSORI}/connectors/shopify/versions/1",
    ),
    bad(
        "versori:PublishConnector",
        "connector id not a ULID",
        "connector_id",
        path=f"{VERSORI}/connectors/shopify/versions/1/publish",
    ),
    bad(
        "versori:UnpublishConnector",
        "organisation not a ULID",
        "organisation_id",
        path="/api/connect/v1/o/acme/connectors/{cid}/versions/1/unpublish",
    ),
    # SD Elements
    bad("sdelements:ListAlmConnectors", "page_size not a number", "page_size", params={"page_size": "abc"}),
    bad("sdelements:ListAlmConnectors", "page_size=0", "page_size", params={"page_size": "0"}),
    bad("sdelements:ListAlmConnectors", "page=0", "page", params={"page_size": "1", "page": "0"}),
    bad("sdelements:CreateAlmConnector", "malformed JSON", None, **MALFORMED),
    bad("sdelements:CreateAlmConnector", "wrong type", "name", json={**RALLY, "name": 5}),
    bad("sdelements:CreateAlmConnector", "blank name", "name", json={**RALLY, "name": ""}),
    bad("sdelements:CreateAlmConnector", "missing required field", "params", json=without(RALLY, "params")),
    bad("sdelements:CreateAlmConnector", "system without id", "system.id", json={**RALLY, "system": {}}),
    bad("sdelements:CreateAlmConnector", "unknown ALM system", "system", json={**RALLY, "system": {"id": "bugzilla"}}),
    bad("sdelements:CreateAlmConnector", "wrong type (boolean)", "inaccessible", json={**RALLY, "inaccessible": "no"}),
    bad(
        "sdelements:CreateAlmConnector",
        "param not a scalar",
        "params.alm_server",
        json={**RALLY, "params": {"alm_server": {}}},
    ),
    bad("sdelements:UpdateAlmConnector", "malformed JSON", None, **MALFORMED),
    bad("sdelements:UpdateAlmConnector", "missing required field", "system", json=without(RALLY, "system")),
    bad("sdelements:UpdateAlmConnector", "unknown ALM system", "system", json={**RALLY, "system": {"id": "svn"}}),
    bad("sdelements:UpdateAlmConnector", "params not an object", "params", json={**RALLY, "params": ["a"]}),
    bad("sdelements:PartialUpdateAlmConnector", "malformed JSON", None, **MALFORMED),
    bad("sdelements:PartialUpdateAlmConnector", "blank name", "name", json={"name": ""}),
    bad("sdelements:PartialUpdateAlmConnector", "unknown ALM system", "system", json={"system": {"id": "svn"}}),
    bad("sdelements:PartialUpdateAlmConnector", "wrong type", "inaccessible", json={"inaccessible": "yes"}),
    bad("sdelements:ListAnalysisConnectors", "page_size not a number", "page_size", params={"page_size": "abc"}),
]


@pytest.mark.parametrize(("operation", "request_", "field"), BAD_INPUTS)
def test_400_for_bad_input_changes_nothing(client, app, ids, operation, request_, field):
    before = app.state()
    response = send(client, ids, operation, **request_)
    assert_error(response, 400, field)
    if "content" in request_:  # malformed JSON
        message, _ = error(response, 400)
        assert "JSON" in message
    assert app.state() == before


BODY_OPERATIONS = [name for name, (_, _, body) in OPERATIONS.items() if body is not None]


@pytest.mark.parametrize("operation", BODY_OPERATIONS)
def test_415_for_a_body_that_is_not_json(client, app, ids, operation):
    before = app.state()
    response = send(client, ids, operation, content=b"name=GitHub", headers=FORM)
    assert_error(response, 415)
    assert app.state() == before


@pytest.mark.parametrize(
    ("operation", "body", "fields"),
    [
        ("appsecplus:RegisterConnector", {}, ["config", "name", "type"]),
        ("appsecplus:TriggerScan", {}, ["applicationId", "scanType"]),
        ("versori:CreateHTTPConnector", {}, ["authSchemeConfigs", "baseUrl", "name"]),
        ("versori:UpdateConnector", {"id": "{cid}"}, ["baseUrl", "name", "organisationId", "protocol"]),
        ("sdelements:CreateAlmConnector", {}, ["name", "params", "system"]),
        ("sdelements:UpdateAlmConnector", {"name": "Rally"}, ["params", "system"]),
    ],
)
def test_every_missing_required_field_is_named_once(client, ids, operation, body, fields):
    response = send(client, ids, operation, json=body)
    _, named = error(response, 400)
    assert sorted(named) == fields
    if operation.startswith("sdelements:"):
        assert response.json() == {field: ["This field is required."] for field in fields}


# -- 404 -------------------------------------------------------------------------------------------------------------

NOT_FOUND = [
    ("appsecplus:GetConnector", "/connectors/conn-999", "Connector not found."),
    ("appsecplus:UpdateConnector", "/connectors/conn-999", "Connector not found."),
    ("appsecplus:DeleteConnector", "/connectors/conn-999", "Connector not found."),
    ("appsecplus:GetScan", "/scans/scan-999", "Scan not found."),
    ("versori:GetConnector", f"{VERSORI}/connectors/{UNKNOWN}", "connector not found"),
    ("versori:UpdateConnector", f"{VERSORI}/connectors/{UNKNOWN}", "connector not found"),
    ("versori:DeleteConnector", f"{VERSORI}/connectors/{UNKNOWN}", "connector not found"),
    ("versori:ListConnectorVersions", f"{VERSORI}/connectors/{UNKNOWN}/versions", "connector not found"),
    ("versori:CreateConnectorVersion", f"{VERSORI}/connectors/{UNKNOWN}/versions", "connector not found"),
    ("versori:GetConnectorVersion", f"{VERSORI}/connectors/{UNKNOWN}/versions/1", "connector not found"),
    ("versori:GetConnectorVersion", f"{VERSORI}/connectors/{{cid}}/versions/7", "connector version not found"),
    ("versori:PublishConnector", f"{VERSORI}/connectors/{{cid}}/versions/7/publish", "connector version not found"),
    ("versori:UnpublishConnector", f"{VERSORI}/connectors/{UNKNOWN}/versions/1/unpublish", "connector not found"),
    ("sdelements:GetAlmConnector", ALM + "99/", "Not found."),
    ("sdelements:GetAlmConnector", ALM + "github/", "Not found."),
    ("sdelements:UpdateAlmConnector", ALM + "99/", "Not found."),
    ("sdelements:UpdateAlmConnector", ALM + "abc/", "Not found."),
    ("sdelements:PartialUpdateAlmConnector", ALM + "99/", "Not found."),
    ("sdelements:DeleteAlmConnector", ALM + "99/", "Not found."),
    ("sdelements:DeleteAlmConnector", ALM + "0/", "Not found."),
    ("sdelements:GetAnalysisConnector", ANALYSIS + "2/", "Not found."),
    ("sdelements:GetAnalysisConnector", ANALYSIS + "fortify/", "Not found."),
]


@pytest.mark.parametrize(("operation", "path", "message"), NOT_FOUND, ids=[f"{o} {p}" for o, p, _ in NOT_FOUND])
def test_404_for_unknown_ids_changes_nothing(client, app, ids, operation, path, message):
    body = OPERATIONS[operation][2]
    if operation == "versori:UpdateConnector":
        body = versori_update(UNKNOWN)  # a body that names the path's connector, as required
    before = app.state()
    assert_error(send(client, ids, operation, path=path, json=body), 404, message=message)
    assert app.state() == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/connector", None),
        ("/scans/scan-001/results", None),
        (f"{VERSORI}/flows", None),
        ("/api/v2/users/", "Not found."),
    ],
)
def test_404_for_an_unknown_path_in_the_family_format(client, path, message):
    assert_error(client.get(path, headers=CREDENTIALS[family_of(path)]), 404, message=message)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/connectors", {"GET", "HEAD", "POST"}),
        ("POST", "/connectors/conn-001", {"GET", "HEAD", "PUT", "DELETE"}),
        ("DELETE", "/scans", {"GET", "HEAD", "POST"}),
        ("DELETE", f"{VERSORI}/connectors", {"GET", "HEAD"}),
        ("GET", f"{VERSORI}/connectors/{UNKNOWN}/versions/1/publish", {"POST"}),
        ("POST", ALM + "1/", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        ("PUT", ANALYSIS + "1/", {"GET", "HEAD"}),
    ],
)
def test_405_names_the_allowed_methods(client, method, path, allowed):
    response = client.request(method, path, headers=CREDENTIALS[family_of(path)])
    assert_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) == allowed


# -- what the mock keeps ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        pytest.param(f"{VERSORI}/protocols/http/connectors", {**SHOPIFY, "colour": "green"}, BEARER, id="versori"),
        pytest.param(ALM, {**RALLY, "colour": "green"}, SDE_TOKEN, id="sdelements"),
    ],
)
def test_fields_no_schema_declares_are_not_stored(client, path, body, headers):
    created = client.post(path, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert "colour" not in created.json()
