"""All 26 operations as a client meets them: credentials, bad input, unknown ids, and state round trips.

Every request goes through the `client` fixture, so every response is also checked
against the operation's own response schema. Error bodies are checked here to be in
the family's format, and to name what was wrong:

- AppSec+:        {"error": {"code", "message", "details": [{"field", "message"}]}}
- Versori:        {"code", "message", "fields": [{"field", "message"}]}
- SD Elements:    {"detail": "..."} or {"field": ["message"]} (Django REST Framework)

The mock runs on a frozen clock here: scans stay queued and timestamps move only
when a test advances time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from conftest import ALM_PARAMS, BEARER, ORG, OTHER_ORG, REQUIRED_ALM_PARAMS, SDE_TOKEN, VERSORI, conformance_hook
from samples import fill
from specmock import MockApp, MockClock, load_specs
from specmock._spec.model import Family
from specmock._testing.transport import SyncASGITransport

START = datetime(2025, 11, 1, 12, 0, 0, tzinfo=UTC)
BASIC = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}  # user:password
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
UNKNOWN = "01HFS2NEAZ6ECZBZMN4FF775ZZ"  # a well-formed ULID that names nothing
KEY_A = "01HFS2NEAZ6ECZBZMN4FF775PA"
KEY_B = "01HFS2NEAZ6ECZBZMN4FF775PB"
ALM = "/api/v2/connectors/alm/"
ANALYSIS = "/api/v2/connectors/analysis/"
CREDENTIALS = {"appsecplus": BEARER, "versori": BEARER, "sdelements": SDE_TOKEN}


@pytest.fixture(scope="module")
def families() -> list[Family]:
    """The bundled specs, compiled once for the module (apps share them: scenarios never change them)."""
    return load_specs()


@pytest.fixture(scope="module")
def conformance(families: list[Family]) -> Any:
    """conftest's response check, built once: it compiles a validator per (operation, status) and keeps it."""
    return conformance_hook(MockApp(families=families))


@pytest.fixture
def app(families: list[Family]) -> MockApp:
    """The mock on a frozen clock (overrides conftest's `app`)."""
    return MockApp(seed=1, clock=MockClock(frozen=True, start=START), families=families)


@pytest.fixture
def client(app: MockApp, conformance: Any) -> Iterator[httpx.Client]:
    """conftest's `client` for this module's `app`: every response is checked against the spec."""
    with httpx.Client(
        transport=SyncASGITransport(app), base_url="http://testserver", event_hooks={"response": [conformance]}
    ) as c:
        yield c


# -- request bodies --------------------------------------------------------------------------------------------------

GITHUB = {
    "type": "github",
    "name": "GitHub Main",
    "config": {"apiUrl": "https://api.github.com", "token": "ghp_secret", "organization": "example-org"},
}
SCAN = {"applicationId": "app-12345", "scanType": "sast", "triggeredBy": "ci-pipeline"}
SHOPIFY = {
    "name": "Shopify",
    "baseUrl": "https://example.myshopify.com/admin/api/2024-01",
    "authSchemeConfigs": [
        {
            "id": KEY_A,
            "description": "Admin API key",
            "schemeType": "api-key",
            "name": "X-Shopify-Access-Token",
            "in": "header",
        },
        {"id": KEY_B, "description": "No authentication", "schemeType": "none"},
    ],
    "connectionVariables": [{"name": "shop", "value": "example"}],
    "tags": {"category": ["e-commerce"]},
    "public": True,
    "documentationURL": "https://shopify.dev/docs/api",
    "imageURL": "https://cdn.example.com/shopify.png",
}
RALLY = {
    "name": "Rally Connector",
    "system": {"id": "rally"},
    "inaccessible": False,
    "params": {"alm_server": "rally1.rallydev.com", "alm_api_token": "token"},
}


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


def versori_update(connector_id: str = "{cid}", **changes: Any) -> dict[str, Any]:
    """The smallest valid UpdateConnector body, with `changes`."""
    body = {
        "id": connector_id,
        "organisationId": ORG,
        "name": "Shopify",
        "protocol": "http",
        "baseUrl": "https://example.myshopify.com/admin/api/2024-01",
    }
    return {**body, **changes}


# -- every operation -------------------------------------------------------------------------------------------------

# family:operationId -> (method, path, a valid body). {conn}, {scan} and {cid} name the resources of `ids`.
OPERATIONS: dict[str, tuple[str, str, Any]] = {
    "appsecplus:ListConnectors": ("GET", "/connectors", None),
    "appsecplus:RegisterConnector": ("POST", "/connectors", {**GITHUB, "name": "GitLab"}),
    "appsecplus:GetConnector": ("GET", "/connectors/{conn}", None),
    "appsecplus:UpdateConnector": ("PUT", "/connectors/{conn}", {"name": "GitHub Renamed"}),
    "appsecplus:DeleteConnector": ("DELETE", "/connectors/{conn}", None),
    "appsecplus:ListScans": ("GET", "/scans", None),
    "appsecplus:TriggerScan": ("POST", "/scans", {**SCAN, "scanType": "dast"}),
    "appsecplus:GetScan": ("GET", "/scans/{scan}", None),
    "versori:CreateHTTPConnector": ("POST", f"{VERSORI}/protocols/http/connectors", SHOPIFY),
    "versori:ListConnectors": ("GET", f"{VERSORI}/connectors", None),
    "versori:GetConnector": ("GET", f"{VERSORI}/connectors/{{cid}}", None),
    "versori:UpdateConnector": ("PUT", f"{VERSORI}/connectors/{{cid}}", versori_update()),
    "versori:DeleteConnector": ("DELETE", f"{VERSORI}/connectors/{{cid}}", None),
    "versori:ListConnectorVersions": ("GET", f"{VERSORI}/connectors/{{cid}}/versions", None),
    "versori:CreateConnectorVersion": ("POST", f"{VERSORI}/connectors/{{cid}}/versions", {"name": "2"}),
    "versori:GetConnectorVersion": ("GET", f"{VERSORI}/connectors/{{cid}}/versions/1", None),
    "versori:PublishConnector": ("POST", f"{VERSORI}/connectors/{{cid}}/versions/1/publish", None),
    "versori:UnpublishConnector": ("POST", f"{VERSORI}/connectors/{{cid}}/versions/1/unpublish", None),
    "sdelements:ListAlmConnectors": ("GET", ALM, None),
    "sdelements:CreateAlmConnector": ("POST", ALM, RALLY),
    "sdelements:GetAlmConnector": ("GET", ALM + "1/", None),
    "sdelements:UpdateAlmConnector": ("PUT", ALM + "1/", RALLY),
    "sdelements:DeleteAlmConnector": ("DELETE", ALM + "1/", None),
    "sdelements:PartialUpdateAlmConnector": ("PATCH", ALM + "1/", {"inaccessible": True}),
    "sdelements:ListAnalysisConnectors": ("GET", ANALYSIS, None),
    "sdelements:GetAnalysisConnector": ("GET", ANALYSIS + "1/", None),
}


@pytest.fixture
def ids(client: httpx.Client) -> dict[str, str]:
    """One resource of each kind, so that every path above names something that exists."""
    conn = client.post("/connectors", json=GITHUB, headers=BEARER).json()["id"]
    scan = client.post("/scans", json=SCAN, headers=BEARER).json()["id"]
    cid = client.post(f"{VERSORI}/protocols/http/connectors", json=SHOPIFY, headers=BEARER).json()["id"]
    return {"conn": conn, "scan": scan, "cid": cid}


def test_the_table_names_every_served_operation(app):
    assert sorted(OPERATIONS) == sorted(op.qualified_id for op in app.operations)
    assert len(OPERATIONS) == 26


# -- error formats ---------------------------------------------------------------------------------------------------

APPSEC_CODES = {
    400: "ValidationException",
    401: "UnauthorizedException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    409: "ConflictException",
    415: "UnsupportedMediaTypeException",
}
VERSORI_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
}


def family_of(path: str) -> str:
    if path.startswith("/api/connect/"):
        return "versori"
    if path.startswith("/api/v2/"):
        return "sdelements"
    return "appsecplus"


def _field_paths(errors: dict[str, Any], prefix: str = "") -> list[str]:
    """DRF nests field errors: {"system": {"id": ["..."]}} names system.id."""
    out = []
    for name, value in errors.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            out += _field_paths(value, path)
        else:
            assert isinstance(value, list) and value and all(isinstance(m, str) and m for m in value), errors
            out.append(path)
    return out


def error(response: httpx.Response, status: int) -> tuple[str, list[str]]:
    """Check `response` is a `status` error in its family's format; its message and the fields it names."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    family = family_of(response.request.url.path)
    if family == "appsecplus":
        assert list(body) == ["error"], body
        assert body["error"]["code"] == APPSEC_CODES[status], body
        details = body["error"].get("details", [])
        assert all(set(d) == {"field", "message"} for d in details), body
        return body["error"]["message"], [d["field"] for d in details]
    if family == "versori":
        assert body["code"] == VERSORI_CODES[status], body
        assert set(body) <= {"code", "message", "fields", "details"}, body
        fields = body.get("fields", [])
        assert all(set(f) == {"field", "message"} for f in fields), body
        return body["message"], [f["field"] for f in fields]
    if "detail" in body:
        assert list(body) == ["detail"] and isinstance(body["detail"], str), body
        return body["detail"], []
    assert status == 400, f"only a 400 names fields in DRF: {body}"
    return "", _field_paths(body)


def assert_error(response: httpx.Response, status: int, field: str | None = None, message: str | None = None) -> None:
    text, fields = error(response, status)
    assert text or fields, response.text
    if field is not None:
        assert field in fields, f"{field!r} is not among the fields named: {fields} ({response.text})"
    if message is not None:
        assert message in text, f"{message!r} is not in {text!r}"


def send(client: httpx.Client, ids: dict[str, str], operation: str, **request: Any) -> httpx.Response:
    """Call `operation` with the family's credentials; `request` may override path, headers and body."""
    method, path, body = OPERATIONS[operation]
    family = operation.split(":")[0]
    path = fill(request.pop("path", path), ids)
    headers = {**CREDENTIALS[family], **request.pop("headers", {})}
    if "json" not in request and "content" not in request and body is not None:
        request["json"] = body
    if "json" in request:
        request["json"] = fill(request["json"], ids)
    return client.request(method, path, headers=headers, **request)


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


# -- SD Elements -----------------------------------------------------------------------------------------------------

RALLY_SYSTEM = {"id": "rally", "short_name": "Rally", "name": "Rally"}


def test_sdelements_alm_connector_round_trip(client):
    created = client.post(ALM, json=RALLY, headers=SDE_TOKEN)
    assert created.status_code == 201
    assert created.json() == {**RALLY, "id": 3, "system": RALLY_SYSTEM}
    assert client.get(ALM + "3/", headers=SDE_TOKEN).json() == created.json()
    assert client.get(ALM + "3", headers=SDE_TOKEN).json() == created.json()  # the trailing slash is optional
    assert [c["id"] for c in client.get(ALM, headers=SDE_TOKEN).json()["results"]] == [1, 2, 3]

    replaced = client.put(ALM + "3/", json={**RALLY, "name": "Rally (EU)"}, headers=SDE_TOKEN)
    assert replaced.json() == {**created.json(), "name": "Rally (EU)"}
    patched = client.patch(ALM + "3/", json={"inaccessible": True}, headers=SDE_TOKEN)
    assert patched.json() == {**replaced.json(), "inaccessible": True}
    assert client.get(ALM + "3/", headers=SDE_TOKEN).json() == patched.json()

    deleted = client.delete(ALM + "3/", headers=SDE_TOKEN)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.get(ALM + "3/", headers=SDE_TOKEN), 404, message="Not found.")
    assert_error(client.delete(ALM + "3/", headers=SDE_TOKEN), 404)
    assert [c["id"] for c in client.get(ALM, headers=SDE_TOKEN).json()["results"]] == [1, 2]
    # Ids are not reused.
    assert client.post(ALM, json=RALLY, headers=SDE_TOKEN).json()["id"] == 4


def test_sdelements_patch_merges_and_put_clears(client):
    client.post(ALM, json=RALLY, headers=SDE_TOKEN)
    patched = client.patch(ALM + "3/", json={"name": "Rally (EU)", "inaccessible": True}, headers=SDE_TOKEN).json()
    assert patched == {**RALLY, "id": 3, "system": RALLY_SYSTEM, "name": "Rally (EU)", "inaccessible": True}

    # PUT names no `inaccessible`: it goes back to its default; params are exactly the new ones.
    params = {"alm_server": "jira.example.com", "alm_user": "u", "alm_pass": "p"}
    body = {"name": "Rally", "system": {"id": "jira"}, "params": params}
    replaced = client.put(ALM + "3/", json=body, headers=SDE_TOKEN).json()
    assert replaced == {
        "id": 3,
        "name": "Rally",
        "system": {"id": "jira", "short_name": "JIRA", "name": "JIRA"},
        "inaccessible": False,
        "params": params,
    }


@pytest.mark.parametrize("system", sorted(REQUIRED_ALM_PARAMS))
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sdelements_each_missing_required_param_is_named(client, app, system, method):
    """ "Required params will return appropriate errors when unspecified": DRF names each one."""
    path = ALM if method == "POST" else ALM + "1/"
    before = app.state()
    body = {"name": "No params", "system": {"id": system}, "params": {"sde_min_priority": "7"}}
    response = client.request(method, path, json=body, headers=SDE_TOKEN)
    assert response.status_code == 400
    assert response.json() == {"params": {name: ["This field is required."] for name in REQUIRED_ALM_PARAMS[system]}}
    # One param short is named alone; a blank one is refused as DRF words it.
    first, *rest = REQUIRED_ALM_PARAMS[system]
    params = dict.fromkeys(rest, "x")
    response = client.request(method, path, json={**body, "params": params}, headers=SDE_TOKEN)
    assert response.json() == {"params": {first: ["This field is required."]}}
    response = client.request(method, path, json={**body, "params": {**params, first: ""}}, headers=SDE_TOKEN)
    assert response.json() == {"params": {first: ["This field may not be blank."]}}
    assert app.state() == before
    ok = client.request(method, path, json={**body, "params": ALM_PARAMS[system]}, headers=SDE_TOKEN)
    assert ok.status_code == (201 if method == "POST" else 200), ok.text


def test_sdelements_patch_checks_the_merged_connector(client, app):
    """A PATCH names only what changes; the connector it leaves behind must still have its system's params."""
    before = app.state()
    moved = client.patch(ALM + "1/", json={"system": {"id": "jira"}}, headers=SDE_TOKEN)  # GitHub's params only
    assert moved.status_code == 400
    jira_missing = {"params": {"alm_pass": ["This field is required."], "alm_user": ["This field is required."]}}
    assert moved.json() == jira_missing
    emptied = client.patch(ALM + "2/", json={"params": {"alm_server": "jira.example.com"}}, headers=SDE_TOKEN)
    assert emptied.json() == jira_missing
    blank = client.patch(ALM + "1/", json={"params": {"alm_server": "", "alm_api_token": "t"}}, headers=SDE_TOKEN)
    assert blank.json() == {"params": {"alm_server": ["This field may not be blank."]}}
    assert app.state() == before

    # What the stored connector already has counts: a rename needs no params, a move brings its own.
    assert client.patch(ALM + "2/", json={"name": "JIRA (EU)"}, headers=SDE_TOKEN).status_code == 200
    moved = client.patch(ALM + "1/", json={"system": {"id": "jira"}, "params": ALM_PARAMS["jira"]}, headers=SDE_TOKEN)
    assert moved.status_code == 200, moved.text
    assert moved.json()["system"]["id"] == "jira"


@pytest.mark.parametrize(
    ("system", "short_name", "name"),
    [
        ("github", "GitHub", "GitHub"),
        ("jira", "JIRA", "JIRA"),
        ("rally", "Rally", "Rally"),
        ("trac", "Trac", "Trac"),
        ("hp_alm", "HP ALM", "HP ALM"),
        ("mingle", "Mingle", "Mingle"),
        ("pivotal_tracker", "Pivotal", "Pivotal Tracker"),
    ],
)
def test_sdelements_known_alm_systems_are_expanded(client, system, short_name, name):
    body = {**RALLY, "system": {"id": system}, "params": ALM_PARAMS[system]}
    created = client.post(ALM, json=body, headers=SDE_TOKEN)
    assert created.status_code == 201
    assert created.json()["system"] == {"id": system, "short_name": short_name, "name": name}


def test_sdelements_lists_are_paged_with_page_size(client):
    def page(path: str = ALM, **params: str) -> dict[str, Any]:
        response = client.get(path, params=params, headers=SDE_TOKEN)
        assert response.status_code == 200, response.text
        return response.json()

    assert list(page()) == ["results"]  # no page_size: one list, no paging fields
    first = page(page_size="1")
    assert (first["count"], [c["id"] for c in first["results"]], first["previous"]) == (2, [1], None)
    second = client.get(first["next"], headers=SDE_TOKEN).json()
    assert (second["count"], [c["id"] for c in second["results"]], second["next"]) == (2, [2], None)
    assert [c["id"] for c in client.get(second["previous"], headers=SDE_TOKEN).json()["results"]] == [1]
    assert [c["id"] for c in page(page_size="1000")["results"]] == [1, 2]
    assert_error(client.get(ALM, params={"page_size": "1", "page": "3"}, headers=SDE_TOKEN), 404)
    assert page(ANALYSIS, page_size="1") == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": 1,
                "name": "Fortify Connector",
                "system": {"id": "fortify", "name": "Fortify"},
                "inaccessible": False,
            }
        ],
    }
    assert [c["id"] for c in page(system="jira")["results"]] == [2]


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


def test_a_version_is_not_stored_with_the_version_it_was_created_from(client):
    versions = f"{CONNECTORS}/{create_connector(client)['id']}/versions"
    created = client.post(versions, json={"name": "2", "fromVersion": "1"}, headers=BEARER)
    assert created.status_code == 201
    version_fields = {"id", "name", "description", "isLatest", "isDefault", "createdAt", "updatedAt", "publishedAt"}
    assert set(created.json()) <= version_fields | {"messages"}
