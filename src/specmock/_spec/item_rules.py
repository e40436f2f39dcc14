"""What a writing operation's body and answer mean for the item, compiled once per operation.

A vendor's body schema is not always the item's: it may leave an item field open
(Versori's HTTPConnectorCreate requires `connections` without declaring it) or
declare it otherwise (a ConnectionCreate where the item holds Connections); an
answer may wrap the item or list it in an envelope with fields of its own; a
create may answer one oneOf branch of the item. Each is read here from the
(inlined) schemas into what the engine applies per request: checks of the item's
own field schemas, the envelope's other required fields, the branch's consts.
Invariant: the item's own schema decides what is stored; nothing here changes a schema.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .examples import json_body_schema
from .fastvalidation import BodyValidator
from .model import Action, Collection
from .schematools import inline_refs
from .validation import InvalidSchema, compile_validator
from .variants import all_properties, consts_of, item_variants


def open_field_checks(
    document: dict[str, Any], collection: Collection, body_schema: Any, action: Action
) -> dict[str, BodyValidator]:
    """Checks for the item fields a writing body may carry without its schema saying what they are."""
    if action not in (Action.CREATE, Action.REPLACE, Action.UPDATE) or not isinstance(body_schema, dict):
        return {}
    sent = item_variants(body_schema)
    if all(shape.get("additionalProperties") is False for shape in sent):
        return {}
    declared = all_properties(sent)
    item = all_properties(collection.variants or (collection.schema,))
    checks = {}
    for name, prop in item.items():
        if name not in declared and isinstance(prop, dict) and prop:
            with contextlib.suppress(InvalidSchema):  # a broken field schema: the field goes unchecked
                checks[name] = BodyValidator(compile_validator(prop, document))
    return checks


def reshaped_field_checks(
    document: dict[str, Any], collection: Collection, body_schema: Any, action: Action
) -> dict[str, tuple[BodyValidator, dict[str, Any]]]:
    """The item fields a create or replace body declares under another schema than the item's
    (a create's `connections` of ConnectionCreate, where the item holds Connections): each with
    a check of the item's schema for it, and that schema."""
    if action not in (Action.CREATE, Action.REPLACE) or not isinstance(body_schema, dict):
        return {}
    declared = all_properties(item_variants(body_schema))
    item = all_properties(collection.variants or (collection.schema,))
    checks = {}
    for name, prop in item.items():
        if name in declared and isinstance(prop, dict) and prop and declared[name] != prop:
            with contextlib.suppress(InvalidSchema):
                checks[name] = (BodyValidator(compile_validator(prop, document)), prop)
    return checks


#: Envelope fields the paging styles write themselves.
_PAGING_FIELDS = {"totalCount", "next", "prev", "count", "previous"}


def envelope_fill(
    document: dict[str, Any], ext: dict[str, Any], responses: dict[str, Any], status: int
) -> dict[str, Any]:
    """A list envelope's (or an item wrapper's) required fields beyond its items, counts and
    paging: each with its schema."""
    envelope = ext.get("envelope") or ext.get("wrap")
    if not envelope:
        return {}
    schema = json_body_schema(inline_refs(responses.get(str(status)) or {}, document))
    if not isinstance(schema, dict):
        return {}
    shape = item_variants(schema)[0]
    props = shape.get("properties") or {}
    taken = {envelope, *ext.get("counts", ()), *(_PAGING_FIELDS if ext.get("paging", "none") != "none" else ())}
    return {name: props.get(name) or {} for name in shape.get("required", []) if name not in taken}


def branch_consts_of(
    document: dict[str, Any], collection: Collection, responses: dict[str, Any], status: int
) -> dict[str, Any]:
    """A create's answered oneOf branch, as the consts it fixes (`protocol: bigquery`)."""
    if len(collection.variants) < 2:
        return {}
    schema = json_body_schema(inline_refs(responses.get(str(status)) or {}, document))
    return consts_of(schema) if isinstance(schema, dict) else {}
