"""Read-only questions inference asks of one document's paths and schemas.

A schema is read the way a person reads it: `$ref`s followed, `allOf` branches
merged, and the branches of a `oneOf`/`anyOf` read together (an item is any of
them, so its fields are all of theirs). Invariant: nothing here writes to the
document; every answer is a fresh value or a node of the document left as is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .schematools import resolve_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]*\+)?json($|;)", re.IGNORECASE)
_MAX_DEPTH = 16


def escape(part: str) -> str:
    """`part` as one JSON pointer segment."""
    return part.replace("~", "~0").replace("/", "~1")


def base_type(schema: dict[str, Any]) -> Any:
    """The schema's type, `null` left out of a type list."""
    kind = schema.get("type")
    return next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind


class Reader:
    """Questions about one document (`data`), answered without changing it."""

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

    def flat(self, schema: Any, depth: int = 0, branches: bool = False) -> dict[str, Any]:
        """The schema with allOf branches merged (properties, required, type), for reading only.

        With `branches`, the properties of every oneOf/anyOf branch are added too (none of
        their `required`: each branch requires its own)."""
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return {}
        out = {k: v for k, v in schema.items() if k != "allOf"}
        props = dict(out.get("properties") or {})
        required = list(out.get("required") or [])
        for branch in schema.get("allOf") or []:
            sub = self.flat(branch, depth + 1, branches)
            props.update(sub.get("properties") or {})
            required += [r for r in sub.get("required") or [] if r not in required]
            if "type" in sub:
                out.setdefault("type", sub["type"])
        if branches:
            for key in ("oneOf", "anyOf"):
                for branch in schema.get(key) or []:
                    sub = self.flat(branch, depth + 1, branches)
                    for name, prop in (sub.get("properties") or {}).items():
                        props.setdefault(name, prop)
        if props:
            out["properties"] = props
            out.setdefault("type", "object")
        if required:
            out["required"] = required
        return out

    def props(self, schema: Any) -> dict[str, dict[str, Any]]:
        """Every property an instance of `schema` may have (any branch's), each flattened."""
        return {
            name: self.flat(sub) for name, sub in (self.flat(schema, branches=True).get("properties") or {}).items()
        }

    def json_content(self, holder: Any) -> tuple[str, Any] | None:
        """The (media type, media object) of the first JSON content of a body or response."""
        holder = self.deref(holder)
        content = holder.get("content") if isinstance(holder, dict) else None
        for media, obj in (content or {}).items():
            if JSON_MEDIA.match(media) and isinstance(obj, dict):
                return media, obj
        return None

    def body_schema(self, op: dict[str, Any]) -> Any:
        """The JSON request body's schema, or None."""
        found = self.json_content(op.get("requestBody")) if "requestBody" in op else None
        return found[1].get("schema") if found is not None else None

    def success(self, op: dict[str, Any]) -> tuple[int | None, str, Any]:
        """(2xx status or None, pointer suffix, raw JSON schema or None) of the documented success."""
        responses = op.get("responses") or {}
        codes = sorted(c for c in responses if str(c).isdigit() and 200 <= int(c) < 300)
        for code in codes or ["default"]:
            found = self.json_content(responses.get(code))
            if found is not None and "schema" in found[1]:
                status = int(code) if code != "default" else None
                return status, f"responses/{code}/content/{escape(found[0])}/schema", found[1]["schema"]
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

    def param_schema(self, item: dict[str, Any], op: dict[str, Any], name: str) -> dict[str, Any]:
        """The flattened schema of path parameter `name` of `op` (its path item's included)."""
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self.deref(raw)
            if isinstance(param, dict) and param.get("name") == name and param.get("in") == "path":
                return self.flat(param.get("schema") or {})
        return {}

    def query_names(self, item: dict[str, Any], op: dict[str, Any]) -> set[str]:
        """The names of the query parameters `op` takes."""
        names = set()
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self.deref(raw)
            if isinstance(param, dict) and param.get("in") == "query" and isinstance(param.get("name"), str):
                names.add(param["name"])
        return names
