"""Derive `x-specmock` from REST conventions and a document's schemas.

A document without the extension is read the way a person reads it. The
collections and their item rules come from `infer_collections`; here each
operation is mapped onto a generic action:

- on the item path, GET/PUT/PATCH/DELETE are get/replace/update/delete; a PUT
  of a collection that nothing else creates (or that documents both a 200/204
  and a 201) is an upsert: it creates the item the path names when it is absent;
- on the list path, GET is a list (bare array or envelope; the envelope's count
  fields and its cursor, page or offset paging follow the items), POST a create;
- a POST elsewhere whose success body is one of a collection's item schemas
  (a oneOf branch included), or whose path ends in the collection's segment at
  the same depth, creates in that collection (`POST /o/{org}/protocols/http/
  connectors` creates a connector of `/o/{org}/connectors/{connector_id}`);
- a PUT/PATCH on the list path whose body holds the id field changes the item
  that field names (`PUT /pet` with `{"id": 7, ...}`);
- a replace keeps what the client cannot send: readOnly fields and fields its
  body schema does not have (`id`, `createdAt`, `organisationId` ...);
- a create body that holds a field named as the item's path parameter (`username`
  for `/user/{username}`) chooses the item's id.

Everything else answers its documented example (`action: example`); one under an item's
path names that item (`collection`, `idParam`) and answers 404 once the item is gone.

Invariant: the result is plain data (what `specmock infer` prints and an
overlay carries); it never changes the document it reads. Its output always
passes the extension's own JSON Schema, so an inferred spec compiles like a
hand-written one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .infer_collections import Candidate, find_collections
from .infer_errors import error_style
from .infer_reader import HTTP_METHODS, Reader, base_type
from .model import Action
from .routing_trie import template_params

_ITEM_ACTIONS = {"get": Action.GET, "put": Action.REPLACE, "patch": Action.UPDATE, "delete": Action.DELETE}
_BODY_ACTIONS = {"put": Action.REPLACE, "patch": Action.UPDATE}
_DEFAULT_STATUS = {Action.CREATE: 201, Action.DELETE: 204}
_COUNTS = ("totalcount", "total", "count", "totalitems", "totalelements", "totalresults", "totalsize", "itemcount")


@dataclass
class Inference:
    """The extension derived for one document: the family's and each operation's."""

    family: dict[str, Any]
    operations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (path, method) -> ext


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
    reader = Reader(data)
    candidates = find_collections(reader)
    family: dict[str, Any] = {"family": family_name(data, fallback_name)}
    errors = error_style(reader)
    if errors:
        family["errors"] = errors
    family["collections"] = {c.name: c.extension for c in candidates}
    result = Inference(family)
    mapper = _Mapper(reader, candidates)
    for path, item in reader.paths():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                result.operations[(path, method)] = mapper.operation(path, method, item)
    mapper.finish(result.operations)
    return result


class _Mapper:
    """Maps each operation onto a collection's action."""

    def __init__(self, reader: Reader, candidates: list[Candidate]) -> None:
        self.reader = reader
        self.candidates = candidates
        self.by_item = {c.item_path: c for c in candidates}
        self.by_base = {c.base: c for c in candidates}
        self.by_name = {c.name: c for c in candidates}
        self.create_bodies: dict[str, list[Any]] = {}  # collection -> its creates' body schemas

    def operation(self, path: str, method: str, item: dict[str, Any]) -> dict[str, Any]:
        op = item[method]
        reader = self.reader
        status, _suffix, schema = reader.success(op)
        body = reader.body_schema(op)
        body_ok = "requestBody" not in op or body is not None
        coll: Candidate | None = None
        action = Action.EXAMPLE
        ext: dict[str, Any] = {}
        if path in self.by_item and method in _ITEM_ACTIONS and body_ok:
            coll, action = self.by_item[path], _ITEM_ACTIONS[method]
            if action in _BODY_ACTIONS.values() and body is None:
                coll, action = None, Action.EXAMPLE
        elif path in self.by_base and method == "get" and body is None:
            coll = self.by_base[path]
            list_ext = self._list(schema, coll, reader.query_names(item, op))
            if list_ext is None:
                coll = None
            else:
                action, ext = Action.LIST, list_ext
        elif path in self.by_base and method in _BODY_ACTIONS and self._holds_id(body, self.by_base[path]):
            coll, action = self.by_base[path], _BODY_ACTIONS[method]
            ext["idInBody"] = True
        elif method == "post" and body is not None and base_type(reader.flat(body)) in ("object", None):
            coll = self.by_base.get(path)
            coll = (coll if self._answers_item(schema, coll) else None) if coll else self._created_by(schema, path)
            if coll is not None:
                action = Action.CREATE
                self.create_bodies.setdefault(coll.name, []).append(body)
        if coll is None:
            example: dict[str, Any] = {"action": Action.EXAMPLE.value, **self._within(path)}
            return example if status is not None else {**example, "status": 200}
        out: dict[str, Any] = {"action": action.value, "collection": coll.name, **ext}
        if coll.wrap and action is not Action.LIST and coll.wrap in reader.props(schema):
            out["wrap"] = coll.wrap
        if action.needs_id and "idInBody" not in out and coll.id_param != template_params(path)[-1]:
            out["idParam"] = coll.id_param
        if action is Action.REPLACE:
            keep = self._server_fields(coll, body)
            if keep:
                out["keep"] = keep
            documented = set(op.get("responses") or {})
            if "201" in documented and documented & {"200", "204"} and "idInBody" not in out:
                out["upsert"] = True  # replaced (200) or created (201)
        if status is None:
            out["status"] = _DEFAULT_STATUS.get(action, 200)
        return out

    def finish(self, operations: dict[tuple[str, str], dict[str, Any]]) -> None:
        """What needs every operation seen: upserts where nothing else creates, client-chosen ids
        (the key field the path names, `username` for `{username}` or `email` for `{userEmail}`,
        sent by the create's body)."""
        for (path, _method), ext in operations.items():
            replace = ext.get("action") == Action.REPLACE.value and "idInBody" not in ext
            if replace and ext.get("collection") not in self.create_bodies and path in self.by_item:
                ext["upsert"] = True
        for name, bodies in self.create_bodies.items():
            coll = self.by_name[name]
            id_field = coll.id_field
            if id_field != coll.id_param and id_field == "id":
                continue  # a plain `id` the path names otherwise (`petId`) is the server's to draw

            for body in bodies:
                sub = self.reader.props(body).get(id_field)
                if sub is not None and not sub.get("readOnly"):
                    coll.extension["id"]["clientChosen"] = True
                    break

    # -- reading one operation -------------------------------------------------------

    def _list(self, schema: Any, coll: Candidate, query: set[str]) -> dict[str, Any] | None:
        """A list's extension: its envelope, the fields that count its items, its paging; None if not a list."""
        envelope = self._envelope(schema, coll)
        if envelope is None:
            return None
        if not envelope:
            return {}
        ext: dict[str, Any] = {"envelope": envelope}
        props = self.reader.props(schema)
        counts = [n for n, s in props.items() if _squash(n) in _COUNTS and base_type(s) in ("integer", "number")]
        if {"first", "after"} <= query and "totalCount" in props:
            ext["paging"] = "cursor"
            counts = [c for c in counts if c != "totalCount"]
        elif {"page", "page_size"} <= query and {"count", "next", "previous"} <= set(props):
            ext["paging"] = "page"
        elif {"limit", "offset"} <= query:
            ext["paging"] = "offset"
        if counts:
            ext["counts"] = counts
        return ext

    def _envelope(self, schema: Any, coll: Candidate) -> str | None:
        """'' for a bare array of items, the array property's name for an envelope, None if not a list."""
        reader = self.reader
        flat = reader.flat(schema)
        if flat.get("type") == "array" or "items" in flat:
            return ""
        props = flat.get("properties") or {}
        arrays = [
            n for n, sub in props.items() if reader.flat(sub).get("type") == "array" or "items" in reader.flat(sub)
        ]
        matching = [n for n in arrays if reader.fingerprints(reader.flat(props[n]).get("items")) & coll.fingerprints]
        if len(matching) == 1:
            return str(matching[0])
        return str(arrays[0]) if len(arrays) == 1 else None

    def _created_by(self, schema: Any, path: str) -> Candidate | None:
        """The collection a POST at `path` creates in: one whose item schema it answers (a
        branch of a oneOf included), the one named by the path's last segment first."""
        depth = len(template_params(path))
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        fitting = [c for c in self.candidates if len(c.scope_params) == depth]
        prints = self.reader.fingerprints(schema) if schema is not None else frozenset()
        matching = [c for c in fitting if prints & c.fingerprints]
        named = [c for c in matching or fitting if c.segment == segment]
        if named and (matching or (schema is not None and named[0].id_field in self.reader.props(schema))):
            return named[0]
        return matching[0] if matching else None

    def _within(self, path: str) -> dict[str, Any]:
        """For an example under an item's path (`/connectors/{id}/tags`): that item's collection
        and id parameter (as this path names it), so it answers 404 once the item is gone."""
        shape = _shape(path)
        owners = [c for c in self.candidates if shape[: len(_shape(c.item_path))] == _shape(c.item_path)]
        if not owners:
            return {}
        owner = max(owners, key=lambda c: len(_shape(c.item_path)))
        at = len(_shape(owner.item_path)) - 1
        return {"collection": owner.name, "idParam": path.rstrip("/").split("/")[at][1:-1]}

    def _answers_item(self, schema: Any, coll: Candidate) -> bool:
        """Whether a POST answering `schema` answers an item of `coll` (no body says nothing
        against it): its schema, or an object whose fields are all the item's. An array, or an
        object with fields of its own (an upload's `url`), is something else the POST makes."""
        if schema is None:
            return True
        if self.reader.fingerprints(schema) & coll.fingerprints:
            return True
        props = self.reader.props(schema)
        if coll.wrap and coll.wrap in props:
            return True
        return base_type(self.reader.flat(schema)) in ("object", None) and bool(props) and set(props) <= set(coll.props)

    def _holds_id(self, body: Any, coll: Candidate) -> bool:
        return body is not None and coll.id_field in self.reader.props(body)

    def _server_fields(self, coll: Candidate, body: Any) -> list[str]:
        """The item's fields a replace keeps: readOnly ones and those its body cannot carry."""
        sendable = self.reader.props(body) if body is not None else {}
        skip = {coll.id_field, *(coll.extension.get("timestamps") or {}).values(), *(coll.extension.get("scope") or {})}
        return [
            name
            for name, sub in coll.props.items()
            if name not in skip and (name not in sendable or sendable[name].get("readOnly") or sub.get("readOnly"))
        ]


def _shape(path: str) -> list[str]:
    """A path's segments with parameter names erased (`/a/{id}` and `/a/{aId}` are one shape)."""
    return [re.sub(r"^\{[^{}]*\}$", "{}", part) for part in path.rstrip("/").split("/")]


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def source_stem(path: str) -> str:
    """A fallback family name from a file path."""
    return PurePosixPath(path).stem
