"""What a writing operation's body and answer mean for the item, compiled once per operation.

A vendor's body schema is not always the item's: it may leave an item field open
(Versori's HTTPConnectorCreate requires `connections` without declaring it) or
declare it otherwise (a ConnectionCreate where the item holds Connections); an
answer may wrap the item or list it in an envelope with fields of its own; a
create may answer one oneOf branch of the item. Each is read here from the
(inlined) schemas into what the engine applies per request: checks of the item's
own field schemas, the envelope's other required fields, the branch's consts, the fields
another answer's item schema requires (a list of summaries).
Invariant: the item's own schema decides what is stored; nothing here changes a schema.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .examples import json_body_schema
from .fastvalidation import BodyValidator
from .model import Action, Collection, Operation
from .readonly import request_schema
from .schematools import inline_refs
from .subschema import implies
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
) -> dict[str, tuple[BodyValidator, dict[str, Any], bool]]:
    """The item fields a writing body declares under another schema than the item's (a create's
    `connections` of ConnectionCreate, where the item holds Connections; a PATCH's `properties`
    of PatchProperties, where the item's require a discriminator): each with a check of the
    item's schema for it, that schema, and whether a value the (validated) body sent is proved
    to pass it (a stricter `name` of `minLength: 1`; a `config` whose allOf holds the item's):
    then a create need not check that value again. An update merges such an object into the
    stored one."""
    if action not in (Action.CREATE, Action.REPLACE, Action.UPDATE) or not isinstance(body_schema, dict):
        return {}
    declared = all_properties(item_variants(body_schema))
    item = all_properties(collection.variants or (collection.schema,))
    # What the request validator holds each field to (request_schema relaxes readOnly ones), where
    # that is plain: one shape, the field among its own properties (not a branch's, nor a member's).
    plain = not any(key in body_schema for key in ("oneOf", "anyOf"))
    validated = (request_schema(body_schema).get("properties") if plain else None) or {}
    checks = {}
    for name, prop in item.items():
        if name in declared and isinstance(prop, dict) and prop and declared[name] != prop:
            with contextlib.suppress(InvalidSchema):
                trusted = name in validated and implies(validated[name], prop)
                checks[name] = (BodyValidator(compile_validator(prop, document)), prop, trusted)
    return checks


def partial_objects(collection: Collection, body_schema: Any, action: Action) -> frozenset[str]:
    """The objects an update's body sends as parts: fields whose body schema leaves out what the
    item's requires (Azure's PATCH `properties` of `{status}`, where the item's require their
    discriminator `type`). An update merges what is sent into the stored object; a field the
    body declares as fully as the item (an AppSec+ `config`) is replaced whole, as sent."""
    if action is not Action.UPDATE or not isinstance(body_schema, dict):
        return frozenset()
    declared = all_properties(item_variants(body_schema))
    item = all_properties(collection.variants or (collection.schema,))
    parts = set()
    for name, prop in item.items():
        sent = declared.get(name)
        if not isinstance(sent, dict) or not isinstance(prop, dict) or sent == prop:
            continue
        needed = {r for shape in item_variants(prop) for r in shape.get("required", [])}
        given = set.intersection(*(set(shape.get("required", [])) for shape in item_variants(sent)))
        if needed - given:
            parts.add(name)
    return frozenset(parts)


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


#: Actions whose success answers an item of their collection (a list: many).
_ANSWERING = (Action.LIST, Action.CREATE, Action.GET, Action.REPLACE, Action.UPDATE)


def answered_fields(document: dict[str, Any], op: Operation) -> dict[str, Any]:
    """The fields `op`'s answer requires of each item it shows that the collection's own schema
    does not make every item hold (Amazon MQ lists BrokerSummary, which requires EngineType,
    where the item requires nothing): each with the schema a value must fit (the answer's, and
    the item's where it declares the field). Only fields the item may carry: one its schema
    leaves out would be dropped from what is stored."""
    coll = op.collection
    if op.action not in _ANSWERING or not coll.schema:
        return {}
    schema = json_body_schema(inline_refs(op.responses.get(str(op.success_status)) or {}, document))
    if not isinstance(schema, dict):
        return {}
    inner = op.envelope if op.action is Action.LIST else op.wrap
    if inner:
        schema = (item_variants(schema)[0].get("properties") or {}).get(inner)
    if op.action is Action.LIST:
        schema = _items_of(schema)
    if not isinstance(schema, dict):
        return {}
    shapes = item_variants(schema)
    required = set.intersection(*(set(shape.get("required", [])) for shape in shapes))
    own = coll.variants or (coll.schema,)
    held = set.intersection(*(set(shape.get("required", [])) for shape in own))
    for shape in coll.variants:  # an answer of one branch (a create's) requires what that branch holds
        if set(shape.get("required", [])) <= required:
            held |= required
    held |= {coll.id_field, coll.key_field, coll.created_field, coll.updated_field, *coll.scope, *coll.embed}
    declared = all_properties(own)
    served = all_properties(shapes)
    fields = {}
    for name, theirs in served.items():
        if name not in required or name in held or name not in declared or not isinstance(theirs, dict):
            continue
        mine = declared[name]
        fields[name] = theirs if mine in (theirs, {}) or not isinstance(mine, dict) else {"allOf": [mine, theirs]}
    return fields


def _items_of(schema: Any, depth: int = 0) -> Any:
    """An array schema's `items`, through the `allOf` pieces AWS documents wrap it in."""
    if not isinstance(schema, dict) or depth > 16:
        return None
    if "items" in schema:
        return schema["items"]
    return next((found for piece in schema.get("allOf") or () if (found := _items_of(piece, depth + 1))), None)


def branch_consts_of(
    document: dict[str, Any], collection: Collection, responses: dict[str, Any], status: int
) -> dict[str, Any]:
    """A create's answered oneOf branch, as the consts it fixes (`protocol: bigquery`)."""
    if len(collection.variants) < 2:
        return {}
    schema = json_body_schema(inline_refs(responses.get(str(status)) or {}, document))
    return consts_of(schema) if isinstance(schema, dict) else {}
