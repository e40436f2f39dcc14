"""A schema as a request body is checked against: readOnly properties not required.

OpenAPI says a property that is both `readOnly` and `required` is required in
responses only (a client cannot send the id the server assigns). One schema
often serves both directions (`Planet` with a readOnly `id`), so request bodies
are validated against a copy whose `required` lists drop readOnly properties.
Invariant: the copy accepts a superset of what the original accepts.
"""

from __future__ import annotations

from typing import Any

_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else")


def request_view(schema: Any, _depth: int = 0) -> Any:
    """`schema` (already inlined) with readOnly properties taken out of every `required`."""
    if not isinstance(schema, dict) or _depth > 64:
        return schema
    out = dict(schema)
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {name: request_view(sub, _depth + 1) for name, sub in props.items()}
        if isinstance(schema.get("required"), list):
            out["required"] = [
                name
                for name in schema["required"]
                if not (isinstance(props.get(name), dict) and props[name].get("readOnly") is True)
            ]
    for key in _SUBSCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            out[key] = [request_view(sub, _depth + 1) for sub in schema[key]]
    for key in _SUBSCHEMA_ONE:
        if isinstance(schema.get(key), dict):
            out[key] = request_view(schema[key], _depth + 1)
    return out
