"""The one check of an exchange against the spec: what `proxy`, `verify`, `replay` and the
test suite's ResponseChecker all use.

An answer is checked in this order, and each step only runs when the one before
could: the operation exists; the status is declared (exactly, `2XX`, or
`default`); the documented required headers are there; the content type is one
the response declares; a JSON body parses; the body fits the declared schema.
Every difference is a `Finding` with a JSON pointer into the body, so a report
can say where, not only what.

Invariants: response objects are resolved and validators compiled once per
(operation, status, media type) and cached (a conforming body is answered by the
compiled jsonschema-rs check, as request bodies are); a finding never quotes a header value or a body value (the detail
names the field and the rule it breaks), so no credential or write-only value
reaches a report, a journal or a log through it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .._server.router import Router
from .._spec.fastvalidation import BodyValidator
from .._spec.model import Operation
from .._spec.schematools import inline_refs
from .._spec.validation import compile_validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]*\+)?json$", re.IGNORECASE)


class Kind(StrEnum):
    """What a finding is about."""

    UNDECLARED_OPERATION = "undeclared-operation"  # no operation has this method and path
    UNDECLARED_STATUS = "undeclared-status"
    MISSING_HEADER = "missing-header"  # a documented required response header is absent
    CONTENT_TYPE = "content-type"  # not a content type the response declares
    UNEXPECTED_BODY = "unexpected-body"  # a body where the spec declares none
    INVALID_BODY = "invalid-body"  # the body is not what its content type says (e.g. broken JSON)
    REQUIRED = "missing-required"
    TYPE = "type"
    ENUM = "enum"
    UNKNOWN_FIELD = "unknown-field"  # a field the schema closes the object against
    SCHEMA = "schema"  # any other schema rule (format, pattern, minimum, ...)
    REQUEST = "request"  # the request itself breaks the spec
    UPSTREAM = "upstream"  # the provider could not be reached, was too slow, or sent too much
    DIFFERENCE = "difference"  # replay: the provider's answer differs from the mock's
    EXPECTATION = "expectation"  # verify: a step did not do what it asked (no success, a deleted item still there)


_KIND_OF_RULE = {
    "required": Kind.REQUIRED,
    "type": Kind.TYPE,
    "enum": Kind.ENUM,
    "const": Kind.ENUM,
    "additionalProperties": Kind.UNKNOWN_FIELD,
    "unevaluatedProperties": Kind.UNKNOWN_FIELD,
}


@dataclass(frozen=True)
class Finding:
    """One difference between an exchange and the spec (or, in replay, the mock's answer)."""

    operation_id: str | None
    method: str
    path: str  # the operation's path template; the raw path only when no operation matched
    status: int | None
    kind: Kind
    pointer: str  # a JSON pointer into the body ("" for the whole body or no body)
    detail: str

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.operation_id, self.method, self.path, self.status, self.kind, self.pointer)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operationId": self.operation_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "kind": str(self.kind),
            "pointer": self.pointer,
            "detail": self.detail,
        }


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901: ``["a", 0, "b/c"]`` as ``/a/0/b~1c``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def declared_response(op: Operation, status: int) -> dict[str, Any] | None:
    """The response object the spec declares for `status` (exact, then `2XX`, then `default`), refs inlined."""
    raw = op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX") or op.responses.get("default")
    if raw is None:
        return None
    response = inline_refs(raw, op.family.document)
    return response if isinstance(response, dict) else {}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _declared_media(content: Mapping[str, Any], media: str) -> str | None:
    """The key of `content` that `media` matches (itself, parameters aside; else `type/*`; else `*/*`), or None."""
    declared = {media_type(str(key)): str(key) for key in content}
    for candidate in (media, media.split("/", 1)[0] + "/*", "*/*"):
        if candidate in declared:
            return declared[candidate]
    return None


def _schema_finding(op: Operation, status: int, error: ValidationError) -> tuple[Kind, str, str]:
    """A schema error as (kind, pointer, detail). The detail names the rule, never the value."""
    path: list[str | int] = list(error.absolute_path)
    rule = str(error.validator)
    kind = _KIND_OF_RULE.get(rule, Kind.SCHEMA)
    if rule == "required" and isinstance(error.instance, dict):
        names = error.validator_value if isinstance(error.validator_value, list) else []
        missing = next((n for n in names if n not in error.instance and error.message.startswith(repr(n))), None)
        missing = missing or next((n for n in names if n not in error.instance), None)
        if missing is not None:
            path.append(missing)
        return kind, pointer(path), "a required field is missing"
    if kind is Kind.UNKNOWN_FIELD and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            path.append(extra[0])
        return kind, pointer(path), "a field the schema does not allow (the object is closed)"
    if kind is Kind.TYPE:
        return kind, pointer(path), f"expected {error.validator_value}, got {type(error.instance).__name__}"
    if kind is Kind.ENUM:
        return kind, pointer(path), "not a value the spec lists"
    return kind, pointer(path), f"breaks the schema's {rule!r} rule"


class AnswerChecker:
    """Checks answers (and request bodies) against the operations of a router, compiled on first use."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._validators: dict[tuple[int, str, str], BodyValidator | None] = {}
        self._responses: dict[tuple[int, int], dict[str, Any] | None] = {}

    def operation(self, method: str, raw_path: str) -> Operation | None:
        return self.router.match(method, raw_path).operation

    def check_answer(
        self,
        method: str,
        raw_path: str,
        status: int,
        headers: Mapping[str, str],
        raw_body: bytes,
    ) -> tuple[list[Finding], Any]:
        """Findings for a raw answer, and its body as data (None when it has none or does not parse)."""
        return self.check_raw(self.operation(method, raw_path), method, raw_path, status, headers, raw_body)

    def check_raw(
        self,
        op: Operation | None,
        method: str,
        raw_path: str,
        status: int,
        headers: Mapping[str, str],
        raw_body: bytes,
    ) -> tuple[list[Finding], Any]:
        """As check_answer, for a request already routed to `op` (None: no operation matched)."""
        if op is None:
            detail = "no operation has this method and path"
            return [Finding(None, method, raw_path, status, Kind.UNDECLARED_OPERATION, "", detail)], None
        content_type = headers.get("content-type")
        data: Any = None
        findings: list[Finding] = []
        media = media_type(content_type)
        if raw_body and JSON_MEDIA.match(media):
            try:
                data = json.loads(raw_body)
            except (ValueError, UnicodeDecodeError):
                findings.append(self._finding(op, status, Kind.INVALID_BODY, "", f"the body is not valid {media}"))
                return findings, None
        elif raw_body:
            data = raw_body
        findings += self.check(op, status, content_type, data, headers, has_body=bool(raw_body))
        return findings, data

    def check(
        self,
        op: Operation,
        status: int,
        content_type: str | None,
        data: Any,
        headers: Mapping[str, str] | None = None,
        has_body: bool | None = None,
    ) -> list[Finding]:
        """Findings for an answer of `op` whose body is already data (None: no body)."""
        key = (id(op), status)
        if key not in self._responses:  # refs inlined once per (operation, status), not per answer
            self._responses[key] = declared_response(op, status)
        response = self._responses[key]
        if response is None:
            declared = ", ".join(sorted(op.responses))
            return [self._finding(op, status, Kind.UNDECLARED_STATUS, "", f"the spec declares only {declared}")]
        findings = []
        if headers is not None:
            for name, header in (response.get("headers") or {}).items():
                if isinstance(header, dict) and header.get("required") and name.lower() not in headers:
                    findings.append(self._finding(op, status, Kind.MISSING_HEADER, "", f"no {name} header"))
        content = response.get("content") or {}
        present = has_body if has_body is not None else data not in (None, b"", "")
        if not content:
            if present:
                findings.append(self._finding(op, status, Kind.UNEXPECTED_BODY, "", "the spec declares no body"))
            return findings
        if not present:
            return findings  # a declared body may be left out (HEAD, 304); a missing one is not a schema error
        media = media_type(content_type)
        declared_media = _declared_media(content, media)
        if declared_media is None:
            listed = ", ".join(content)
            detail = f"content type {media or '(none)'!r} is not one the spec declares ({listed})"
            return [*findings, self._finding(op, status, Kind.CONTENT_TYPE, "", detail)]
        validator = self._validator(op, status, declared_media, content)
        if validator is None or not JSON_MEDIA.match(media):
            return findings
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            kind, where, detail = _schema_finding(op, status, error)
            findings.append(self._finding(op, status, kind, where, detail))
        return findings

    def check_request(self, op: Operation, body: Any) -> list[Finding]:
        """Findings for a request body that breaks the operation's declared request schema."""
        if op.body_validator is None or body is None:
            return []
        findings = []
        for error in op.body_validator.iter_errors(body):
            _kind, where, detail = _schema_finding(op, 0, error)
            findings.append(Finding(op.operation_id, op.method, op.path, None, Kind.REQUEST, where, detail))
        return findings

    def _finding(self, op: Operation, status: int, kind: Kind, where: str, detail: str) -> Finding:
        return Finding(op.operation_id, op.method, op.path, status, kind, where, detail)

    def _validator(self, op: Operation, status: int, media: str, content: Mapping[str, Any]) -> BodyValidator | None:
        """The body's validator: jsonschema-rs answers a conforming body, jsonschema words the rest."""
        key = (id(op), str(status), media)
        if key not in self._validators:
            schema = (content.get(media) or {}).get("schema")
            compiled = compile_validator(schema, op.family.document) if schema is not None else None
            self._validators[key] = BodyValidator(compiled) if compiled is not None else None
        return self._validators[key]
