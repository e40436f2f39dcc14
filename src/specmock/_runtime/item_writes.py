"""The write actions: create (and upsert), replace, update, set and delete.

Invariants:
- Every check (the body against the path, references, uniqueness, a merged schema, a
  reorder's ids, the store's limit) runs before the first write: a refused request
  changes nothing.
- A change never alters an item's id, key, creation time, bookkeeping or scope fields.
- readOnly fields of a body are ignored, write-only ones kept from the old item when a
  change leaves them out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._clock import isoformat
from .._errors import FieldError, Problem
from .._spec.lifecycle import META
from .._spec.model import Collection, Family, Operation
from .._spec.validation import field_error
from .calls import Call, Result
from .item_building import fresh_defaults, shaped
from .item_views import ItemViews
from .secrets import keep_write_only
from .state.protocol import Item, Scope


class ItemWrites(ItemViews):
    """The actions that change items."""

    def _create(self, call: Call, coll: Collection, family: Family, named: Any = None) -> Result:
        """A new item; `named` is the id an upsert's path gives it (answered with the created status)."""
        op = call.operation
        scope = self._scope(call)
        if coll.parent is not None:
            self._require_parent(family, coll, scope)
        now = self.clock.now()
        fields = _writable(op, call.body)
        if op.fill_fields or op.set_fields:
            left_out = {name: value for name, value in op.fill_fields.items() if name not in fields}
            fields = {**self._resolve(left_out, now, call.caller), **fields, **self._resolve(op.set_fields, now)}
        elif op.branch_consts or named is not None:
            fields = dict(fields)  # the body's own dict is the validated call's: written to only as a copy
        for name, value in op.branch_consts.items():
            fields.setdefault(name, value)
        if named is not None:
            fields[coll.id_field] = named
        if self.max_items is not None and self.store.size(coll.key) >= self.max_items:
            message = family.errors.message("insufficient_storage", label=coll.label, limit=self.max_items)
            raise Problem(507, message, kind="insufficient_storage")
        item = self._new_item(family, coll, scope, fields, now, keep_id=named is not None)
        self._conform(op, item, now, call.body)
        self._insert(family, coll, scope, item, now)
        status = op.created_status if named is not None else op.success_status
        return self._written(op, family, coll, scope, item, status)

    def _replace(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        if op.upsert:
            scope = self._scope(call)
            self._require_parent(family, coll, scope)
            key = self._named_key(call, coll)
            if self.store.encoded(coll.key, scope, key) is None:
                return self._create(call, coll, family, named=key)
        scope, old = self._existing(call, coll, family)
        body = _writable(op, call.body)
        self._check_match(call, body)
        new = fresh_defaults(coll.defaults)
        new.update({f: old[f] for f in op.keep if f in old})
        new.update(body)
        keep_write_only(coll.write_only, old, body, new)
        return self._save_change(call, coll, family, scope, old, new)

    def _update(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope, old = self._existing(call, coll, family)
        body = _writable(op, call.body)
        self._check_match(call, body)
        new = {**old, **body, **_merged_objects(op.partial_objects, old, body)}
        keep_write_only(coll.write_only, old, body, new)
        _check_merged(op, new)
        return self._save_change(call, coll, family, scope, old, new)

    def _set(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope, old = self._existing(call, coll, family)
        return self._save_change(
            call, coll, family, scope, old, {**old, **self._resolve(op.set_fields, self.clock.now())}
        )

    def _delete(self, call: Call, coll: Collection, family: Family) -> Result:
        scope, item = self._existing(call, coll, family)
        key = item[coll.key_field]
        self.store.remove(coll.key, scope, key)
        self._drop_children(family, coll, (*scope, key))
        self._touch_parent(family, coll, scope, self.clock.now())
        answer = call.operation.example
        if answer is not None and (answer.has_body or answer.raw is not None):
            return self._canned(call)  # the success the document declares a body for
        return Result(call.operation.success_status)

    def _save_change(self, call: Call, coll: Collection, family: Family, scope: Scope, old: Item, new: Item) -> Result:
        op = call.operation
        for protected in {coll.id_field, coll.key_field, coll.created_field, META, *coll.scope}:
            if protected and protected in old:
                new[protected] = old[protected]
        if op.reorder and op.reorder["by"] in new:
            new[op.reorder["field"]] = self._reordered(op, old, new.pop(op.reorder["by"]))
        now = self.clock.now()
        if coll.updated_field:
            new[coll.updated_field] = isoformat(now)
        self._check_references(family, coll, scope, new)
        key = old[coll.key_field]
        self._check_unique(family, coll, scope, new, exclude=key)
        self._fill_required(coll, new, now)
        if coll.fill_generated is not None:
            new = coll.fill_generated(new)
        new = shaped(coll, new)
        self._conform(op, new, now)
        siblings = self._exclusive_changes(op, coll, scope, key, new, now)
        self.store.put(coll.key, scope, key, new)
        for sibling_key, sibling in siblings:
            self.store.put(coll.key, scope, sibling_key, sibling)
        self._touch_parent(family, coll, scope, now)
        return self._written(op, family, coll, scope, new, op.success_status)

    def _exclusive_changes(
        self, op: Operation, coll: Collection, scope: Scope, key: Any, new: Item, now: datetime
    ) -> list[tuple[Any, Item]]:
        changed = []
        for flag in op.exclusive:
            if new.get(flag) is not True:
                continue
            for other in self.store.items(coll.key, scope):
                other_key = other[coll.key_field]
                if other_key != key and other.get(flag) is True:
                    updated = {**other, flag: False}
                    if coll.updated_field:
                        updated[coll.updated_field] = isoformat(now)
                    changed.append((other_key, updated))
        return changed

    def _reordered(self, op: Operation, old: Item, order: Any) -> list[Any]:
        assert op.reorder is not None
        current = old.get(op.reorder["field"]) or []
        by_key = {entry.get(op.reorder["key"]): entry for entry in current if isinstance(entry, dict)}
        wanted = list(order) if isinstance(order, list) else []
        if sorted(map(str, wanted)) != sorted(map(str, by_key)):
            raise Problem(
                400,
                op.family.errors.message("validation"),
                kind="validation",
                fields=[
                    FieldError(op.reorder["by"], f"must list exactly the ids of the existing {op.reorder['field']}")
                ],
            )
        return [by_key[k] for k in wanted]

    def _check_match(self, call: Call, body: dict[str, Any]) -> None:
        errors = [
            FieldError(name, f"must equal the {param} of the path ({call.path[param]})")
            for name, param in call.operation.match.items()
            if name in body and str(body[name]) != str(call.path[param])
        ]
        if errors:
            family = call.operation.family
            raise Problem(400, family.errors.message("validation"), kind="validation", fields=errors)


def _merged_objects(parts: frozenset[str], old: Item, body: dict[str, Any]) -> dict[str, Any]:
    """An update's objects sent as parts (a PATCH's `properties` of `{status}` where the item's
    require `type`), merged into the stored ones: the fields sent change, the rest stay."""
    return {
        name: _deep_merge(old[name], body[name])
        for name in parts
        if isinstance(old.get(name), dict) and isinstance(body.get(name), dict)
    }


def _deep_merge(stored: dict[str, Any], sent: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`sent` laid over `stored`, object by object (below 32 levels, what was sent replaces)."""
    merged = dict(stored)
    for key, value in sent.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict) and depth < 32:
            value = _deep_merge(below, value, depth + 1)
        merged[key] = value
    return merged


def _check_merged(op: Operation, item: Item) -> None:
    """Refuse an update whose result breaks the operation's `mergedSchema`, as a 400 naming
    each field, in the same words as the request validator."""
    if op.merged_validator is None:
        return
    messages = op.family.errors.field_messages
    errors = sorted((field_error(e, messages) for e in op.merged_validator.iter_errors(item)), key=lambda f: f.field)
    if errors:
        unique = list(dict.fromkeys(errors))
        raise Problem(400, op.family.errors.message("validation"), kind="validation", fields=unique)


def _writable(op: Operation, body: Any) -> dict[str, Any]:
    """The request body without readOnly fields (OpenAPI says a server ignores them), nor values
    of fields its schema leaves undeclared that would break the item's own schema."""
    fields = body if isinstance(body, dict) else {}
    if op.undeclared and any(name in op.undeclared for name in fields):
        fields = {k: v for k, v in fields.items() if k not in op.undeclared or op.undeclared[k].is_valid(v)}
    return op.strip_read_only(fields) if op.strip_read_only is not None else fields
