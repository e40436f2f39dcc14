"""Compiling the `x-specmock` collections of a document: ids, schema, rules, lifecycle, links.

Invariants: a collection's schema is inlined (no `$ref` left) when compiled; every
collection a collection names (parent, references, embedded, children) exists, and an
embedded or child collection declares its parent; a mistake is a LoadError naming the
file and line, never a left-out operation (these are the author's own declarations).
"""

from __future__ import annotations

import random
from typing import Any

from .extension_check import check_extension
from .extension_schema import COLLECTION_SCHEMA
from .lifecycle import Lifecycle, compile_lifecycle
from .model import Collection, Family, Reference, UniqueRule
from .readonly import compile_filler, generated_defaults
from .regex_sample import sample_pattern
from .schematools import ExpansionTooLarge, compile_stripper, flagged_paths, inline_refs, resolve_through_refs
from .variants import item_variants
from .yaml_lines import Document, JsonPath


def compile_collection(doc: Document, name: str, raw: dict[str, Any]) -> Collection:
    """The collection `raw` (`x-specmock.collections.<name>`) declares."""
    at: JsonPath = ("x-specmock", "collections", name)
    check_extension(doc, at, raw, COLLECTION_SCHEMA, f"collection {name!r}")
    id_spec = raw.get("id", {"style": "integer"})
    schema: dict[str, Any] = {}
    if "schema" in raw:
        try:
            target = resolve_through_refs(doc.data, raw["schema"])
        except (KeyError, IndexError, ValueError):
            raise doc.error((*at, "schema"), f"schema {raw['schema']!r} does not exist") from None
        try:
            schema = inline_refs(target, doc.data)
        except ExpansionTooLarge as too_large:
            raise doc.error((*at, "schema"), f"collection {name!r}: {too_large}") from None
    timestamps = raw.get("timestamps", {})
    lifecycle = _lifecycle(doc, (*at, "lifecycle"), raw["lifecycle"], schema) if "lifecycle" in raw else None
    return Collection(
        name=name,
        label=raw.get("label", name),
        id_style=id_spec["style"],
        id_prefix=id_spec.get("prefix", ""),
        id_width=id_spec.get("width", 0),
        id_field=id_spec.get("field", "id"),
        key_field=raw.get("key", id_spec.get("field", "id")),
        id_pattern=_id_pattern(doc, (*at, "id"), id_spec),
        client_chosen_id=id_spec.get("clientChosen", False),
        schema=schema,
        variants=item_variants(schema) if any(k in schema for k in ("allOf", "oneOf", "anyOf")) else (),
        scope=raw.get("scope", {}),
        parent=raw.get("parent"),
        created_field=timestamps.get("created"),
        updated_field=timestamps.get("updated"),
        defaults=raw.get("defaults", {}),
        unique=[
            UniqueRule(
                fields=tuple(u["fields"]),
                when=u.get("when", {}),
                message=u.get("message", f"{raw.get('label', name)} already exists."),
            )
            for u in raw.get("unique", [])
        ],
        references=[
            Reference(
                field=r["field"],
                collection=r["collection"],
                status=r.get("status", 404),
                message=r.get("message", "{label} {value} not found."),
                expand=r.get("expand"),
            )
            for r in raw.get("references", [])
        ],
        embed={f: e["collection"] for f, e in raw.get("embed", {}).items()},
        children=[(c["collection"], c["item"]) for c in raw.get("children", [])],
        aliases=raw.get("aliases", {}),
        touch_parent=raw.get("touchParent", False),
        fixtures=raw.get("fixtures", []),
        write_only=frozenset(flagged_paths(schema, "writeOnly")),
        strip_write_only=compile_stripper(frozenset(flagged_paths(schema, "writeOnly"))),
        fill_generated=compile_filler(generated_defaults(schema)),
        lifecycle=lifecycle,
    )


def _id_pattern(doc: Document, at: JsonPath, id_spec: dict[str, Any]) -> str:
    """The regular expression of a `pattern` id, checked to be one ids can be drawn from."""
    if id_spec["style"] != "pattern":
        return ""
    pattern = id_spec.get("pattern")
    if not isinstance(pattern, str):
        raise doc.error(at, "id style 'pattern' needs a 'pattern'")
    try:
        sample_pattern(pattern, random.Random(0))
    except ValueError as exc:
        raise doc.error((*at, "pattern"), f"cannot draw ids from pattern {pattern!r}: {exc}") from None
    return pattern


def _lifecycle(doc: Document, at: JsonPath, raw: Any, schema: dict[str, Any]) -> Lifecycle:
    field = raw.get("field") if isinstance(raw, dict) else None
    enum = (schema.get("properties", {}).get(field) or {}).get("enum") if isinstance(field, str) else None
    lifecycle, errors = compile_lifecycle(raw, enum)
    if errors:
        path, reason = errors[0]
        raise doc.error((*at, *path), f"invalid lifecycle: {reason}")
    assert lifecycle is not None
    return lifecycle


def link_collections(doc: Document, family: Family) -> None:
    """Check the names collections give each other, and record each child on its parent."""
    base: JsonPath = ("x-specmock", "collections")
    names = family.collections
    for coll in names.values():
        at = (*base, coll.name)
        for target, key in (
            [(coll.parent, "parent")]
            + [(r.collection, "references") for r in coll.references]
            + [(c, "embed") for c in coll.embed.values()]
            + [(c, "children") for c, _ in coll.children]
        ):
            if target is not None and target not in names:
                raise doc.error((*at, key), f"collection {coll.name!r} names unknown collection {target!r}")
        if coll.parent:
            names[coll.parent].child_names.append(coll.name)
    for coll in names.values():
        for child in [*coll.embed.values(), *(c for c, _ in coll.children)]:
            if names[child].parent != coll.name:
                raise doc.error(
                    (*base, coll.name), f"collection {child!r} must declare parent: {coll.name} to be embedded"
                )


def scope_depth(family: Family, collection: Collection) -> int:
    """How many path values scope an item of `collection` (its parents' included)."""
    depth = 0
    current: Collection | None = collection
    while current is not None:
        depth += len(current.scope) if current.parent is None else 1
        current = family.collections.get(current.parent) if current.parent else None
    return depth
