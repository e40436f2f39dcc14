"""The shapes an item of a collection may take, read once at start-up.

An item schema written as `allOf` pieces is one shape (the pieces merged); one
written as a `oneOf`/`anyOf` (a discriminated connector: http or bigquery) is
one shape per branch, each with the outer schema's own fields. The engine fills
and orders an item by the shape it is: the branch its discriminator names, else
the one whose fields it holds most of (`baseUrl` -> the http branch).
Invariant: a shape is a plain object schema (`properties`, `required`, and the
branch's `additionalProperties`); the collection's own schema is left as is.
"""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 16


def item_variants(schema: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The shapes of an (inlined) item schema: one, or one per oneOf/anyOf branch."""
    outer = _merged(schema)
    branches = [b for key in ("oneOf", "anyOf") for b in schema.get(key) or [] if isinstance(b, dict)]
    if not branches:
        return (outer,)
    shapes = []
    for branch in branches:
        inner = _merged(branch)
        if inner.get("type") not in (None, "object") and not inner.get("properties"):
            continue
        shape = {**inner, "properties": {**outer.get("properties", {}), **inner.get("properties", {})}}
        shape["required"] = list(dict.fromkeys([*outer.get("required", []), *inner.get("required", [])]))
        shapes.append(shape)
    return tuple(shapes) or (outer,)


def pick_variant(shapes: tuple[dict[str, Any], ...], item: dict[str, Any]) -> dict[str, Any]:
    """The shape `item` is: one whose const (the discriminator) it carries, else the one
    whose fields it holds most of (ties: the first)."""
    if len(shapes) == 1:
        return shapes[0]
    best, best_score = shapes[0], -1
    for shape in shapes:
        props = shape.get("properties", {})
        consts = {n: p["const"] for n, p in props.items() if isinstance(p, dict) and "const" in p}
        if any(n in item and item[n] != v for n, v in consts.items()):
            continue
        score = sum(1 for name in item if name in props) + 100 * sum(1 for n in consts if n in item)
        if score > best_score:
            best, best_score = shape, score
    return best


def all_properties(shapes: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """Every field any shape declares (the first shape's schema of it)."""
    found: dict[str, Any] = {}
    for shape in shapes:
        for name, prop in (shape.get("properties") or {}).items():
            found.setdefault(name, prop)
    return found


def consts_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The fields an (inlined) object schema fixes with `const`: what says which branch it is."""
    merged = _merged(schema)
    return {n: p["const"] for n, p in (merged.get("properties") or {}).items() if isinstance(p, dict) and "const" in p}


def _merged(schema: Any, depth: int = 0) -> dict[str, Any]:
    """`schema` with its allOf pieces merged into one object schema."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {}
    out = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf", "anyOf", "discriminator")}
    props = dict(out.get("properties") or {})
    required = list(out.get("required") or [])
    for piece in schema.get("allOf") or []:
        sub = _merged(piece, depth + 1)
        for name, prop in (sub.get("properties") or {}).items():
            props[name] = (
                {**props[name], **prop} if isinstance(props.get(name), dict) and isinstance(prop, dict) else prop
            )
        required += [r for r in sub.get("required") or [] if r not in required]
        for key in ("type", "additionalProperties"):
            if key in sub:
                out.setdefault(key, sub[key])
    if props:
        out["properties"] = props
        out.setdefault("type", "object")
    out["required"] = required
    return out
