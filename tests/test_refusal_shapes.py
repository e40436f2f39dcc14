"""Every refusal the mock can give validates against the document's own schema for its status.

For every operation of every bundled and vendored document (and the small documents
under tests/refusal_documents/, written here to reproduce public documents' error
schemas), the test provokes each refusal the mock gives: missing credentials, a body
of the wrong type, malformed JSON, the wrong media type, an unknown id, and every
documented error status through `Prefer: code=`, a body over the size limit. Each answer whose status the
operation documents must validate against that response's schema (in its declared
media type). Documents are served in-process: a document's sweep takes well under a second.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from specmock import MockApp
from specmock._spec.model import Action, Operation
from specmock._spec.schematools import inline_refs
from specmock._spec.validation import compile_validator
from specmock._testing.conformance import ResponseChecker
from specmock._testing.transport import SyncASGITransport

ROOT = Path(__file__).parent.parent
DOCUMENTS = sorted(
    [
        *(ROOT / "specs").glob("*.yaml"),
        *(ROOT / "tests" / "thirdparty").glob("*.yaml"),
        *(ROOT / "tests" / "refusal_documents").glob("*.yaml"),
    ]
)
#: The body size limit of the mocks under test: small, so a 413 is cheap to provoke.
MAX_BODY = 256


def credentials(op: Operation) -> dict[str, Any]:
    """Headers, query and cookies that satisfy the operation's first security alternative."""
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    for scheme in op.authenticator.alternatives[0] if op.authenticator.alternatives else ():
        if scheme.kind == "apiKey" and scheme.location == "cookie":
            headers["Cookie"] = f"{scheme.param}=key"
        elif scheme.kind == "apiKey":
            {"header": headers, "query": query}[scheme.location][scheme.param] = "key"
        elif scheme.http_scheme == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(b"user:password").decode()
        else:
            headers["Authorization"] = f"{scheme.http_scheme.capitalize() or 'Bearer'} token"
    return {"headers": headers, "params": query}


def unknown_value(op: Operation, name: str) -> str:
    """A path value that names nothing stored but fits the parameter's schema where it can."""
    param = next((p for p in op.path_params.params if p.name == name), None)
    schema = param.schema if param is not None else {}
    if schema.get("type") in ("integer", "number"):
        return "987654"
    if schema.get("format") == "uuid":
        return "00000000-0000-4000-8000-00000000abcd"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return str(schema["enum"][0])
    return "01HFS2NEAZ6ECZBZMN4FF775P9"  # a ULID: fits most string ids (Versori's included)


def concrete(op: Operation) -> str:
    path = op.path
    for name in (p.name for p in op.path_params.params):
        path = path.replace("{" + name + "}", unknown_value(op, name))
    return path


def provocations(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    """(refusal, request keywords) for each refusal `op` can give."""
    creds = credentials(op)
    base = {"method": op.method, "url": concrete(op)}
    if op.authenticator.alternatives:
        yield "no_credentials", dict(base)
    if op.body_validator is not None:
        json_headers = {**creds["headers"], "Content-Type": "application/json"}
        yield "wrong_body", {**base, **creds, "headers": json_headers, "content": b"[12345]"}
        yield "malformed", {**base, **creds, "headers": json_headers, "content": b'{"a": '}
        text = {**creds["headers"], "Content-Type": "text/plain"}
        yield "media_type", {**base, **creds, "headers": text, "content": b"hello"}
        large = b'{"name": "' + b"x" * MAX_BODY + b'"}'
        yield "too_large", {**base, **creds, "headers": json_headers, "content": large}
    if op.action.needs_id and op.action is not Action.EXAMPLE:
        body = {"content": b"{}", "headers": {**creds["headers"], "Content-Type": "application/json"}}
        yield "unknown_id", {**base, **creds, **(body if op.body_validator is not None else {})}
    for code in op.responses:
        if str(code).isdigit() and int(code) >= 400:
            yield f"prefer {code}", {**base, **creds, "headers": {**creds["headers"], "Prefer": f"code={code}"}}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_refusal_fits_the_documents_schema_for_its_status(document: Path) -> None:
    app = MockApp([document], seed=1, max_body=MAX_BODY)
    checker = ResponseChecker(app.router)
    failures: list[str] = []
    checked = 0
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver") as client:
        for family in app.families:
            for op in family.operations:
                for refusal, request in provocations(op):
                    response = client.request(**request)
                    assert refusal.startswith("prefer") or response.status_code < 500, (op.operation_id, response.text)
                    if response.status_code < 400:
                        continue
                    raw_path = response.request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
                    body = response.json() if "json" in response.headers.get("content-type", "") else response.text
                    problems = checker.problems(
                        op.method, raw_path, response.status_code, body, response.headers.get("content-type")
                    )
                    problems = [p for p in problems if ": undeclared-status: " not in p]
                    checked += 1
                    failures += [f"{refusal}: {p} (body {response.text[:200]})" for p in problems]
        failures += wrong_methods(app, client)
    assert checked > 0
    assert not failures, "\n".join(failures)


def wrong_methods(app: MockApp, client: httpx.Client) -> list[str]:
    """A method a path does not have is a 405 in the document's usual 405 shape, when it has one."""
    failures: list[str] = []
    for family in app.families:
        declared = next((op.responses["405"] for op in family.operations if "405" in op.responses), None)
        schema = None
        if declared is not None:
            content = inline_refs(declared, family.document).get("content") or {}
            schema = next((m.get("schema") for t, m in content.items() if "json" in t), None)
        paths = {op.path: op for op in family.operations}
        for path, op in paths.items():
            methods = {o.method for o in family.operations if o.path == path}
            method = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in methods)
            response = client.request(method, concrete(op), **credentials(op))
            if response.status_code != 405:
                continue  # another path of the same shape has the method
            if schema is not None:
                errors = compile_validator(schema, family.document).iter_errors(response.json())
                failures += [f"405 on {method} {path}: {e.message}" for e in errors]
    return failures


def client_of(document: Path) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(MockApp([document], seed=1)), base_url="http://testserver")


def test_a_400_names_the_failing_fields_where_the_schema_has_room() -> None:
    # Petstore's Error is {code: integer, message: string}: the fields go into the message.
    with client_of(ROOT / "tests" / "thirdparty" / "petstore-expanded.yaml") as petstore:
        refused = petstore.post("/api/pets", json={"tag": 5})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 400,
        "message": "Request validation failed: name: is required; tag: 5 is not of type 'string'",
    }
    # RFC 7807 with an `errors` list: one item per field, a JSON pointer each, as problem+json.
    with client_of(ROOT / "tests" / "refusal_documents" / "problem-json.yaml") as trains:
        refused = trains.post("/bookings", json={"seats": 0}, headers={"Authorization": "Bearer t"})
    assert refused.status_code == 400 and refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["status"] == 400 and "passenger_name" in body["detail"]
    assert body["errors"] == [
        {"detail": "is required", "pointer": "/passenger_name"},
        {"detail": "0 is less than the minimum of 1", "pointer": "/seats"},
    ]


def test_constrained_error_fields_take_the_documents_values() -> None:
    with client_of(ROOT / "tests" / "refusal_documents" / "constrained.yaml") as widgets:
        missing = widgets.post("/widgets", json={"name": "w"})
        invalid = widgets.post("/widgets", json={"name": 5}, headers={"X-Api-Key": "k"})
        unknown = widgets.get("/widgets/5", headers={"X-Api-Key": "k"})
    assert missing.json()["error"] in ("invalid_request", "invalid_token")  # an enum: never "Unauthorized"
    assert invalid.json() == {
        "code": "WIDGET_INVALID",
        "message": "Request validation failed: name: 5 is not of type 'string'",
    }
    assert unknown.json()["status"] == 404 and unknown.json()["error"] == "not_found"


def test_bundled_families_keep_their_declared_error_formats() -> None:
    headers = {"Content-Type": "application/json"}
    with client_of(ROOT / "specs" / "versori-connect.yaml") as versori:
        refused = versori.get("/api/connect/v1/o/01HFS2NEAZ6ECZBZMN4FF775P7/connectors", headers=headers)
        invalid = versori.post(
            "/api/connect/v1/o/01HFS2NEAZ6ECZBZMN4FF775P7/protocols/http/connectors",
            json={"name": 5},
            headers={"Authorization": "Bearer t"},
        )
    assert refused.json() == {"code": "unauthorized", "message": "missing bearer token"}
    assert invalid.json() == {
        "code": "bad_request",
        "message": "request validation failed",
        "fields": [
            {"field": "authSchemeConfigs", "message": "is required"},
            {"field": "baseUrl", "message": "is required"},
            {"field": "name", "message": "5 is not of type 'string'"},
        ],
    }
    with client_of(ROOT / "specs" / "sdelements.yaml") as sde:
        refused = sde.get("/api/v2/connectors/alm/", headers=headers)
        invalid = sde.post("/api/v2/connectors/alm/", json={"name": 5}, headers={"Authorization": 'Token "t"'})
        unknown = sde.get("/api/v2/connectors/alm/999/", headers={"Authorization": 'Token "t"'})
    assert refused.json() == {"detail": "Authentication credentials were not provided."}
    assert invalid.json() == {
        "name": ["Incorrect type. Expected string, received int."],
        "params": ["This field is required."],
        "system": ["This field is required."],
    }
    assert unknown.json() == {"detail": "Not found."}
    with client_of(ROOT / "specs" / "appsecplus.yaml") as appsec:
        invalid = appsec.post("/connectors", json={"type": "github", "name": 42}, headers={"Authorization": "Bearer t"})
    assert invalid.json() == {
        "error": {
            "code": "ValidationException",
            "message": "Request validation failed.",
            "details": [
                {"field": "config", "message": "is required"},
                {"field": "name", "message": "42 is not of type 'string'"},
            ],
        }
    }


def test_an_error_schema_nothing_fits_is_reported_once_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = tmp_path / "misfit.yaml"
    spec.write_text(
        (ROOT / "tests" / "refusal_documents" / "constrained.yaml")
        .read_text()
        .replace("errorMessage: {type: string}", "errorMessage: {type: string, maxLength: 3}")
    )
    with caplog.at_level("WARNING", logger="specmock"):
        MockApp([spec], seed=1)
    warnings = [r.getMessage() for r in caplog.records if "no error body fits" in r.getMessage()]
    assert len(warnings) == 1 and f"{spec}:" in warnings[0] and "getWidget's default" in warnings[0]


@pytest.mark.parametrize("declared", ["*/*", "application/*", "application/json; charset=utf-8"])
def test_a_refusal_under_a_wildcard_media_type_is_json_that_fits(declared: str, tmp_path: Path) -> None:
    """A `default` error declared as `*/*` (APIs.guru's HubSpot documents) is answered as JSON
    in its schema, as examples are: it went out as text labelled `*/*` (corpus class 2)."""
    import httpx
    import jsonschema
    import yaml

    from specmock import MockApp
    from specmock._testing.transport import SyncASGITransport

    error = {
        "type": "object",
        "required": ["category", "correlationId", "message"],
        "properties": {
            "category": {"type": "string", "example": "VALIDATION_ERROR"},
            "correlationId": {"type": "string", "format": "uuid"},
            "message": {"type": "string"},
        },
    }
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Actions", "version": "1"},
        "security": [{"key": []}],
        "paths": {"/actions/{id}": {"delete": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"204": {"description": "deleted"},
                          "default": {"description": "an error", "content": {declared: {"schema": error}}}},
        }}},
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "key"}}},
    }  # fmt: skip
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with httpx.Client(transport=SyncASGITransport(MockApp([path])), base_url="http://testserver") as client:
        response = client.delete("/actions/1")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    jsonschema.validate(response.json(), error)
