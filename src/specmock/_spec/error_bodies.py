"""Refusals in the shape the document declares for their status.

Every refusal the mock builds (a 400 naming the failing fields, a 401, a 404, a
409, a 415, a forced `Prefer: code=`...) is answered with the body the operation
documents for that status (its exact status, else `4XX`/`5XX`, else `default`),
else the one most of the document's operations declare for it, else the
family's own error template. For each status one template is chosen at start-up:
the family's template when it fits the schema (a bundled family's hand-declared
format never changes), else one built from the schema (error_templates), else the
documented example; "fits" means that samples of every problem that status can
carry validate against the schema. A schema nothing fits is reported once, as a
warning, and answered with the family's template.

Invariant: the request path only fills a chosen template; no schema is read or
validated per request.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .._encoding import encode
from .._errors import FieldError, Problem
from .error_styles import DEFAULT_MESSAGES, ErrorStyle, field_map
from .error_templates import MISSING, fill, placeholders, schema_templates, with_detail
from .fastvalidation import BodyValidator
from .media_types import sent_media_type
from .schematools import inline_refs
from .validation import InvalidSchema, compile_validator
from .yaml_lines import Document, JsonPath

log = logging.getLogger("specmock")

#: The kinds of problem the mock answers with each status (others: a forced status only).
KINDS_BY_STATUS: dict[int, tuple[str, ...]] = {
    400: ("validation", "malformed_json"),
    401: ("missing_credentials", "invalid_credentials"),
    403: ("forbidden",),
    404: ("not_found", "route_not_found"),
    405: ("method_not_allowed",),
    409: ("conflict",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation",),
    429: ("throttled",),
    500: ("internal",),
    503: ("unavailable",),
    507: ("insufficient_storage",),
}
_FIELD_KINDS = {"validation"}
_SAMPLE_FIELDS = [
    FieldError("items[0].name", "is required"),
    FieldError("size", "must be at most 10"),
    FieldError("", "is not of type 'object'"),  # the body itself
]
_SAMPLE_VALUES = {
    "label": "Item",
    "method": "PATCH",
    "path": "/x",
    "media_type": "text/plain",
    "detail": "x",
    "limit": 1,
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _pointer(field: str) -> str:
    parts = [p for p in field.replace("[", ".").replace("]", "").split(".") if p]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _loc(field: str) -> list[Any]:
    parts = [p for p in field.replace("[", ".").replace("]", "").split(".") if p]
    return ["body", *(int(p) if p.isascii() and p.isdigit() else p for p in parts)]


def _field_lists(fields: list[FieldError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in fields:
        out.setdefault(f.field, []).append(f.message)
    return out


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class ErrorBody:
    """How one status is answered: a template and its media type, or no body at all."""

    style: ErrorStyle
    template: Any = MISSING
    fields_template: Any = MISSING
    media_type: str | None = "application/json"
    #: How the choice was made: "template", "schema", "example", "text", "empty", "unfit".
    source: str = "template"

    def values(self, problem: Problem) -> dict[str, Any]:
        """The placeholders' values for `problem`."""
        fields = problem.fields
        detail = problem.message
        if fields:
            named = "; ".join(f"{f.field or 'body'}: {f.message}" for f in fields)
            detail = f"{detail.rstrip('.')}: {named}"
        items = [
            {
                "$field": f.field or "body",  # "" is the body itself
                "$fieldMessage": f.message,
                "$fieldPointer": _pointer(f.field),
                "$fieldLoc": _loc(f.field),
                "$fieldLine": f"{f.field or 'body'}: {f.message}",
            }
            for f in fields
        ]
        self_item = {
            "$field": "request",
            "$fieldMessage": problem.message,
            "$fieldPointer": "",
            "$fieldLoc": ["request"],
            "$fieldLine": problem.message,
        }
        return {
            "$code": self.style.code(problem.status),
            "$message": problem.message,
            "$detail": detail,
            "$title": _phrase(problem.status),
            "$status": problem.status,
            "$statusText": str(problem.status),
            "$kind": problem.kind,
            "$now": _now(),
            "$fields": [{"field": f.field, "message": f.message} for f in fields] or MISSING,
            "$fieldMap": field_map(fields) if fields else MISSING,
            "$fieldTree": field_map(fields),
            "$fieldDict": {f.field: f.message for f in fields},
            "$fieldLists": _field_lists(fields),
            "$fieldItems": items,
            "$selfItem": self_item,
        }

    def data(self, problem: Problem) -> Any:
        """The body for `problem` as JSON data (MISSING when the status has no body)."""
        if self.template is MISSING:
            return MISSING
        template = self.fields_template if problem.fields and self.fields_template is not MISSING else self.template
        body = fill(template, self.values(problem))
        return {"message": problem.message} if body is MISSING else body

    def render(self, problem: Problem) -> tuple[bytes, str | None]:
        """The encoded body for `problem` and its media type (b"" and None: no body)."""
        body = self.data(problem)
        if body is MISSING:
            return b"", None
        if self.media_type is not None and not _is_json(self.media_type):
            return str(body).encode("utf-8"), self.media_type
        return encode(body), self.media_type


def _is_json(media: str) -> bool:
    media = media.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


@dataclass
class ErrorBodies:
    """The error bodies of one operation (or of a family, for unrouted requests), by status."""

    by_status: dict[str, ErrorBody]
    fallback: Callable[[int], ErrorBody]
    _resolved: dict[int, ErrorBody] = field(default_factory=dict)

    def for_status(self, status: int) -> ErrorBody:
        found = self._resolved.get(status)
        if found is None:
            found = (
                self.by_status.get(str(status))
                or self.by_status.get(f"{str(status)[0]}XX")
                or self.by_status.get(f"{str(status)[0]}xx")
                or self.by_status.get("default")
                or self.fallback(status)
            )
            self._resolved[status] = found
        return found

    def render(self, problem: Problem) -> tuple[bytes, str | None]:
        return self.for_status(problem.status).render(problem)


def samples(style: ErrorStyle, status: int) -> list[Problem]:
    """Problems of every kind `status` can carry, with and without failing fields."""
    out = []
    for kind in KINDS_BY_STATUS.get(status, ("forced",)):
        message = style.message(kind, **_SAMPLE_VALUES)
        out.append(Problem(status, message, kind=kind))
        if kind in _FIELD_KINDS or status in (400, 422):
            out.append(Problem(status, message, kind=kind, fields=list(_SAMPLE_FIELDS)))
    out.append(Problem(status, _phrase(status) + ".", kind="forced"))
    return out


@dataclass(frozen=True)
class _Schema:
    """A response's JSON body as compile time reads it: media type, validator, inlined schema."""

    media: str
    validator: BodyValidator
    schema: Any
    examples: list[Any]


class ErrorBodyCompiler:
    """Chooses, once per distinct (response, status), the body a family answers it with."""

    def __init__(self, doc: Document, style: ErrorStyle) -> None:
        self.doc = doc
        self.document: dict[str, Any] = doc.data
        self.style = style
        self._cache: dict[tuple[str, int], ErrorBody] = {}
        self._read: dict[str, ErrorBody | _Schema] = {}
        self._style_body = ErrorBody(style, _style_template(style.body), _style_fields(style))
        self._counts: Counter[tuple[str, str]] = Counter()
        self._raw: dict[str, Any] = {}
        self._warned: set[str] = set()
        #: The family's bodies: its template until `finish` adds the document's usual ones.
        self.family_bodies = ErrorBodies({}, lambda status: self._style_body)

    def operation(self, op_id: str, responses: dict[str, Any], at: JsonPath) -> ErrorBodies:
        """The error bodies of one operation's documented error statuses; others as the family's.

        A range (`4XX`) or `default` is chosen for each status the mock answers through it,
        so a 405 checked against a `default` is checked as a 405, not as a 400."""
        by_status: dict[str, ErrorBody] = {}
        codes = [str(code) for code in responses if _is_error_code(str(code))]
        # exact codes first, then ranges, then default: each status takes the first that covers it
        for code in sorted(codes, key=lambda c: (not c.isdigit(), c.lower() == "default")):
            raw = responses[code]
            key = _key(raw)
            self._counts[(code, key)] += 1
            self._raw[key] = raw
            where = (*at, "responses", code)
            if code.isdigit():
                by_status[code] = self._compiled(key, raw, int(code), where, f"{op_id}'s {code}")
                continue
            for status in KINDS_BY_STATUS:
                if str(status) not in by_status and (code == "default" or code[0] == str(status)[0]):
                    by_status[str(status)] = self._compiled(key, raw, status, where, f"{op_id}'s {code}")
            by_status[code] = self._compiled(key, raw, 400 if code[0] in "4d" else 500, where, f"{op_id}'s {code}")
        return ErrorBodies(by_status, self.family_bodies.for_status)

    def finish(self) -> ErrorBodies:
        """The family's bodies, once every operation is compiled: for requests no operation
        answers (404, 405) and statuses an operation does not document, the response most
        operations declare for that status, else the family's template."""
        common: dict[str, str] = {}
        for (code, key), _count in self._counts.most_common():
            common.setdefault(code, key)
        for code, key in common.items():
            if code.isdigit():
                usual = self._compiled(key, self._raw[key], int(code), (), f"the usual {code}")
                self.family_bodies.by_status[code] = usual
        return self.family_bodies

    def _compiled(self, key: str, raw: Any, status: int, at: JsonPath, what: str) -> ErrorBody:
        cached = self._cache.get((key, status))
        if cached is None:
            read = self._read.get(key)
            if read is None:
                read = self._read[key] = self._read_response(raw)
            cached = self._cache[(key, status)] = (
                read if isinstance(read, ErrorBody) else self._choose(read, status, at, what)
            )
        return cached

    def _where(self, at: JsonPath) -> str:
        """`file:line (json.path)`; the line only when the document's line table is at hand
        (a JSON document's is built on first use by re-reading the file: seconds for GitHub's)."""
        if not at:
            return str(self.doc.path)
        line = self.doc.line_of(at) if type(self.doc.lines) is dict else None
        where = f"{self.doc.path}:{line}" if line else str(self.doc.path)
        return f"{where} ({_json_path(at)})"

    def _read_response(self, raw: Any) -> ErrorBody | _Schema:
        """What one response declares, read once whatever the statuses it answers: a body
        with no schema to fit (none, text, a schema we cannot compile), or its JSON schema."""
        style = self.style
        response = inline_refs(raw, self.document) if isinstance(raw, dict) else {}
        content = response.get("content") if isinstance(response, dict) else None
        if not content:
            return ErrorBody(style, source="empty")
        # JSON where the response allows it: a JSON type, or a wildcard (`*/*`) answered as JSON.
        declared = next((m for m in content if _is_json(sent_media_type(m))), None)
        if declared is None:
            return ErrorBody(style, "$detail", media_type=sent_media_type(next(iter(content))), source="text")
        media = sent_media_type(declared)
        media_obj = content.get(declared) or {}
        schema = media_obj.get("schema") if isinstance(media_obj, dict) else None
        template = ErrorBody(style, _style_template(style.body), _style_fields(style), media, "template")
        if schema is None:
            return template
        try:
            # jsonschema-rs answers a fitting body; jsonschema only words why one does not fit
            validator = BodyValidator(compile_validator(schema, self.document))
        except (InvalidSchema, RecursionError, KeyError):
            return template
        return _Schema(media, validator, schema, _examples(media_obj))

    def _choose(self, read: _Schema, status: int, at: JsonPath, what: str) -> ErrorBody:
        style = self.style
        media, validator = read.media, read.validator
        problems = samples(style, status)
        candidates = [ErrorBody(style, _style_template(style.body), _style_fields(style), media, "template")]
        templates = schema_templates(read.schema, status, _phrase(status))
        built = [ErrorBody(style, t, MISSING, media, "schema") for t in templates]
        candidates += [b for b in built if b.template != {}]
        candidates += [ErrorBody(style, example, MISSING, media, "example") for example in read.examples]
        # An empty object says nothing, but fits schemas nothing else can (closed allOf parts).
        candidates.append(ErrorBody(style, {}, MISSING, media, "schema"))
        for candidate in candidates:  # jsonschema-rs alone (the usual case: one fits)
            if all(validator.fits(candidate.data(p)) for p in problems):
                return candidate
        reasons: dict[str, str] = {}
        for candidate in candidates:  # none did: jsonschema decides, and words why
            errors = [e for p in problems for e in validator.iter_errors(candidate.data(p))]
            if not errors:
                return candidate
            reasons.setdefault(candidate.source, errors[0].message)
        reason = reasons.get("schema") or reasons.get("template", "")  # the closest attempt's
        if what in self._warned:  # one line per response, whatever the statuses it answers
            return ErrorBody(style, _style_template(style.body), _style_fields(style), media, "unfit")
        self._warned.add(what)
        message = "%s: %s: no error body fits its schema (%s); refusals use the family's format"
        log.warning(message, self._where(at), what, reason)
        return ErrorBody(style, _style_template(style.body), _style_fields(style), media, "unfit")


def _json_path(at: JsonPath) -> str:
    return ".".join(str(part) for part in at)


def _style_template(body: Any) -> Any:
    return body if set(placeholders(body)) & {"$fields", "$fieldMap"} else with_detail(body)


def _style_fields(style: ErrorStyle) -> Any:
    return MISSING if style.fields_body is None else style.fields_body


def _examples(media_obj: dict[str, Any]) -> list[Any]:
    out = []
    if "example" in media_obj:
        out.append(media_obj["example"])
    for ex in (media_obj.get("examples") or {}).values():
        if isinstance(ex, dict) and "value" in ex:
            out.append(ex["value"])
    return out


def _is_error_code(code: str) -> bool:
    return code == "default" or code[:1] in ("4", "5")


def _key(raw: Any) -> str:
    if isinstance(raw, dict) and set(raw) == {"$ref"}:
        return str(raw["$ref"])
    return json.dumps(raw, sort_keys=True, default=str)


__all__ = ["DEFAULT_MESSAGES", "ErrorBodies", "ErrorBody", "ErrorBodyCompiler", "samples"]
