"""Whether every value one (inlined) schema accepts is accepted by another, proved from the
keywords alone, so a check that would re-ask the second can be skipped at compile time.

Invariant: `implies(sent, kept)` is True only when it is provable by these rules (False
otherwise, never a guess): `sent` is `kept` itself; or `sent` holds every validating keyword
of `kept` with the same value and adds only keywords that can only refuse more (a `minLength`,
a `format`), none that changes what another keyword means (`properties` beside an
`additionalProperties`, OpenAPI 3.0's `nullable` or boolean `exclusiveMinimum`); or a member
of `sent`'s `allOf` implies `kept` (a value valid under `sent` is valid under each member).
Annotations (`description`, `example`, ...) validate nothing and are set aside on both sides.
"""

from __future__ import annotations

from typing import Any

#: Keywords that validate nothing (JSON Schema's annotations, OpenAPI's documentation fields).
ANNOTATIONS = frozenset(
    {"title", "description", "example", "examples", "default", "deprecated", "readOnly", "writeOnly"}
    | {"$comment", "externalDocs", "xml"}
)

#: Keywords that, added to a schema, only refuse more: each judges the value on its own.
RESTRICTING = frozenset(
    {"type", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "multipleOf"}
    | {"minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required", "enum", "const"}
)

#: How deep `allOf` members are followed.
_MAX_DEPTH = 8


def implies(sent: Any, kept: Any, depth: int = 0) -> bool:
    """Whether every value valid under `sent` is valid under `kept` (see the module docstring)."""
    if sent == kept:
        return True
    if not isinstance(sent, dict) or not isinstance(kept, dict) or depth > _MAX_DEPTH:
        return False
    sent_rules = {k: v for k, v in sent.items() if k not in ANNOTATIONS}
    kept_rules = {k: v for k, v in kept.items() if k not in ANNOTATIONS}
    same = all(name in sent_rules and sent_rules[name] == value for name, value in kept_rules.items())
    if same and all(name in kept_rules or name in RESTRICTING for name in sent_rules):
        return True
    members = sent.get("allOf")
    return isinstance(members, list) and any(implies(member, kept, depth + 1) for member in members)
