"""The JSON Schema of the `x-specmock` extension, checked when a spec loads.

Behaviour a spec cannot say in OpenAPI (which collection a route touches, how
ids look, uniqueness, references) lives in `x-specmock`; a typo there must stop
start-up with the file and line, not surface as a strange response later.
"""

from __future__ import annotations

from typing import Any

from .model import Action

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_FIELD = {"type": "string", "minLength": 1}

COLLECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string"},
        "id": {
            "type": "object",
            "additionalProperties": False,
            "required": ["style"],
            "properties": {
                "style": {"enum": ["sequential", "ulid", "integer", "uuid", "given", "pattern"]},
                "prefix": {"type": "string"},
                # style pattern: ids drawn to match this regular expression.
                "pattern": {"type": "string", "minLength": 1},
                # A create may name the id in its body (the client chooses it); otherwise one is drawn.
                "clientChosen": {"type": "boolean"},
                "width": {"type": "integer", "minimum": 1, "maximum": 20},
                "field": _FIELD,
            },
        },
        "key": _FIELD,
        "schema": {"type": "string", "pattern": "^#/"},
        "scope": {"type": "object", "additionalProperties": {"type": "string"}},
        "parent": _NAME,
        "timestamps": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"created": _FIELD, "updated": _FIELD},
        },
        "defaults": {"type": "object"},
        "unique": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["fields"],
                "properties": {
                    "fields": {"type": "array", "items": _FIELD, "minItems": 1},
                    "when": {"type": "object", "additionalProperties": {"type": "array"}},
                    "message": {"type": "string"},
                },
            },
        },
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["field", "collection"],
                "properties": {
                    "field": _FIELD,
                    "collection": _NAME,
                    "status": {"enum": [400, 404, 409, 422]},
                    "message": {"type": "string"},
                    "expand": _FIELD,
                },
            },
        },
        "embed": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["collection"],
                "properties": {"collection": _NAME},
            },
        },
        "children": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["collection", "item"],
                "properties": {"collection": _NAME, "item": {"type": "object"}},
            },
        },
        "aliases": {"type": "object", "additionalProperties": {"type": "object", "minProperties": 1}},
        "touchParent": {"type": "boolean"},
        "lifecycle": {"type": "object"},
        "fixtures": {"type": "array", "items": {"type": "object"}},
    },
}

FAMILY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["family"],
    "properties": {
        "family": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "errors": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "body": {},
                "fieldsBody": {},
                "codes": {"type": "object", "additionalProperties": {"type": "string"}},
                "messages": {"type": "object", "additionalProperties": {"type": "string"}},
                "fieldMessages": {"type": "object", "additionalProperties": {"type": "string"}},
                "invalidPathStatus": {"enum": [400, 404, 422]},
            },
        },
        "collections": {"type": "object", "additionalProperties": COLLECTION_SCHEMA},
        # Request properties the body's schema does not declare: stored as sent, or ignored
        # as a server decoding into its own types ignores them (spec/undeclared.py).
        "undeclaredFields": {"enum": ["keep", "ignore"]},
    },
}

OPERATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["action"],
    "if": {"properties": {"action": {"not": {"const": "example"}}}},
    "then": {"required": ["collection"]},
    "properties": {
        "action": {"enum": [action.value for action in Action]},
        "status": {"type": "integer", "minimum": 200, "maximum": 299},
        "collection": _NAME,
        "idParam": {"type": "string"},
        # The item is named by the body's id field, not by the path (`PUT /pet` with {"id": 7}).
        "idInBody": {"type": "boolean"},
        # replace: an absent item is created (with the path's id) rather than a 404.
        "upsert": {"type": "boolean"},
        # list: envelope fields that hold the number of items the list matched.
        "counts": {"type": "array", "items": _FIELD},
        "set": {"type": "object"},
        # create: values (templates, e.g. {$caller: fallback}) for fields the request leaves out.
        "fill": {"type": "object"},
        "keep": {"type": "array", "items": _FIELD},
        "undeclaredFields": {"enum": ["keep", "ignore"]},
        "match": {"type": "object", "additionalProperties": {"type": "string"}},
        "reorder": {
            "type": "object",
            "additionalProperties": False,
            "required": ["by", "field", "key"],
            "properties": {"by": _FIELD, "field": _FIELD, "key": _FIELD},
        },
        "exclusive": {"type": "array", "items": _FIELD},
        "wrap": _FIELD,
        # An update (PATCH) names only what changes: the stored item with the change
        # applied must satisfy this schema (e.g. the create schema's conditional requireds).
        "mergedSchema": {"type": "string", "pattern": "^#/"},
        "envelope": _FIELD,
        "paging": {"enum": ["none", "cursor", "page", "offset"]},
        "filters": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["field"],
                "properties": {
                    "field": _FIELD,
                    "match": {"enum": ["eq", "icontains", "tags", "any"]},
                },
            },
        },
    },
}
