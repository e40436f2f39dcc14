"""Error body templates built from a document's own error schema.

A template is plain JSON data with ``$`` placeholders (the ones a family's
``x-specmock.errors.body`` uses, plus ``$detail``: the message naming the failing
fields, ``$title``, ``$statusText``, ``$now``, the field maps ``$fieldTree``,
``$fieldDict`` and ``$fieldLists``, and in a field's item ``$field``,
``$fieldMessage``, ``$fieldPointer``, ``$fieldLoc``, ``$fieldLine``) and two
internal nodes: ``Each`` (one item per failing field) and ``ByKind`` (an enum's
value chosen by the kind of problem). `schema_templates` reads a schema the way a
person fills in a form: the message goes where the schema says ``message`` or
``detail``, the status where it says ``status``, the failing fields where it has
an ``errors``-like array; a constrained field takes the document's ``const``,
enum value, example or default. `fill` renders a template for one problem.

Invariant: templates are built once per schema at start-up; `fill` only
substitutes values, it never reads a schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .regex_sample import sample

MISSING: Any = object()

#: Kinds of problem the mock raises (error_styles.DEFAULT_MESSAGES) and a forced status.
KINDS = (
    "missing_credentials",
    "invalid_credentials",
    "forbidden",
    "not_found",
    "route_not_found",
    "method_not_allowed",
    "unsupported_media_type",
    "malformed_json",
    "validation",
    "conflict",
    "payload_too_large",
    "throttled",
    "unavailable",
    "internal",
    "insufficient_storage",
    "forced",
)
#: Words an enum value may hold that fit each kind, best first.
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "missing_credentials": ("unauthorized", "unauthenticated", "missing", "credentials", "token", "auth", "invalid"),
    "invalid_credentials": ("token", "credentials", "unauthorized", "unauthenticated", "invalid", "auth"),
    "forbidden": ("forbidden", "permission", "denied", "scope", "access"),
    "not_found": ("not", "found", "missing", "unknown"),
    "route_not_found": ("not", "found", "route", "unknown"),
    "method_not_allowed": ("method", "allowed", "not"),
    "unsupported_media_type": ("media", "unsupported", "content", "type", "invalid"),
    "malformed_json": ("malformed", "json", "parse", "syntax", "invalid", "request", "bad"),
    "validation": ("validation", "invalid", "request", "parameter", "field", "bad", "unprocessable"),
    "conflict": ("conflict", "exists", "duplicate", "already"),
    "payload_too_large": ("large", "size", "payload", "too"),
    "throttled": ("rate", "limit", "throttled", "many", "quota"),
    "unavailable": ("unavailable", "service", "maintenance"),
    "internal": ("internal", "server", "error"),
    "insufficient_storage": ("storage", "limit", "quota"),
    "forced": (),
}
_MESSAGE_NAMES = {
    "message",
    "detail",
    "details",
    "description",
    "error_description",
    "errormessage",
    "error_message",
    "msg",
    "reason",
    "developermessage",
    "developer_message",
}
_TITLE_NAMES = {"title", "summary"}
_CODE_NAMES = {"code", "error", "error_code", "errorcode", "error_type", "errortype", "kind", "name", "type"}
_STATUS_NAMES = {"status", "statuscode", "status_code", "http_status", "httpstatus", "code", "httpcode"}
_FIELD_LISTS = {
    "errors",
    "details",
    "fields",
    "violations",
    "invalid_params",
    "invalidparams",
    "validation_errors",
    "validationerrors",
    "field_errors",
    "fielderrors",
    "problems",
    "issues",
    "causes",
    "invalid_fields",
    "params",
}
_ITEM_FIELD_NAMES = {
    "field",
    "name",
    "path",
    "parameter",
    "param",
    "property",
    "attribute",
    "key",
    "location",
    "target",
}
_ITEM_POINTER_NAMES = {"pointer", "json_pointer", "jsonpointer"}
_ITEM_LOC_NAMES = {"loc"}
_ITEM_MESSAGE_NAMES = _MESSAGE_NAMES | {"title", "error"}
#: A map of failing fields by the type of its values: `{"a.b": "why"}`, `{"a.b": ["why"]}`, else nested
#: (`{"a": {"b": ["why"]}}`); each `{}` when no field failed.
_FIELD_MAPS = {"string": "$fieldDict", "array": "$fieldLists"}
_ID_SUFFIXES = ("_id", "requestid", "traceid", "correlationid", "errorid")
#: The placeholders that name a failing field.
_FIELD_PLACES = {"$field", "$fieldPointer", "$fieldLoc", "$fieldLine"}
_FORMAT_VALUES = {
    "uuid": "00000000-0000-0000-0000-000000000000",
    "uri": "about:blank",
    "uri-reference": "about:blank",
    "iri": "about:blank",
    "email": "errors@example.com",
    "date": "1970-01-01",
    "ipv4": "127.0.0.1",
}


@dataclass(frozen=True)
class Each:
    """One copy of `item` per failing field; `at_least` items even when none failed."""

    item: Any
    at_least: int = 0


@dataclass(frozen=True)
class ByKind:
    """An enum's value per problem kind (chosen at start-up), `default` for any other."""

    values: tuple[tuple[str, Any], ...]
    default: Any


def fill(template: Any, values: dict[str, Any]) -> Any:
    """`template` with its placeholders replaced; a key whose value is MISSING is left out."""
    if isinstance(template, str):
        return values.get(template, template) if template.startswith("$") else template
    if isinstance(template, dict):
        out = {}
        for key, sub in template.items():
            filled = fill(sub, values)
            if filled is not MISSING:
                out[key] = filled
        return out
    if isinstance(template, list):
        return [v for v in (fill(item, values) for item in template) if v is not MISSING]
    if isinstance(template, ByKind):
        return dict(template.values).get(values["$kind"], template.default)
    if isinstance(template, Each):
        items = values["$fieldItems"]
        if len(items) < template.at_least:
            items = [*items, *[values["$selfItem"]] * (template.at_least - len(items))]
        return [fill(template.item, {**values, **item}) for item in items]
    return template


def placeholders(template: Any) -> Iterator[str]:
    """Every placeholder a template uses."""
    if isinstance(template, str) and template.startswith("$"):
        yield template
    elif isinstance(template, dict):
        for sub in template.values():
            yield from placeholders(sub)
    elif isinstance(template, list):
        for sub in template:
            yield from placeholders(sub)
    elif isinstance(template, Each):
        yield "$fields"
        yield from placeholders(template.item)
    elif isinstance(template, ByKind):
        yield "$kind"


def with_detail(template: Any) -> Any:
    """`template` with `$message` read as `$detail` (the message naming the failing fields),
    for a template that has no other room for them."""
    if template == "$message":
        return "$detail"
    if isinstance(template, dict):
        return {key: with_detail(sub) for key, sub in template.items()}
    if isinstance(template, list):
        return [with_detail(sub) for sub in template]
    return template


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()) if w}


def pick(enum: list[Any], kind: str, status: int, phrase: str) -> Any:
    """The enum value that best fits a problem of `kind` answered with `status`."""
    if status in enum:
        return status
    if str(status) in enum:
        return str(status)
    wanted = _KIND_WORDS.get(kind, ()) + tuple(_words(phrase))
    best, best_score = enum[0], 0.0
    for value in enum:
        words = _words(str(value))
        score = sum(1.0 / (1 + i) for i, word in enumerate(wanted) if word in words)
        if score > best_score:
            best, best_score = value, score
    return best


def _flat(schema: Any) -> dict[str, Any]:
    """A schema with its `allOf` merged in (properties, required, type); a non-dict as {}."""
    if not isinstance(schema, dict):
        return {}
    if "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props = dict(out.get("properties") or {})
    required = list(out.get("required") or [])
    for part in schema["allOf"]:
        flat = _flat(part)
        props.update(flat.get("properties") or {})
        required += [r for r in flat.get("required") or [] if r not in required]
        for key, value in flat.items():
            if key not in ("properties", "required"):
                out.setdefault(key, value)
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def constrained_string(schema: dict[str, Any]) -> bool:
    """Whether a string schema limits its values beyond a type (a value written here may not fit)."""
    return any(k in schema for k in ("format", "pattern", "enum", "const"))


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else None


def _or(value: Any, fallback: Any) -> Any:
    return fallback if value is MISSING else value


def _documented(schema: dict[str, Any]) -> Any:
    """The value the schema itself shows: const, default, first example, else MISSING. A null
    the schema's type does not allow (nexmo's `examples: [null]` on a string) is no example."""
    shown: list[Any] = [schema[key] for key in ("const", "default", "example") if key in schema]
    examples = schema.get("examples")
    if isinstance(examples, list):
        shown += examples
    kind = schema.get("type")
    nullable = kind is None or kind == "null" or (isinstance(kind, list) and "null" in kind)
    return next((value for value in shown if value is not None or nullable), MISSING)


class _Builder:
    """Builds the templates of one schema answered with one status."""

    def __init__(self, status: int, phrase: str) -> None:
        self.status = status
        self.phrase = phrase

    def enum(self, enum: list[Any]) -> ByKind:
        values = tuple((kind, pick(enum, kind, self.status, self.phrase)) for kind in KINDS)
        return ByKind(values, pick(enum, "forced", self.status, self.phrase))

    def field(self, name: str, raw: Any, required: bool) -> Any:
        """The template of one property: MISSING to leave an optional one out."""
        schema = _flat(raw)
        lowered = name.lower().replace("-", "_")
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.enum(schema["enum"])
        kind = _type(schema)
        if kind in ("integer", "number"):
            return self._number(lowered, schema, required)
        if kind == "array":
            items = schema.get("items")
            recursive = isinstance(items, dict) and "$ref" in items  # items we cannot read
            if lowered in _FIELD_LISTS and not recursive:
                return Each(self.item(items), int(schema.get("minItems") or 0))
            return _or(_documented(schema), []) if required else MISSING
        if kind == "object":
            values = schema.get("additionalProperties")
            if lowered in _FIELD_LISTS and isinstance(values, dict):
                return _FIELD_MAPS.get(str(_type(_flat(values))), "$fieldTree")
            return self.object(schema, top=False) if required or lowered in ("error", "problem") else MISSING
        if kind == "boolean":
            return _or(_documented(schema), False) if required else MISSING
        if kind in ("string", None):
            return self._string(lowered, schema, required)
        return _documented(schema) if required else MISSING

    def _number(self, lowered: str, schema: dict[str, Any], required: bool) -> Any:
        if lowered in _STATUS_NAMES or (required and ("code" in lowered or "status" in lowered)):
            return "$status"
        return _or(_documented(schema), schema.get("minimum", 0)) if required else MISSING

    def _string(self, lowered: str, schema: dict[str, Any], required: bool) -> Any:
        if not constrained_string(schema):
            if lowered in _MESSAGE_NAMES:
                return "$detail"
            if lowered in _TITLE_NAMES:
                return "$message"
            if lowered in _STATUS_NAMES - {"code"}:
                return "$statusText"
            if lowered == "type":
                return "about:blank"
            if lowered in _CODE_NAMES:
                return "$code"
        if schema.get("format") == "date-time" or (lowered in ("timestamp", "time") and "format" not in schema):
            return "$now"
        if schema.get("format") in ("uri", "uri-reference") and lowered == "type":
            return "about:blank"
        if not required:
            return MISSING
        documented = _documented(schema)
        if documented is not MISSING:
            return documented
        if isinstance(schema.get("pattern"), str):
            matching = sample(schema["pattern"])
            if matching is not None:
                return matching
        if lowered.endswith(("url", "uri", "href", "link")) and not constrained_string(schema):
            return "about:blank"
        if (lowered == "id" or lowered.endswith(_ID_SUFFIXES)) and not constrained_string(schema):
            return _FORMAT_VALUES["uuid"]
        return _FORMAT_VALUES.get(str(schema.get("format")), "$message")

    def item(self, raw: Any) -> Any:
        """The template of one failing field, as the schema's items describe it."""
        schema = _flat(raw)
        kind = _type(schema)
        if kind == "string" or (kind is None and not schema.get("properties")):
            return "$fieldLine"
        if kind != "object":
            return "$fieldLine"
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in (schema.get("properties") or {}).items():
            lowered = name.lower().replace("-", "_")
            sub_kind = _type(_flat(sub))
            if sub_kind == "object" and _FIELD_PLACES & set(placeholders(self.item(sub))):
                out[name] = self.item(sub)  # JSON:API's `source: {pointer}`
            elif lowered in _ITEM_POINTER_NAMES and sub_kind in ("string", None):
                out[name] = "$fieldPointer"
            elif lowered in _ITEM_LOC_NAMES and sub_kind == "array":
                out[name] = "$fieldLoc"
            elif lowered in _ITEM_FIELD_NAMES and sub_kind in ("string", None) and "enum" not in _flat(sub):
                out[name] = "$field"
            elif lowered in _ITEM_MESSAGE_NAMES and sub_kind in ("string", None) and "enum" not in _flat(sub):
                out[name] = "$fieldMessage"
            else:
                value = self.field(name, sub, name in required)
                if value is not MISSING:
                    out[name] = value
        if not _FIELD_PLACES & set(placeholders(out)):  # no place for the field: name it in the message
            message = next((k for k, v in out.items() if v == "$fieldMessage"), None)
            if message is not None:
                out[message] = "$fieldLine"
        limit = schema.get("maxProperties")
        if isinstance(limit, int) and len(out) > limit:  # JSON:API's `source` names one thing
            ranked = sorted(out, key=lambda k: (k not in required, out[k] not in _FIELD_PLACES))
            out = {k: out[k] for k in ranked[:limit]}
        return out

    def object(self, schema: dict[str, Any], top: bool = True) -> dict[str, Any]:
        """An object's template; at the `top`, the message goes in the first free string when
        no property is named for it."""
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in props.items():
            value = self.field(name, sub, name in required)
            if value is not MISSING:
                out[name] = value
        for name in sorted(required - set(props)):  # required but never described (nexmo's `title`)
            out[name] = self.field(str(name), {}, True)
        used = set(placeholders(out))
        if top and not used & {"$detail", "$fields", "$fieldMap", "$fieldTree", "$fieldDict", "$fieldLists"}:
            room = next(
                (
                    n
                    for n, s in props.items()
                    if _type(_flat(s)) == "string" and not set(_flat(s)) & {"enum", "const", "format", "pattern"}
                ),
                None,
            )
            if room is not None:
                out[room] = "$detail"
            elif not props and schema.get("additionalProperties") is not False:
                out["message"] = "$detail"
        return out


def schema_templates(schema: Any, status: int, phrase: str) -> list[Any]:
    """Candidate templates for `schema` (already inlined), best first: one per `oneOf`/`anyOf`
    branch (each merged with its siblings), else one. The caller keeps the first that fits."""
    builder = _Builder(status, phrase)
    flat = _flat(schema)
    branches = flat.get("oneOf") or flat.get("anyOf")
    candidates: list[Any] = []
    shapes = (
        [_flat({**{k: v for k, v in flat.items() if k not in ("oneOf", "anyOf")}, "allOf": [b]}) for b in branches]
        if isinstance(branches, list)
        else [flat]
    )
    for shape in shapes:
        if _type(shape) == "object":
            built = builder.object(shape)
            candidates.append(built)
            with_one = _with_an_item(built)
            if with_one != built:  # a oneOf may tell its branches apart only by a list's items
                candidates.append(with_one)
        else:  # a bare value: a string gets the message, an enum its fitting value, a const itself
            value = builder.field("message", shape, True)
            if value is not MISSING:
                candidates.append(value)
    return candidates


def _with_an_item(template: Any) -> Any:
    """`template` with every field list holding at least one item (the problem itself)."""
    if isinstance(template, Each):
        return Each(_with_an_item(template.item), max(1, template.at_least))
    if isinstance(template, dict):
        return {key: _with_an_item(sub) for key, sub in template.items()}
    if isinstance(template, list):
        return [_with_an_item(sub) for sub in template]
    return template
