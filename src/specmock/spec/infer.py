"""Derive `x-specmock` from REST conventions and a document's schemas.

A document without the extension is read the way a person reads it: a
`/things/{id}` whose GET returns an object is an item of the collection
`things`; the item schema is that response; the id's style comes from the
path parameter and the schema (integer -> integer, `format: uuid` -> uuid,
otherwise a string); GET/POST on the list path, GET/PUT/PATCH/DELETE on the
item path map to list/create/get/replace/update/delete. A POST elsewhere whose
success body is a collection's item schema (even inside a oneOf) creates in that
collection. Everything else answers its documented example (`action: example`).

Invariant: the result is plain data (what `specmock infer` prints and an
overlay carries); it never changes the document it reads. Its output always
passes the extension's own JSON Schema, so an inferred spec compiles like a
hand-written one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .model import Action
from .routing_trie import template_params
from .schematools import resolve_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]*\+)?json($|;)", re.IGNORECASE)


_PURE_PARAM = re.compile(r"^\{[^{}/]+\}$")
_ITEM_ACTIONS = {"get": Action.GET, "put": Action.REPLACE, "patch": Action.UPDATE, "delete": Action.DELETE}
_DEFAULT_STATUS = {Action.CREATE: 201, Action.DELETE: 204}


@dataclass
class Inference:
    """The extension derived for one document: the family's and each operation's."""

    family: dict[str, Any]
    operations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (path, method) -> ext


@dataclass
class _Candidate:
    name: str
    base: str  # the list path
    item_path: str
    id_param: str
    scope_params: tuple[str, ...]
    schema_ref: str
    fingerprints: frozenset[str]
    extension: dict[str, Any] = field(default_factory=dict)


def family_name(data: dict[str, Any], fallback: str) -> str:
    """A family name (lowercase, dashes) from the document's title, else `fallback`."""
    for raw in (str((data.get("info") or {}).get("title") or ""), fallback):
        slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")
        slug = re.sub(r"^[^a-z]+", "", slug)
        if slug:
            return slug[:60].rstrip("-")
    return "api"


def infer(data: dict[str, Any], fallback_name: str = "api") -> Inference:
    """The `x-specmock` a document without one would carry."""
    reader = _Reader(data)
    candidates = reader.collections()
    family: dict[str, Any] = {"family": family_name(data, fallback_name)}
    errors = reader.error_style()
    if errors:
        family["errors"] = errors
    family["collections"] = {c.name: c.extension for c in candidates}
    result = Inference(family)
    by_item = {c.item_path: c for c in candidates}
    by_base = {c.base: c for c in candidates}
    for path, item in reader.paths():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                result.operations[(path, method)] = reader.operation(path, method, item, by_item, by_base, candidates)
    return result


def _params(template: str) -> list[str]:
    return template_params(template)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


def _label(name: str) -> str:
    words = re.split(r"[_\-\s]+", _singular(name))
    return " ".join(w for w in words if w).capitalize() or "Resource"


class _Reader:
    """Read-only questions about one document's paths and schemas."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def paths(self) -> list[tuple[str, dict[str, Any]]]:
        return [(p, i) for p, i in (self.data.get("paths") or {}).items() if isinstance(i, dict)]

    def deref(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 32:
            try:
                node = resolve_pointer(self.data, node["$ref"])
            except (KeyError, IndexError, ValueError, TypeError):
                return {}
            depth += 1
        return node

    def flat(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """The schema with allOf branches merged (properties, required, type), for reading only."""
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > 16:
            return {}
        out = {k: v for k, v in schema.items() if k != "allOf"}
        props = dict(out.get("properties") or {})
        required = list(out.get("required") or [])
        for branch in schema.get("allOf") or []:
            sub = self.flat(branch, depth + 1)
            props.update(sub.get("properties") or {})
            required += [r for r in sub.get("required") or [] if r not in required]
            if "type" in sub:
                out.setdefault("type", sub["type"])
        if props:
            out["properties"] = props
            out.setdefault("type", "object")
        if required:
            out["required"] = required
        return out

    def json_content(self, holder: Any) -> tuple[str, Any] | None:
        """The (media type, media object) of the first JSON content of a body or response."""
        content = (self.deref(holder) or {}).get("content") if isinstance(self.deref(holder), dict) else None
        for media, obj in (content or {}).items():
            if JSON_MEDIA.match(media) and isinstance(obj, dict):
                return media, obj
        return None

    def success(self, op: dict[str, Any]) -> tuple[int | None, str, Any]:
        """(2xx status or None, pointer suffix, raw JSON schema or None) of the documented success."""
        responses = op.get("responses") or {}
        codes = sorted(c for c in responses if str(c).isdigit() and 200 <= int(c) < 300)
        for code in codes or ["default"]:
            found = self.json_content(responses.get(code))
            if found is not None and "schema" in found[1]:
                status = int(code) if code != "default" else None
                return status, f"responses/{code}/content/{_escape(found[0])}/schema", found[1]["schema"]
        return (int(codes[0]) if codes else None), "", None

    def fingerprints(self, schema: Any) -> frozenset[str]:
        """Names a schema is known by: its $ref, its branches' $refs, or its inlined text."""
        if not isinstance(schema, dict):
            return frozenset()
        if isinstance(schema.get("$ref"), str):
            target = self.deref(schema)
            return frozenset({schema["$ref"], *self.fingerprints(target)} - {""})
        found: set[str] = set()
        for key in ("oneOf", "anyOf"):
            for branch in schema.get(key) or []:
                found |= self.fingerprints(branch)
        if not found:
            found.add(json.dumps(schema, sort_keys=True, default=str))
        return frozenset(found)

    # -- collections -----------------------------------------------------------------

    def collections(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        names: set[str] = set()
        for path, item in self.paths():
            segments = path.rstrip("/").split("/")
            last = segments[-1]
            get = item.get("get")
            if not _PURE_PARAM.match(last) or not isinstance(get, dict) or len(segments) < 3:
                continue
            collection_segment = segments[-2]
            if collection_segment.startswith("{"):
                continue
            _status, suffix, schema = self.success(get)
            flat = self.flat(schema)
            if flat.get("type") not in ("object", None) or not flat.get("properties"):
                continue
            id_param = last[1:-1]
            base = "/".join(segments[:-1])
            pointer = (
                schema["$ref"] if isinstance(schema.get("$ref"), str) else (f"#/paths/{_escape(path)}/get/{suffix}")
            )
            name = self._unique_name(segments[:-1], names)
            names.add(name)
            found.append(
                _Candidate(
                    name=name,
                    base=base,
                    item_path=path,
                    id_param=id_param,
                    scope_params=tuple(_params(base)),
                    schema_ref=pointer,
                    fingerprints=self.fingerprints(schema),
                )
            )
        by_item = {c.item_path.rstrip("/"): c for c in found}
        for cand in found:
            cand.extension = self._collection_extension(cand, by_item)
        return found

    def _unique_name(self, segments: list[str], taken: set[str]) -> str:
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

    def _collection_extension(self, cand: _Candidate, by_item: dict[str, _Candidate]) -> dict[str, Any]:
        item = self.data["paths"][cand.item_path]
        get = item["get"]
        _status, _suffix, schema = self.success(get)
        flat = self.flat(schema)
        props = flat.get("properties") or {}
        id_field = self._id_field(cand.id_param, props, cand.name)
        param_schema = self._param_schema(item, get, cand.id_param)
        field_schema = self.flat(props.get(id_field, {}))
        style = _id_style(field_schema or param_schema, param_schema)
        ext: dict[str, Any] = {"label": _label(cand.name), "schema": cand.schema_ref, "id": {"style": style}}
        if id_field != "id":
            ext["id"]["field"] = id_field
        parent = by_item.get(cand.base.rsplit("/", 1)[0])
        if parent is not None and parent is not cand:
            ext["parent"] = parent.name
        elif cand.scope_params:
            ext["scope"] = {self._scope_field(p, props): p for p in cand.scope_params}
        return ext

    def _id_field(self, param: str, props: dict[str, Any], name: str) -> str:
        stem = _singular(name).lower()
        candidates = [param]
        lowered = param.lower()
        for prefix in (stem + "_", stem, _singular(stem)):
            if lowered.startswith(prefix) and len(param) > len(prefix):
                rest = param[len(prefix) :]
                candidates.append(rest[0].lower() + rest[1:])
        candidates += ["id", "name", "slug", "key"]
        for candidate in candidates:
            if candidate in props:
                return candidate
        return "id"

    def _scope_field(self, param: str, props: dict[str, Any]) -> str:
        # A path value is stored on the item under the parameter's name unless the schema
        # uses that name for something else (then it is kept out of the item's fields).
        return param if param not in props else f"_{param}"

    def _param_schema(self, item: dict[str, Any], op: dict[str, Any], name: str) -> dict[str, Any]:
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self.deref(raw)
            if isinstance(param, dict) and param.get("name") == name and param.get("in") == "path":
                return self.flat(param.get("schema") or {})
        return {}

    # -- operations ------------------------------------------------------------------

    def operation(
        self,
        path: str,
        method: str,
        item: dict[str, Any],
        by_item: dict[str, _Candidate],
        by_base: dict[str, _Candidate],
        candidates: list[_Candidate],
    ) -> dict[str, Any]:
        op = item[method]
        status, _suffix, schema = self.success(op)
        body = self.json_content(op.get("requestBody")) if "requestBody" in op else None
        body_ok = "requestBody" not in op or body is not None
        action: Action = Action.EXAMPLE
        coll: _Candidate | None = None
        envelope: str | None = None
        if path in by_item and method in _ITEM_ACTIONS and body_ok:
            coll, action = by_item[path], _ITEM_ACTIONS[method]
            if action in (Action.REPLACE, Action.UPDATE) and body is None:
                coll, action = None, Action.EXAMPLE
        elif path in by_base and method == "get" and body is None:
            envelope = self._envelope(schema, by_base[path])
            if envelope is not None:
                coll, action = by_base[path], Action.LIST
        elif method == "post" and body is not None:
            coll = by_base.get(path) or self._created_by(schema, path, candidates)
            if coll is not None:
                action = Action.CREATE
        if coll is None:
            example: dict[str, Any] = {"action": Action.EXAMPLE.value}
            return example if status is not None else {**example, "status": 200}
        ext: dict[str, Any] = {"action": action.value, "collection": coll.name}
        if action is Action.LIST and envelope:
            ext["envelope"] = envelope
        if action in _ITEM_ACTIONS.values() and coll.id_param != _params(path)[-1]:
            ext["idParam"] = coll.id_param
        if status is None:
            ext["status"] = _DEFAULT_STATUS.get(action, 200)
        return ext

    def _envelope(self, schema: Any, coll: _Candidate) -> str | None:
        """'' for a bare array of items, the array property's name for an envelope, None if not a list."""
        flat = self.flat(schema)
        if flat.get("type") == "array" or "items" in flat:
            return ""
        arrays = [
            name
            for name, sub in (flat.get("properties") or {}).items()
            if self.flat(sub).get("type") == "array" or "items" in self.flat(sub)
        ]
        matching = [
            n for n in arrays if self.fingerprints(self.flat(flat["properties"][n]).get("items")) & coll.fingerprints
        ]
        if len(matching) == 1:
            return str(matching[0])
        return str(arrays[0]) if len(arrays) == 1 else None

    def _created_by(self, schema: Any, path: str, candidates: list[_Candidate]) -> _Candidate | None:
        if schema is None:
            return None
        prints = self.fingerprints(schema)
        depth = len(_params(path))
        for cand in candidates:
            if prints & cand.fingerprints and len(cand.scope_params) == depth:
                return cand
        return None

    # -- errors ----------------------------------------------------------------------

    def error_style(self) -> dict[str, Any]:
        """The family's error body, built from the schema its 400 (else 422, 404, 4XX, default) documents."""
        for wanted in ("400", "422", "404", "4XX", "4xx", "default"):
            for _path, item in self.paths():
                for method in HTTP_METHODS:
                    op = item.get(method)
                    if not isinstance(op, dict) or wanted not in (op.get("responses") or {}):
                        continue
                    found = self.json_content((op.get("responses") or {})[wanted])
                    if found is None:
                        continue
                    body = self._error_template(found[1].get("schema"))
                    if body:
                        return {"body": body}
        return {}

    def _error_template(self, schema: Any) -> dict[str, Any] | None:
        flat = self.flat(schema)
        props = flat.get("properties") or {}
        if not props:
            return None
        required = set(flat.get("required") or [])
        template: dict[str, Any] = {}
        has_message = False
        for name, raw in props.items():
            sub = self.flat(raw)
            kind = sub.get("type")
            kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
            lowered = name.lower()
            if lowered in ("message", "detail", "error_description", "errormessage", "description") and kind in (
                "string",
                None,
            ):
                template[name] = "$message"
                has_message = True
            elif lowered in ("code", "status", "statuscode", "status_code") and kind == "integer":
                template[name] = "$status"
            elif lowered in ("code", "error", "title", "errorcode", "error_code") and kind in ("string", None):
                template[name] = "$code"
            elif lowered in ("errors", "details", "fields", "violations") and kind == "array":
                template[name] = "$fields"
            elif lowered == "type" and kind == "string" and sub.get("format") in ("uri", "uri-reference", None):
                template[name] = "about:blank"
            elif name in required:
                template[name] = _placeholder(sub)
        if not has_message:
            for name, raw in props.items():
                if self.flat(raw).get("type") == "string" and template.get(name) in (None, "$code"):
                    template[name] = "$message"
                    has_message = True
                    break
        return template if has_message else None


def _placeholder(schema: dict[str, Any]) -> Any:
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    return {"integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}.get(str(kind), "")


def _id_style(field_schema: dict[str, Any], param_schema: dict[str, Any]) -> str:
    kind = field_schema.get("type") or param_schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        return "integer"
    if field_schema.get("format") == "uuid" or param_schema.get("format") == "uuid":
        return "uuid"
    return "sequential"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def source_stem(path: str) -> str:
    """A fallback family name from a file path."""
    return PurePosixPath(path).stem
