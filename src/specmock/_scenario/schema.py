"""The JSON Schema of scenario files: published as scenarios/scenario.schema.json."""

from __future__ import annotations

from typing import Any

from .._spec.lifecycle import DURATION_PATTERN

_DURATION = {
    "description": "Seconds, or a string such as '250ms', '2s', '1m'.",
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}],
}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}

SCENARIO_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://specmock.dev/scenario.schema.json",
    "title": "specmock scenario",
    "description": "Fixtures, tokens and scopes, forced responses, chaos and lifecycle overrides for specmock.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "description": {"type": "string"},
        "seed": {"type": "integer", "description": "Seed of generated data and chaos decisions."},
        "fixtures": {
            "description": "Items to seed, by family then collection.",
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "object"}},
            },
        },
        "auth": {
            "description": "Tokens and scopes, by family. With tokens listed, any other token is refused (401).",
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "tokens": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["token"],
                            "properties": {
                                "token": {"type": "string", "minLength": 1},
                                "scopes": {"type": "array", "items": {"type": "string"}},
                                "revoked": {"type": "boolean"},
                                "expiresAt": {"type": "string", "format": "date-time"},
                                "subject": {
                                    "type": "string",
                                    "minLength": 1,
                                    "description": "Who the token stands for: the caller a spec's "
                                    "{$caller: ...} names (AppSec+ triggeredBy).",
                                },
                            },
                        },
                    },
                    "requires": {
                        "description": "Scopes an operation needs, by operationId "
                        "(default: read for GET, write otherwise).",
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "allowUnknown": {"type": "boolean", "description": "Accept tokens not listed (default false)."},
                },
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "match": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "family": {"type": "string"},
                            "operationId": {
                                "oneOf": [
                                    {"type": "string"},
                                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                                ]
                            },
                            "method": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "pathParams": _STRING_MAP,
                            "query": _STRING_MAP,
                            "headers": _STRING_MAP,
                            "body": {"type": "object"},
                        },
                    },
                    "respond": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["status"],
                        "properties": {
                            "status": {"type": "integer", "minimum": 200, "maximum": 599},
                            "body": {},
                            "message": {"type": "string"},
                            "headers": _STRING_MAP,
                            "retryAfter": {"type": "integer", "minimum": 0},
                            "allowUndocumented": {"type": "boolean"},
                        },
                    },
                    "chaos": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "latency": {
                                "oneOf": [
                                    _DURATION,
                                    {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["min", "max"],
                                        "properties": {"min": _DURATION, "max": _DURATION},
                                    },
                                ]
                            },
                            "reset": {"type": "boolean", "description": "Drop the connection before any response."},
                            "truncate": {"type": "boolean", "description": "Send half the body, then drop."},
                            "malformed": {"type": "boolean", "description": "Send a body that is not valid JSON."},
                            "trickle": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["interval"],
                                "properties": {
                                    "chunk": {"type": "integer", "minimum": 1},
                                    "interval": _DURATION,
                                },
                            },
                        },
                    },
                    "times": {"type": "integer", "minimum": 1, "description": "Fire at most this many times."},
                    "after": {"type": "integer", "minimum": 1, "description": "Fire from the Nth matching call on."},
                    "every": {"type": "integer", "minimum": 1, "description": "Fire on every Nth matching call."},
                    "probability": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "anyOf": [{"required": ["respond"]}, {"required": ["chaos"]}],
            },
        },
        "lifecycles": {
            "description": "Overrides of the specs' lifecycles, by family then collection.",
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    },
}
