"""What of an exchange may be kept: never a credential, never a write-only field.

The proxy journals, records and reports what passes through it; a provider's
clients send tokens and secrets. Invariants: headers are never kept at all
(nothing here returns one); a query parameter that a security scheme names
(`in: query` API keys) is replaced by `REDACTED`; every field the operation's
request or response schema, or its collection's, marks `writeOnly` is removed
from a body before it is kept. Strippers are compiled once per operation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from .._spec.examples import json_body_schema
from .._spec.model import Family, Operation
from .._spec.schematools import FlagPath, Stripper, compile_stripper, flagged_paths, inline_refs

REDACTED = "REDACTED"


def _query_secrets(family: Family) -> frozenset[str]:
    schemes = ((family.document.get("components") or {}).get("securitySchemes")) or {}
    return frozenset(
        str(s.get("name"))
        for s in schemes.values()
        if isinstance(s, dict) and s.get("type") == "apiKey" and s.get("in") == "query"
    )


class Redactor:
    """Removes credentials and write-only fields from what is kept of an exchange."""

    def __init__(self) -> None:
        self._strippers: dict[int, Stripper | None] = {}
        self._query: dict[str, frozenset[str]] = {}

    def query(self, family: Family, query: str) -> str:
        """`query` with the values of credential parameters replaced."""
        names = self._query.get(family.name)
        if names is None:
            names = self._query[family.name] = _query_secrets(family)
        if not names or not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode([(k, REDACTED if k in names else v) for k, v in pairs])

    def body(self, op: Operation | None, data: Any) -> Any:
        """`data` without the operation's write-only fields (a copy where anything changed)."""
        if op is None or data is None:
            return data
        key = id(op)
        if key not in self._strippers:
            self._strippers[key] = compile_stripper(self._write_only(op))
        strip = self._strippers[key]
        return strip(data) if strip is not None else data

    @staticmethod
    def _write_only(op: Operation) -> frozenset[FlagPath]:
        """The collection's write-only paths, and those of every body the operation declares."""
        paths: set[FlagPath] = set(op.collection.write_only)
        document = op.family.document
        bodies = [*op.responses.values()]
        request = raw_operation(op).get("requestBody")
        if request is not None:
            bodies.append(request)
        for body in bodies:
            inlined = inline_refs(body, document)
            schema = json_body_schema(inlined) if isinstance(inlined, dict) else None
            if schema is not None:
                paths |= flagged_paths(inline_refs(schema, document), "writeOnly")
        return frozenset(paths)


def raw_operation(op: Operation) -> dict[str, Any]:
    """The operation object as the document writes it (found by its operationId)."""
    for item in (op.family.document.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for method, raw in item.items():
            if method.upper() == op.method and isinstance(raw, dict) and raw.get("operationId") == op.operation_id:
                return raw
    return {}
