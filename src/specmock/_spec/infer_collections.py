"""Which collections a document holds, and the rules their items follow.

A path ending in a parameter under a literal segment (`/things/{id}`), whose GET
answers an object (or a oneOf of objects), is an item of the collection
`things`; the list path is the item path without its last segment. From the item
schema and the path parameter come: the id field (the parameter's name, the
parameter less the collection's stem, `id`, `name`, ...), the id's style from its
declared type and format (integer, uuid, ulid, a pattern, a pattern of its format: an
`email` key is `user004217@example.com`; else sequential, as wide as its minLength), the
timestamps (`createdAt`-like and `updatedAt`-like date-time fields), and the
scope: the path values above the item, stored on the item under the field that
names them (`organisation_id` -> `organisationId`) when the schema has one of
the same type. Invariant: the extension built here passes COLLECTION_SCHEMA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .infer_reader import Reader, base_type, escape
from .routing_trie import template_params

_PURE_PARAM = re.compile(r"^\{[^{}/]+\}$")
_CREATED = ("createdat", "created", "createdon", "creationdate", "createtime", "datecreated", "insertedat")
_UPDATED = ("updatedat", "updated", "updatedon", "modifiedat", "modified", "lastmodified", "updatetime", "lastupdated")


@dataclass
class Candidate:
    """A collection found in the document, before its operations are mapped."""

    name: str
    base: str  # the list path
    item_path: str
    id_param: str
    scope_params: tuple[str, ...]
    schema_ref: str
    fingerprints: frozenset[str]
    props: dict[str, dict[str, Any]] = field(default_factory=dict)  # every field an item may have
    extension: dict[str, Any] = field(default_factory=dict)
    wrap: str | None = None  # the answer field holding the item (`data` of `{status_code, data}`)

    @property
    def segment(self) -> str:
        """The literal path segment naming the collection (`connectors`)."""
        return self.base.rstrip("/").rsplit("/", 1)[-1]

    @property
    def id_field(self) -> str:
        return str(self.extension.get("id", {}).get("field", "id"))


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


def _label(name: str) -> str:
    words = re.split(r"[_\-\s]+", singular(name))
    return " ".join(w for w in words if w).capitalize() or "Resource"


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_collections(reader: Reader) -> list[Candidate]:
    """Every collection the document's paths and schemas show, with its extension."""
    found: list[Candidate] = []
    names: set[str] = set()
    for path, item in reader.paths():
        segments = path.rstrip("/").split("/")
        get = item.get("get")
        if not _PURE_PARAM.match(segments[-1]) or not isinstance(get, dict) or len(segments) < 3:
            continue
        if segments[-2].startswith("{"):
            continue
        _status, suffix, schema = reader.success(get)
        props = reader.props(schema)
        if reader.flat(schema).get("type") not in ("object", None) or not props:
            continue
        base = "/".join(segments[:-1])
        pointer = schema["$ref"] if isinstance(schema.get("$ref"), str) else f"#/paths/{escape(path)}/get/{suffix}"
        wrap = wrapper_field(reader, schema, segments[-1][1:-1])
        if wrap is not None:
            inner = reader.flat(schema, branches=True)["properties"][wrap]
            pointer = (
                inner["$ref"] if isinstance(inner.get("$ref"), str) else _inner_pointer(reader, schema, pointer, wrap)
            )
            schema, props = inner, reader.props(inner)
        name = _unique_name(segments[:-1], names)
        names.add(name)
        found.append(
            Candidate(
                name=name,
                base=base,
                item_path=path,
                id_param=segments[-1][1:-1],
                scope_params=tuple(template_params(base)),
                schema_ref=pointer,
                fingerprints=reader.fingerprints(schema),
                props=props,
                wrap=wrap,
            )
        )
    by_item = {c.item_path.rstrip("/"): c for c in found}
    for cand in found:
        cand.extension = _collection_extension(reader, cand, by_item)
    return found


#: Answer fields that commonly hold the resource itself (`{"status_code": 200, "data": {...}}`).
_WRAPPERS = ("data", "result", "item", "resource", "payload", "record", "object")


def wrapper_field(reader: Reader, schema: Any, param: str) -> str | None:
    """The field of an answer that holds the item, when the answer wraps it: a wrapper-named
    object field, the answer itself naming no id. None when the answer is the item."""
    props = reader.props(schema)
    if any(_squash(name) in (_squash(param), "id") or _squash(name).endswith("id") for name in props):
        return None
    objects = [name for name, sub in props.items() if sub.get("properties") and name.lower() in _WRAPPERS]
    return objects[0] if len(objects) == 1 else None


def _inner_pointer(reader: Reader, schema: Any, pointer: str, wrap: str) -> str:
    """A JSON pointer to the wrapped item's schema, for an answer schema written inline."""
    target = reader.deref(schema)
    if isinstance(target, dict) and wrap in (target.get("properties") or {}):
        return f"{pointer}/properties/{escape(wrap)}"
    for index, piece in enumerate(target.get("allOf") or [] if isinstance(target, dict) else []):
        if wrap in (reader.deref(piece).get("properties") or {}) and not isinstance(piece.get("$ref"), str):
            return f"{pointer}/allOf/{index}/properties/{escape(wrap)}"
    return pointer


def _unique_name(segments: list[str], taken: set[str]) -> str:
    literal = [re.sub(r"[^A-Za-z0-9_]", "_", s) for s in segments if s and not s.startswith("{")]
    literal = [s if re.match(r"^[A-Za-z_]", s) else f"_{s}" for s in literal] or ["items"]
    name = literal[-1]
    for depth in range(2, len(literal) + 1):
        if name not in taken:
            break
        name = "_".join(literal[-depth:])
    while name in taken:
        name += "_"
    return name


def _collection_extension(reader: Reader, cand: Candidate, by_item: dict[str, Candidate]) -> dict[str, Any]:
    item = reader.data["paths"][cand.item_path]
    props = cand.props
    id_field = _id_field(cand.id_param, props, cand.name)
    param_schema = reader.param_schema(item, item["get"], cand.id_param)
    ext: dict[str, Any] = {
        "label": _label(cand.name),
        "schema": cand.schema_ref,
        "id": id_spec(props.get(id_field) or param_schema, param_schema),
    }
    if id_field != "id":
        ext["id"]["field"] = id_field
    timestamps = _timestamps(props)
    if timestamps:
        ext["timestamps"] = timestamps
    parent = by_item.get(cand.base.rsplit("/", 1)[0])
    if parent is not None and parent is not cand:
        ext["parent"] = parent.name
    elif cand.scope_params:
        ext["scope"] = {_scope_field(reader, item, p, props): p for p in cand.scope_params}
    return ext


def _id_field(param: str, props: dict[str, Any], name: str) -> str:
    """The item field the path parameter names: the parameter itself (`username`), the same name
    spelt otherwise (`BrokerId` for `broker-id`), the parameter less the collection's stem
    (`connector_id` -> `id`), the stem's id (`jobId` for `/jobs/{jobIdentity}`), then `id`, `name` ..."""
    stem = singular(name).lower()
    candidates = [param, *(p for p in props if _squash(p) == _squash(param))]
    lowered = param.lower()
    for prefix in (stem + "_", stem, singular(stem)):
        if lowered.startswith(prefix) and len(param) > len(prefix):
            rest = param[len(prefix) :]
            candidates.append(rest[0].lower() + rest[1:])
    candidates += [p for p in props if _squash(p) == _squash(stem) + "id"]
    candidates += ["id", "name", "slug", "key"]
    for candidate in candidates:
        if candidate in props:
            return candidate
    return param  # not in the schema: the item keeps the path's value under the parameter's name


def id_spec(field_schema: dict[str, Any], param_schema: dict[str, Any]) -> dict[str, Any]:
    """The id's style, from the declared type and format of the field (else the path parameter)."""
    kind = base_type(field_schema) or base_type(param_schema)
    formats = {field_schema.get("format"), param_schema.get("format")}
    if kind in ("integer", "number"):
        return {"style": "integer"}
    for style in ("uuid", "ulid"):
        if style in formats:
            return {"style": style}
    pattern = field_schema.get("pattern") or param_schema.get("pattern")
    if isinstance(pattern, str) and pattern:
        return {"style": "pattern", "pattern": pattern}
    for declared in (field_schema.get("format"), param_schema.get("format")):
        if declared in _FORMAT_IDS:
            return {"style": "pattern", "pattern": _FORMAT_IDS[declared]}
    shortest = field_schema.get("minLength") or param_schema.get("minLength")
    if isinstance(shortest, int) and not isinstance(shortest, bool) and shortest > 1:
        return {"style": "sequential", "width": min(shortest, 20)}  # `0001` where `1` is too short
    return {"style": "sequential"}


#: Patterns ids are drawn from where the key declares a format a counter's `1` breaks (a
#: client-chosen `email` the client left out): values of the format, plausible and distinct.
_FORMAT_IDS = {
    **dict.fromkeys(("email", "idn-email"), r"^user[0-9]{6}@example\.com$"),
    **dict.fromkeys(("hostname", "idn-hostname"), r"^host[0-9]{6}\.example\.com$"),
    **dict.fromkeys(("uri", "url", "iri", "uri-reference", "iri-reference"), r"^https://example\.com/id/[0-9]{6}$"),
    "ipv4": r"^10\.[1-9][0-9]?\.[1-9][0-9]?\.[1-9][0-9]?$",
    "ipv6": r"^fd00::[1-9a-f][0-9a-f]{3}$",
    "date": r"^20[0-9]{2}-0[1-9]-1[0-9]$",
}


def _timestamps(props: dict[str, dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for role, names in (("created", _CREATED), ("updated", _UPDATED)):
        for name, schema in props.items():
            if _squash(name) in names and schema.get("format") == "date-time" and not schema.get("writeOnly"):
                found[role] = name
                break
    return found


def _scope_field(reader: Reader, item: dict[str, Any], param: str, props: dict[str, dict[str, Any]]) -> str:
    """Where a path value is stored on the item: the field that names it (`organisationId` for
    `organisation_id`) when its type and constraints fit the parameter's; else the parameter's
    name, unless the schema uses that name for something else (then `_param`, kept out)."""
    param_schema = reader.param_schema(item, item["get"], param)
    for name, schema in props.items():
        if _squash(name) == _squash(param) and _fits(schema, param_schema):
            return name
    return param if param not in props else f"_{param}"


def _fits(field_schema: dict[str, Any], param_schema: dict[str, Any]) -> bool:
    if (base_type(field_schema) or "string") != (base_type(param_schema) or "string"):
        return False
    return all(field_schema.get(k) in (None, param_schema.get(k)) for k in ("pattern", "enum", "const", "maxLength"))
