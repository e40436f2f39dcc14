"""Write docs/extension.md, the `x-specmock` reference, from the extension's JSON Schema.

The schema in `specmock._spec.extension_schema` is what a spec is checked against
at load, so it is the one source of truth for which keys exist, their types and
enums. What each key means is written once here, keyed by its path in the schema;
`tests/test_docs.py` fails when a key has no description, when a description names
a key the schema lacks, or when docs/extension.md differs from what this prints.

    python scripts/extension_reference.py > docs/extension.md
"""

# ruff: noqa: E501  (one description a line reads best)
from __future__ import annotations

import sys
from typing import Any

from specmock._spec.extension_schema import COLLECTION_SCHEMA, FAMILY_SCHEMA, OPERATION_SCHEMA

#: What each key means, by its dotted path under the three schemas.
DESCRIPTIONS: dict[str, str] = {
    # the document's top-level `x-specmock`
    "family": "The family's name: how scenarios, fixtures and the admin API refer to this document.",
    "errors": "The family's error format: the body every refusal the mock builds is rendered into.",
    "errors.body": "The error body's template; `$code`, `$message`, `$fields`, `$status` are filled per refusal.",
    "errors.fieldsBody": "The body for field errors when it differs from `body` (`$fieldMap` gives DRF's `{field: [messages]}`).",
    "errors.codes": 'The `$code` value for each status (`"404": not_found`).',
    "errors.messages": "The wording of each refusal, by its name (`missing_credentials`, `not_found`, `validation`, ...).",
    "errors.fieldMessages": "The wording of a field error, by the JSON Schema keyword that failed (`required`, `type`, `enum`, ...).",
    "errors.invalidPathStatus": "The status for a path parameter that breaks its schema (default 400).",
    "collections": "The stateful collections, by name.",
    "undeclaredFields": "Request properties the body's schema does not declare: `keep` (stored as sent, the default) or `ignore` (dropped, as a server decoding into its own types does).",
    # a collection
    "collection.label": "What one item is called in messages (`connector not found`).",
    "collection.id": "How ids are made.",
    "collection.id.style": "`sequential` (prefix + zero-padded number), `ulid`, `integer`, `uuid`, `pattern` (drawn from `pattern`), or `given` (the client's).",
    "collection.id.pattern": "For `pattern`: the regular expression new ids are drawn to match (`^usr_[a-z0-9]{12}$`).",
    "collection.id.clientChosen": "A create may name the id in its body (`username` for `/user/{username}`); without it one is drawn.",
    "collection.id.prefix": "For `sequential`: the text before the number (`conn-`).",
    "collection.id.width": "For `sequential`: the number's width, zero-padded.",
    "collection.id.field": "The item field that holds the id (default `id`).",
    "collection.key": "The field that addresses an item in paths when it is not the id (a version's `name`).",
    "collection.schema": "The item's schema, a local `$ref` (`#/components/schemas/Connector`).",
    "collection.scope": "Item fields filled from path parameters, which also scope every lookup (`organisationId: organisation_id`).",
    "collection.parent": "The collection this one's items belong to (versions of a connector); deleting the parent deletes them.",
    "collection.timestamps": "Fields stamped with the mock clock.",
    "collection.timestamps.created": "Set once, on create.",
    "collection.timestamps.updated": "Set on create and on every change.",
    "collection.defaults": "Values a new item takes when the request leaves them out.",
    "collection.unique": "Uniqueness rules, checked before any write (409 in the family's format).",
    "collection.unique.fields": "The fields whose values together must be unique.",
    "collection.unique.when": "Only items whose fields have one of these values take part (`status: [queued, running]`).",
    "collection.unique.message": "The refusal's wording; `{field}` and `{value}` are filled.",
    "collection.references": "Fields that must name an existing item of another collection.",
    "collection.references.field": "The referring field (dotted for nested ones, `system.id`).",
    "collection.references.collection": "The collection it refers to.",
    "collection.references.status": "The status when the target does not exist (default 404).",
    "collection.references.message": "The refusal's wording; `{value}` is filled.",
    "collection.references.expand": "Where the referred item is embedded in answers.",
    "collection.embed": "Answer fields that list another collection's items belonging to this one.",
    "collection.embed.collection": "The collection whose items are embedded.",
    "collection.children": "Items created in another collection with each new item (a connector's first draft version).",
    "collection.children.collection": "The child collection.",
    "collection.children.item": "The child item's fields.",
    "collection.aliases": "Reserved names that address the item matching these fields (`latest: {isLatest: true}`).",
    "collection.touchParent": "A change to an item also stamps its parent's `updated` timestamp.",
    "collection.lifecycle": "States an item moves through on the mock clock (timed or read-counted, with weighted outcomes); see Scenarios.",
    "collection.fixtures": "Items present at start and after every reset.",
    # an operation's `x-specmock`
    "operation.action": "The generic handler: `list`, `create`, `get`, `replace`, `update`, `delete`, `set`, or `example` (answer the documented example).",
    "operation.status": "The success status, when the document declares several.",
    "operation.collection": "The collection the action works on (every action but `example`).",
    "operation.idParam": "The path parameter that names the item (default: the last one); on an `example`, with `collection`, the item it answers under (404 once gone).",
    "operation.idInBody": 'The item is named by the body\'s id field, not the path (`PUT /pet` with `{"id": 7}`).',
    "operation.upsert": "For `replace`: an absent item is created with the path's id (201 if documented) instead of a 404.",
    "operation.counts": "For `list`: envelope fields that hold the number of items the list matched (`totalCount`, `total`).",
    "operation.set": "For `set`: the fields to change and their values (templates such as `$now`).",
    "operation.fill": "For `create`: values for fields the request leaves out (`{triggeredBy: {$caller: api-client}}`).",
    "operation.keep": "For `replace`: fields kept from the stored item whatever the request sends.",
    "operation.undeclaredFields": "This operation's own `undeclaredFields` (see the document's).",
    "operation.match": "Body fields that must equal a path parameter (`id: connector_id`), else 400.",
    "operation.reorder": "For `replace`: reorder a stored list by the ids the request gives.",
    "operation.reorder.by": "The request field that holds the ids in their new order.",
    "operation.reorder.field": "The stored list to reorder.",
    "operation.reorder.key": "The list items' id field.",
    "operation.exclusive": "For `set`: boolean fields that only one item of the parent may hold (`isLatest`).",
    "operation.wrap": 'The answer\'s wrapper field (`{"version": {...}}`).',
    "operation.mergedSchema": "For `update`: the schema the item the change would leave must satisfy.",
    "operation.envelope": "For `list`: the field of the answer that holds the items (`results`, `connectors`).",
    "operation.paging": "For `list`: `none`, `cursor` (`first`/`after`/`before`), `page` (`page_size`) or `offset` (`limit`/`offset`).",
    "operation.filters": "For `list`: query parameters that filter, by name.",
    "operation.filters.field": "The item field compared.",
    "operation.filters.match": "`eq` (default), `icontains`, `tags` (a tag map), or `any`.",
}

ROOTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("", "The document's `x-specmock`", FAMILY_SCHEMA),
    ("collection.", "A collection (`x-specmock.collections.NAME`)", COLLECTION_SCHEMA),
    ("operation.", "An operation's `x-specmock`", OPERATION_SCHEMA),
)


def _kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array of {_kind(schema['items'])}"
    return str(kind)


def _children(schema: dict[str, Any]) -> dict[str, Any]:
    """The keys below a schema: its properties, or those of its items or values."""
    for inner in (schema, schema.get("items"), schema.get("additionalProperties")):
        if inner is COLLECTION_SCHEMA and inner is not schema:
            return {}  # a family's collections: documented in their own section
        if isinstance(inner, dict) and isinstance(inner.get("properties"), dict):
            return dict(inner["properties"])
    return {}


def keys(prefix: str, schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """Every key under a schema, depth first: (dotted path, its schema, required)."""
    out: list[tuple[str, dict[str, Any], bool]] = []
    required = set(schema.get("required", ()))
    for name, sub in _children(schema).items():
        path = prefix + name
        out.append((path, sub, name in required))
        out += keys(path + ".", sub)
    return out


def render() -> str:
    """The reference page, as Markdown."""
    lines = [
        "# The `x-specmock` reference",
        "",
        "Behaviour an OpenAPI document cannot say (collections, ids, uniqueness, lifecycles) is declared",
        "in its `x-specmock` extension, in an overlay beside it, or inferred when the document has none",
        "(`specmock infer DOC` prints what was inferred). Every key is checked when the document loads;",
        "a misspelled one stops start-up with its file and line.",
        "",
        "This page is generated from the extension's JSON Schema by `scripts/extension_reference.py`.",
    ]
    for prefix, title, schema in ROOTS:
        lines += ["", f"## {title}", "", "| key | type | meaning |", "| --- | --- | --- |"]
        for path, sub, required in keys(prefix, schema):
            shown = path.removeprefix(prefix)
            mark = " (required)" if required else ""
            lines.append(f"| `{shown}`{mark} | {_kind(sub)} | {DESCRIPTIONS.get(path, '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
