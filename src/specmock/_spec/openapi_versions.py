"""Which OpenAPI a document is, and 3.0 schemas rewritten to mean the same in 3.1.

specmock validates with JSON Schema 2020-12 (OpenAPI 3.1's dialect). A 3.0
schema's `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum` and single
`example` mean something else (or nothing) there, so they are converted once,
at load. Invariant: after `normalise`, every schema in the document is read
the same way whichever version it was written for. Swagger 2.0 is refused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .yaml_lines import Document

SWAGGER_ADVICE = (
    "Swagger 2.0 is not supported: convert it to OpenAPI 3 first "
    "(`npx swagger2openapi spec.yaml -o spec3.yaml`, or the Swagger Editor's 'Convert to OpenAPI 3')"
)

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames")


class OpenApiVersion(StrEnum):
    """The two OpenAPI lines specmock reads."""

    V3_0 = "3.0"
    V3_1 = "3.1"


def detect(doc: Document) -> OpenApiVersion:
    """The document's OpenAPI version, or a LoadError saying what it is instead."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a spec must be a mapping")
    if "swagger" in data:
        raise doc.error(("swagger",), SWAGGER_ADVICE)
    version = str(data.get("openapi", ""))
    if version.startswith("3.0"):
        return OpenApiVersion.V3_0
    if version.startswith("3."):
        return OpenApiVersion.V3_1
    raise doc.error(("openapi",), f"not an OpenAPI 3 document (openapi: {version or 'missing'})")


def normalise(doc: Document) -> Document:
    """The document with every 3.0 schema rewritten in 3.1's terms (3.1 documents unchanged)."""
    if detect(doc) is OpenApiVersion.V3_1:
        return doc
    return Document(path=doc.path, data=_walk(doc.data), lines=doc.lines)


def _walk(node: Any) -> Any:
    """Copy the document, converting each schema it meets (under `schema` or `components.schemas`)."""
    if isinstance(node, list):
        return [_walk(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = convert_schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: convert_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _walk(value)
    return out


def convert_schema(schema: Any) -> Any:
    """One 3.0 schema (and its subschemas) in 3.1's terms."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: convert_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert_schema(sub) for sub in value]
        elif key in _SCHEMA_ONE:
            out[key] = [convert_schema(s) for s in value] if isinstance(value, list) else convert_schema(value)
        else:
            out[key] = value
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(bound)
        if isinstance(flag, bool):
            del out[bound]
            if flag and limit in out:
                out[bound] = out.pop(limit)
    if "example" in out and "$ref" not in out:
        example = out.pop("example")
        out.setdefault("examples", [example])
    if out.pop("nullable", False) is True:
        out = nullable_schema(out)
    return out


def nullable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` also allowing null (what 3.0's `nullable: true` means)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"]} if "null" not in kind else schema
    return {"anyOf": [schema, {"type": "null"}]}
