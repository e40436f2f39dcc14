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
from specmock.spec.model import Action, Operation
from specmock.spec.schematools import inline_refs
from specmock.spec.validation import compile_validator
from specmock.testing.conformance import ResponseChecker
from specmock.testing.transport import SyncASGITransport

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
                    problems = [p for p in problems if "does not document status" not in p]
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


# -- the class of error schemas: each public style gets a body that fits ------------------------------------

_STR = {"type": "string"}
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "rfc7807": {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string", "format": "uri"}, "title": _STR, "status": {"type": "integer"}},
    },
    "rfc7807-invalid-params": {
        "type": "object",
        "required": ["title", "invalid-params"],
        "properties": {
            "title": _STR,
            "invalid-params": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "reason"],
                    "properties": {"name": _STR, "reason": _STR},
                },
            },
        },
    },
    "google": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "status"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": _STR,
                    "status": {"enum": ["INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND"]},
                },
            }
        },
    },
    "microsoft": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": _STR,
                    "message": _STR,
                    "details": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"code": _STR, "message": _STR, "target": _STR}},
                    },
                },
            }
        },
    },
    "fastapi": {
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["loc", "msg", "type"],
                    "properties": {"loc": {"type": "array"}, "msg": _STR, "type": _STR},
                },
            }
        },
    },
    "jsonapi": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["status", "detail"],
                    "properties": {"status": _STR, "title": _STR, "detail": _STR},
                },
            }
        },
    },
    "string-list": {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "items": _STR}},
    },
    "field-map": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": _STR,
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": _STR}},
        },
    },
    "closed-with-const": {
        "type": "object",
        "additionalProperties": False,
        "required": ["success", "error"],
        "properties": {"success": {"const": False}, "error": _STR},
    },
    "integer-code-enum": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "integer", "enum": [1001, 1002]}, "message": _STR},
    },
    "timestamped": {
        "type": "object",
        "required": ["timestamp", "path", "error", "status"],
        "properties": {
            "timestamp": {"type": "string", "format": "date-time"},
            "path": _STR,
            "error": _STR,
            "status": {"type": "integer"},
        },
    },
    "one-of": {
        "oneOf": [
            {
                "type": "object",
                "required": ["fault"],
                "properties": {"fault": {"const": "x"}},
                "additionalProperties": False,
            },
            {"type": "object", "required": ["message"], "properties": {"message": _STR}},
        ]
    },
    "plain-string": {"type": "string"},
    "bare-enum": {"type": "string", "enum": ["EMAIL", "USERNAME"]},  # openapi.space's 409
    "meta-and-a-map": {  # journy.io's: a nested required object, and failing fields as a map of strings
        "allOf": [
            {
                "type": "object",
                "required": ["meta", "message"],
                "properties": {
                    "meta": {
                        "type": "object",
                        "required": ["requestId", "status"],
                        "properties": {"requestId": _STR, "status": {"type": "number"}},
                    },
                    "message": _STR,
                },
            },
            {
                "type": "object",
                "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "object",
                        "properties": {"fields": {"type": "object", "additionalProperties": _STR}},
                    }
                },
            },
        ]
    },
    "pattern-without-example": {  # OPTIMADE's: a required semver string, no example
        "type": "object",
        "required": ["api_version", "detail"],
        "properties": {
            "api_version": {"type": "string", "pattern": r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"},
            "detail": _STR,
        },
    },
    "field-path-non-empty": {  # Open Banking's: each error's Path has minLength 1, even for the body itself
        "type": "object",
        "required": ["Code", "Message", "Errors"],
        "properties": {
            "Code": _STR,
            "Message": _STR,
            "Errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["ErrorCode", "Message"],
                    "properties": {
                        "ErrorCode": _STR,
                        "Message": _STR,
                        "Path": {"type": "string", "minLength": 1},
                    },
                },
            },
        },
    },
    "undescribed-required-and-null-example": {  # nexmo's: `title` required, never described
        "type": "object",
        "required": ["type", "title", "detail", "instance"],
        "properties": {"type": _STR, "detail": _STR, "instance": {"type": "string", "examples": [None]}},
    },
    "recursive-details": {  # Azure's Microsoft-style error whose details are Errors again
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code"],
                "properties": {
                    "code": {"enum": ["BadArgument", "Unauthorized", "NotFound", "ValidationFailure"]},
                    "message": _STR,
                    "details": {"type": "array", "items": {"$ref": "#/components/schemas/Recursive"}},
                },
            }
        },
    },
    "source-names-one-thing": {  # Amadeus's JSON:API issues
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "integer"},
                        "detail": _STR,
                        "source": {
                            "type": "object",
                            "maxProperties": 1,
                            "properties": {"parameter": _STR, "pointer": _STR, "example": _STR},
                        },
                    },
                },
            }
        },
    },
    # GitHub's: an empty closed object (a 404 that says nothing), and a oneOf whose branches
    # differ only in their lists' items (a body with no items would match both).
    "empty-closed": {"type": "object", "properties": {}, "additionalProperties": False},
    "one-of-by-items": {
        "oneOf": [
            {
                "type": "object",
                "required": ["message", "documentation_url"],
                "properties": {
                    "message": _STR,
                    "documentation_url": _STR,
                    "errors": {
                        "type": "array",
                        "items": {"type": "object", "required": ["code"], "properties": {"code": _STR, "field": _STR}},
                    },
                },
            },
            {
                "type": "object",
                "required": ["message", "documentation_url"],
                "properties": {
                    "message": _STR,
                    "documentation_url": _STR,
                    "errors": {"type": "array", "items": _STR},
                },
            },
        ]
    },
}


#: Schemas with no place for a failing field's name (an enum, an empty object).
NO_ROOM = {"empty-closed", "bare-enum"}


@pytest.mark.parametrize("status", [400, 401, 404, 409, 415])
@pytest.mark.parametrize("name", list(ERROR_SCHEMAS))
def test_each_style_of_error_schema_gets_a_body_that_fits(name: str, status: int) -> None:
    from jsonschema import Draft202012Validator

    from specmock.errors import FieldError, Problem
    from specmock.spec.error_bodies import ErrorBodyCompiler
    from specmock.spec.error_styles import ErrorStyle
    from specmock.spec.yamlload import Document

    schema = ERROR_SCHEMAS[name]
    response = {"description": "refused", "content": {"application/json": {"schema": schema}}}
    data = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Recursive": schema}}}
    compiler = ErrorBodyCompiler(Document(path=Path("doc.yaml"), data=data, lines={}), ErrorStyle())
    body = compiler.operation("op", {str(status): response}, ("paths", "/x", "post")).for_status(status)
    assert body.source in ("template", "schema"), body.source
    problem = Problem(status, "Refused.", kind="validation", fields=[FieldError("items[0].name", "is required")])
    rendered = body.data(problem)
    validator = Draft202012Validator({**schema, "components": data["components"]})
    assert not list(validator.iter_errors(rendered)), rendered
    at_the_root = Problem(status, "Refused.", kind="validation", fields=[FieldError("", "is not of type 'object'")])
    assert not list(validator.iter_errors(body.data(at_the_root)))
    if name not in NO_ROOM:  # the failing field is named wherever the schema has room
        assert "items[0].name" in str(rendered) or "/items/0/name" in str(rendered), rendered


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+)?$",
        r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$",
        r"^[A-Z]{3}-\d{4}$",
        r"^[^abc]+$",
        r"^\w+@\w+\.com$",
        r"[a-z]{2,}",
        r"^(?:foo|bar)_[0-9a-f]{8}$",
        r"^\S+\s\S+$",
    ],
)
def test_a_pattern_gets_a_string_it_matches(pattern: str) -> None:
    import re

    from specmock.spec.regex_sample import sample

    found = sample(pattern)
    assert found is not None and re.search(pattern, found), found


@pytest.mark.parametrize("pattern", [r"(?=x)y", r"(a)\1", r"^[^\s\S]$", r"(?<=a)b"])
def test_a_pattern_it_cannot_satisfy_gives_none_never_a_wrong_value(pattern: str) -> None:
    from specmock.spec.regex_sample import sample

    assert sample(pattern) is None
