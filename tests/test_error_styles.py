"""Each public style of error schema gets a refusal body that fits it and names the failing field.

The styles are those public documents use (RFC 7807 with and without `invalid-params`,
Google's and Microsoft's `error` objects, FastAPI's `detail`, JSON:API's `errors`,
string lists, field maps, closed objects, enums, oneOfs), each reproduced by a small
schema written here, several after a document of the APIs.guru directory whose refusals
did not fit before. Every style is compiled for every status a refusal may carry.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from specmock._errors import FieldError, Problem
from specmock._spec.error_bodies import ErrorBodyCompiler
from specmock._spec.error_styles import ErrorStyle
from specmock._spec.regex_sample import sample
from specmock._spec.yaml_lines import Document

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
    # tl-api's: allOf two closed objects, each forbidding the other's properties: only {} fits.
    "closed-all-of-parts": {
        "allOf": [
            {"type": "object", "additionalProperties": False, "properties": {"Message": _STR}},
            {"type": "object", "additionalProperties": False, "properties": {"errors": {"type": "array"}}},
        ]
    },
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
NO_ROOM = {"empty-closed", "bare-enum", "closed-all-of-parts"}


@pytest.mark.parametrize("status", [400, 401, 404, 409, 415])
@pytest.mark.parametrize("name", list(ERROR_SCHEMAS))
def test_each_style_of_error_schema_gets_a_body_that_fits(name: str, status: int) -> None:
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
    found = sample(pattern)
    assert found is not None and re.search(pattern, found), found


@pytest.mark.parametrize("pattern", [r"(?=x)y", r"(a)\1", r"^[^\s\S]$", r"(?<=a)b"])
def test_a_pattern_it_cannot_satisfy_gives_none_never_a_wrong_value(pattern: str) -> None:
    assert sample(pattern) is None
