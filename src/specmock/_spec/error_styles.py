"""Error bodies in each API family's own format, from a template in its spec.

A family declares its error body once (``x-specmock.errors.body``) with
placeholders: ``$code``, ``$message``, ``$status``, ``$fields`` (a list of
``{field, message}``) and ``$fieldMap`` (``{"field": ["message"]}``, Django
REST Framework style). A key whose placeholder has no value is left out, so
``details: $fields`` disappears when there are no field errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .._encoding import encode
from .._errors import FieldError, Problem
from .error_templates import MISSING, fill

#: Default wording of each problem kind; `{…}` names are filled from the problem.
DEFAULT_MESSAGES: dict[str, str] = {
    "missing_credentials": "Authentication credentials were not provided.",
    "invalid_credentials": "Invalid credentials.",
    "forbidden": "Insufficient permissions.",
    "not_found": "{label} not found.",
    "route_not_found": "No operation matches {method} {path}.",
    "method_not_allowed": "Method {method} is not allowed here.",
    "unsupported_media_type": "Unsupported media type {media_type!r}; send application/json.",
    "malformed_json": "Malformed JSON body: {detail}",
    "validation": "Request validation failed.",
    "conflict": "Conflict.",
    "payload_too_large": "Request body is larger than {limit} bytes.",
    "throttled": "Too many requests.",
    "unavailable": "Service unavailable.",
    "internal": "Internal server error.",
    "insufficient_storage": "The mock holds its limit of {limit} items of this kind; delete some first.",
}


@dataclass
class ErrorStyle:
    """How one family words and shapes its errors."""

    body: Any = field(default_factory=lambda: {"code": "$code", "message": "$message", "fields": "$fields"})
    fields_body: Any = None
    codes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    field_messages: dict[str, str] = field(default_factory=dict)
    invalid_path_status: int = 400

    def message(self, kind: str, **values: Any) -> str:
        """The family's wording of `kind`, filled with `values`."""
        template = self.messages.get(kind) or DEFAULT_MESSAGES.get(kind) or kind
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            return template

    def code(self, status: int) -> str:
        if str(status) in self.codes:
            return self.codes[str(status)]
        try:
            return HTTPStatus(status).phrase.replace(" ", "")
        except ValueError:
            return f"Error{status}"

    def render(self, problem: Problem) -> bytes:
        """The JSON body for `problem`."""
        values: dict[str, Any] = {
            "$code": self.code(problem.status),
            "$message": problem.message,
            "$status": problem.status,
            "$fields": [{"field": f.field, "message": f.message} for f in problem.fields] or MISSING,
            "$fieldMap": field_map(problem.fields) if problem.fields else MISSING,
        }
        template = self.fields_body if problem.fields and self.fields_body is not None else self.body
        body = fill(template, values)
        if body is MISSING:
            body = {"message": problem.message}
        return encode(body)


def field_map(fields: list[FieldError]) -> dict[str, Any]:
    """``a.b`` errors nested as ``{"a": {"b": ["..."]}}``, as Django REST Framework nests them."""
    out: dict[str, Any] = {}
    for f in fields:
        parts = [p for p in f.field.replace("[", ".").replace("]", "").split(".") if p] or ["non_field_errors"]
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        leaf = node.setdefault(parts[-1], [])
        if isinstance(leaf, list):
            leaf.append(f.message)
    return out
