"""What the operation tests share: the bundled specs on a frozen clock, a table of all 26 operations,
valid bodies, one resource of each kind, and the check that an error is in its family's format.

The fixtures are registered under the names the tests ask for (`app`, `client`, `ids`, ...): a test
module imports them all, since `client` asks for this `app`, not conftest's. The mock runs on a
frozen clock: scans stay queued and timestamps move only when a test advances time. Error bodies:

- AppSec+:        {"error": {"code", "message", "details": [{"field", "message"}]}}
- Versori:        {"code", "message", "fields": [{"field", "message"}]}
- SD Elements:    {"detail": "..."} or {"field": ["message"]} (Django REST Framework)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from conftest import BEARER, ORG, SDE_TOKEN, VERSORI, conformance_hook
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


@pytest.fixture(scope="module", name="families")
def bundled_families() -> list[Family]:
    """The bundled specs, compiled once for the module (apps share them: scenarios never change them)."""
    return load_specs()


@pytest.fixture(scope="module", name="conformance")
def response_check(families: list[Family]) -> Any:
    """conftest's response check, built once: it compiles a validator per (operation, status) and keeps it."""
    return conformance_hook(MockApp(families=families))


@pytest.fixture(name="app")
def frozen_app(families: list[Family]) -> MockApp:
    """The mock on a frozen clock (overrides conftest's `app`)."""
    return MockApp(seed=1, clock=MockClock(frozen=True, start=START), families=families)


@pytest.fixture(name="client")
def frozen_client(app: MockApp, conformance: Any) -> Iterator[httpx.Client]:
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


@pytest.fixture(name="ids")
def one_of_each(client: httpx.Client) -> dict[str, str]:
    """One resource of each kind, so that every path above names something that exists."""
    conn = client.post("/connectors", json=GITHUB, headers=BEARER).json()["id"]
    scan = client.post("/scans", json=SCAN, headers=BEARER).json()["id"]
    cid = client.post(f"{VERSORI}/protocols/http/connectors", json=SHOPIFY, headers=BEARER).json()["id"]
    return {"conn": conn, "scan": scan, "cid": cid}


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
