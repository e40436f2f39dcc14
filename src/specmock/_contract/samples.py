"""Request bodies for `specmock verify`: the spec's examples first, else the smallest valid body.

Order of preference: the media type's `example`, its first `examples` value, the
schema's `example`; then the collection's fixtures (the spec's, then a scenario's);
then a body built from the schema: required properties only, each from its
`example`, `default`, first `enum` value or `const`, else a value of its type and
format. readOnly properties are never sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .._spec.examples import json_body_schema
from .._spec.lifecycle import META
from .._spec.model import Operation
from .._spec.schematools import inline_refs
from .redact import raw_operation

_ABSENT = object()


def documented_example(op: Operation) -> Any:
    """The request body's documented example, or _ABSENT."""
    body = inline_refs(raw_operation(op).get("requestBody"), op.family.document)
    if not isinstance(body, dict):
        return _ABSENT
    for media, obj in (body.get("content") or {}).items():
        if "json" not in media or not isinstance(obj, dict):
            continue
        if "example" in obj:
            return obj["example"]
        for example in (obj.get("examples") or {}).values():
            if isinstance(example, dict) and "value" in example:
                return example["value"]
        schema = obj.get("schema")
        if isinstance(schema, dict) and "example" in schema:
            return schema["example"]
    return _ABSENT


def request_body(op: Operation, fixtures: list[dict[str, Any]]) -> Any:
    """What `verify` sends to `op`: an example, a fixture, or a body built from the schema; None for no body."""
    raw = inline_refs(raw_operation(op).get("requestBody"), op.family.document)
    if not isinstance(raw, dict):
        return None
    example = documented_example(op)
    if example is not _ABSENT:
        return example
    schema = json_body_schema(raw)
    if fixtures:
        resolved = inline_refs(schema, op.family.document)
        read_only = _read_only_names(resolved)
        allowed = _property_names(resolved)
        return {
            k: v for k, v in fixtures[0].items() if k != META and k not in read_only and (not allowed or k in allowed)
        }
    return build(schema, op.family.document)


def update_body(op: Operation, item: dict[str, Any], fixtures: list[dict[str, Any]]) -> Any:
    """What `verify` sends to replace or update `item`: the item as the provider answered it (only the
    fields the request schema names, none readOnly), with the documented example laid over it."""
    raw = inline_refs(raw_operation(op).get("requestBody"), op.family.document)
    if not isinstance(raw, dict):
        return None
    schema = inline_refs(json_body_schema(raw), op.family.document)
    allowed, read_only = _property_names(schema), _read_only_names(schema)
    if not allowed:
        return request_body(op, fixtures)
    base = {k: v for k, v in item.items() if k in allowed and k not in read_only}
    example = documented_example(op)
    return {**base, **example} if isinstance(example, dict) else base


def _property_names(schema: Any) -> set[str]:
    """Every property the body schema (with its allOf/oneOf/anyOf branches) names."""
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties") or {})
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key) or ():
            names |= _property_names(branch)
    return names


def _read_only_names(schema: Any) -> set[str]:
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return {name for name, sub in props.items() if isinstance(sub, dict) and sub.get("readOnly")}


def build(schema: Any, document: dict[str, Any], depth: int = 0) -> Any:
    """The smallest value `schema` accepts that this knows how to build."""
    schema = inline_refs(schema, document)
    if not isinstance(schema, dict) or depth > 12:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    combined = _combined(schema, document, depth)
    if combined is not _ABSENT:
        return combined
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {
            name: build(props.get(name), document, depth + 1)
            for name in schema.get("required", [])
            if not (isinstance(props.get(name), dict) and props[name].get("readOnly"))
        }
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [build(schema.get("items"), document, depth + 1) for _ in range(count)]
    scalar = _SCALARS.get(kind) if isinstance(kind, str) else None
    return scalar(schema) if scalar is not None else None


def _combined(schema: dict[str, Any], document: dict[str, Any], depth: int) -> Any:
    """A value for the schema's first combinator: every `allOf` branch merged, the first
    `oneOf`/`anyOf` branch; _ABSENT where it has none."""
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            if key == "allOf":
                merged: dict[str, Any] = {}
                for branch in schema[key]:
                    part = build(branch, document, depth + 1)
                    if isinstance(part, dict):
                        merged.update(part)
                return merged
            return build(schema[key][0], document, depth + 1)
    return _ABSENT


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return datetime.now(UTC).strftime("%Y-%m-%d")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "email":
        return "verify@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com/verify"
    return "verify".ljust(int(schema.get("minLength", 1)), "x")


#: The smallest value of each scalar type (`string` by its format).
_SCALARS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "integer": lambda schema: int(schema.get("minimum", 1)),
    "number": lambda schema: float(schema.get("minimum", 1)),
    "boolean": lambda schema: True,
    "string": _string,
}


def parameter_examples(op: Operation) -> dict[str, str]:
    """Path parameters' documented values: the parameter's `example`, else its schema's
    `example`, first `examples` entry or `default` (a tenant id a provider already has)."""
    document = op.family.document
    raw = raw_operation(op)
    found: dict[str, str] = {}
    for item in (document.get("paths") or {}).values():
        if not isinstance(item, dict) or raw not in item.values():
            continue
        for param in [*(item.get("parameters") or []), *(raw.get("parameters") or [])]:
            param = inline_refs(param, document)
            if not isinstance(param, dict) or param.get("in") != "path":
                continue
            schema = inline_refs(param.get("schema"), document)
            schema = schema if isinstance(schema, dict) else {}
            for value in (param.get("example"), schema.get("example"), *(schema.get("examples") or [None])[:1]):
                if value is not None and not isinstance(value, (dict, list)):
                    found[str(param.get("name"))] = str(value)
                    break
            else:
                if schema.get("default") is not None:
                    found[str(param.get("name"))] = str(schema["default"])
        break
    return found
