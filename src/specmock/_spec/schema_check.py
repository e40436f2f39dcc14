"""Check a document's schemas against the 2020-12 meta-schema once each, not once per use.

A compiled validator's schema is the written schema with every `$ref` inlined.
Checking that whole tree costs milliseconds per kilobyte, and a large document
(GitHub's: 1,800 bodies and 3,700 parameter sets over 900 shared components)
would check the same components thousands of times: most of its start-up. An
inlined tree is valid when every schema it was built from is, so when every
schema written in a document passes (each checked once, as written), the
validators compiled from that document skip the check. When one fails, the
document is not marked and each validator checks its own tree as before, so
the error names the operation it breaks.
Invariant: a document is marked only after every schema in it passed.
jsonschema is imported only for a schema jsonschema-rs cannot vouch for (`schema_problem`).
"""

from __future__ import annotations

import json
from typing import Any

from .linear_regex import compiled
from .schematools import resolve_pointer

_checked: set[str] = set()
#: Documents whose every schema passed (held, so an id cannot be reused while listed).
_trusted: dict[int, dict[str, Any]] = {}
_DOCUMENTS_KEPT = 16


def check_document(document: dict[str, Any]) -> bool:
    """Check every schema written in `document`; True (and remembered) when all pass."""
    for schema in _schemas(document):
        key = json.dumps(schema, sort_keys=True, default=str)
        if key not in _checked:
            # jsonschema-rs vouches, else jsonschema decides
            if not surely_valid_schema(schema) and schema_problem(schema) is not None:
                return False
            _checked.add(key)
    while len(_trusted) >= _DOCUMENTS_KEPT:
        del _trusted[next(iter(_trusted))]
    _trusted[id(document)] = document
    return True


def schema_problem(schema: Any) -> str | None:
    """Why jsonschema's 2020-12 meta-schema (patterns checked by RE2) refuses `schema`, or None."""
    from jsonschema.exceptions import SchemaError

    from .patterns import check_schema

    try:
        check_schema(schema)
    except SchemaError as exc:
        return str(exc.message)
    return None


def surely_valid_schema(root: Any) -> bool:
    """Whether jsonschema-rs finds `root` valid against the 2020-12 meta-schema and every
    regex in it compiles in RE2: then jsonschema's own check (a third of start-up) is
    skipped. Anything else goes to jsonschema, whose SchemaError is the one reported.
    Shared by the document check here and the per-validator one (validation.py)."""
    try:
        import jsonschema_rs
    except ImportError:
        return False
    try:
        _compile_patterns(root)
        return bool(jsonschema_rs.meta.is_valid(root))
    except Exception:  # a pattern RE2 refuses, a `$schema` it would fetch, or a value it cannot take
        return False


def _compile_patterns(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str) and compiled(value) is None:
                raise ValueError(value)
            if key == "patternProperties" and isinstance(value, dict) and any(compiled(r) is None for r in value):
                raise ValueError(value)
            if key == "$schema":  # jsonschema-rs' meta check would fetch it (30 s on a silent server)
                raise ValueError(value)
            _compile_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _compile_patterns(value)


def is_trusted(document: dict[str, Any]) -> bool:
    """Whether `check_document` passed for this very document."""
    return _trusted.get(id(document)) is document


def _schemas(document: dict[str, Any]) -> list[Any]:
    """The schemas validators are built from: parameters', request bodies', and all they reference."""
    roots: list[Any] = []
    for item in (document.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for key, op in item.items():
            if key == "parameters":
                roots += [_deref(document, p).get("schema") for p in op or [] if isinstance(_deref(document, p), dict)]
            elif isinstance(op, dict):
                roots += [
                    _deref(document, p).get("schema")
                    for p in op.get("parameters") or []
                    if isinstance(_deref(document, p), dict)
                ]
                body = _deref(document, op.get("requestBody"))
                if isinstance(body, dict):
                    roots += [m.get("schema") for m in (body.get("content") or {}).values() if isinstance(m, dict)]
    found: list[Any] = []
    seen: set[str] = set()
    pending = [r for r in roots if isinstance(r, (dict, bool))]
    while pending:
        schema = pending.pop()
        found.append(schema)
        for ref in _refs(schema):
            if ref not in seen:
                seen.add(ref)
                target = _deref(document, {"$ref": ref})
                if isinstance(target, (dict, bool)) and target is not None:
                    pending.append(target)
    return found


def _deref(document: dict[str, Any], node: Any) -> Any:
    for _ in range(16):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
            return node
        try:
            node = resolve_pointer(document, node["$ref"])
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return node


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                found.append(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found
