"""Request fields a body's schema does not declare: ignored, as typed servers ignore them.

A server written against its own schema (Go's encoding/json, Java's Jackson with
unknown properties ignored) decodes a request into a struct: a property the
request schema does not declare never reaches it. Versori's UpdateConnector, for
instance, has no `connections` or `authSchemeConfigs`: a client that sends back
the connector it read (as generated clients do) changes neither. A family or an
operation opts in with `x-specmock.undeclaredFields: ignore`; the default, `keep`,
stores what was sent, as a schemaless server would.

`compile_projector` reads the (inlined) request schema once: the properties an
object declares (in it, its `allOf` parts or any `oneOf`/`anyOf` branch) are kept,
nested objects and arrays are projected the same way, and an object that allows
more (`additionalProperties` true or a schema, or no `properties` at all) is kept
whole. Invariant: a projector never adds nor changes a value, it only leaves
properties out, and copies only what it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .schematools import with_children

Projector = Callable[[Any], Any]

_COMBINATORS = ("allOf", "oneOf", "anyOf")
_MAX_DEPTH = 32


def _variants(schema: Any, depth: int = 0) -> list[dict[str, Any]] | None:
    """`schema` and every part or branch of it, flattened; None when a part is unknown (a `$ref`
    left in place by a recursive schema, or nesting too deep): then nothing is left out."""
    if not isinstance(schema, dict) or "$ref" in schema or depth > _MAX_DEPTH:
        return None
    out = [schema]
    for key in _COMBINATORS:
        for branch in schema.get(key) or ():
            more = _variants(branch, depth + 1)
            if more is None:
                return None
            out += more
    return out


def _open(variant: dict[str, Any]) -> bool:
    """Whether this part of a schema lets an object carry properties it does not name."""
    extra = variant.get("additionalProperties")
    if extra is True or isinstance(extra, dict):  # {} allows anything too
        return True
    if "patternProperties" in variant:
        return True
    kind = variant.get("type")
    object_like = kind == "object" or (isinstance(kind, list) and "object" in kind)
    return object_like and not variant.get("properties") and not any(k in variant for k in _COMBINATORS)


def compile_projector(schema: Any, depth: int = 0) -> Projector | None:
    """A function leaving out what `schema` does not declare, or None when it declares it all."""
    variants = _variants(schema, depth)
    if variants is None or any(_open(v) for v in variants):
        return None
    properties: dict[str, list[Any]] = {}
    items: list[Any] = []
    for variant in variants:
        for name, sub in (variant.get("properties") or {}).items():
            properties.setdefault(name, []).append(sub)
        if isinstance(variant.get("items"), dict):
            items.append(variant["items"])
    if properties:
        return _object_projector(properties, depth)
    if items:
        each = compile_projector({"anyOf": items}, depth + 1)
        if each is None:
            return None
        return lambda value: [each(v) for v in value] if isinstance(value, list) else value
    return None


def _object_projector(properties: dict[str, list[Any]], depth: int) -> Projector:
    names = frozenset(properties)
    children = {
        name: fn
        for name, subs in properties.items()
        if (fn := compile_projector(subs[0] if len(subs) == 1 else {"anyOf": subs}, depth + 1)) is not None
    }

    def project(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = value if names.issuperset(value) else {k: v for k, v in value.items() if k in names}
        return with_children(value, out, children)

    return project


def then(first: Projector | None, second: Projector | None) -> Projector | None:
    """`first`, then `second`; either may be None (nothing to do)."""
    if first is None:
        return second
    if second is None:
        return first
    return lambda value: second(first(value))
