"""Building and checking items, and finding them in the store: the base the engine's actions share.

Invariants:
- A new or changed item is complete before it is stored: defaults, scope fields, id,
  timestamps, lifecycle start, required fields and the schema's field order.
- Every check (references, uniqueness, an item already there) runs before any write,
  so a refused request changes nothing; a check raises a `Problem` with the API's words.
- Lifecycle transitions due by now are applied (and stored) when items are read.
- The attributes declared here are set once by `Engine.__init__`; no method replaces them.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime
from typing import Any

from .._clock import Clock, isoformat
from .._errors import FieldError, Problem
from .._spec.lifecycle import META, Lifecycle
from .._spec.model import Collection, Family, Operation
from .._spec.regex_sample import sample_pattern
from .._spec.templates import render
from .calls import Call
from .fakedata import FakeData
from .ids import sequential, ulid, uuid4
from .state.protocol import Item, Scope, StoreOps
from .state.store import UniqueIndex, get_field


class ItemBuilding:
    """Builds, checks and finds items of a state's store; the engine's actions derive from it."""

    families: list[Family]
    store: StoreOps
    clock: Clock
    rng: random.Random
    fake: FakeData
    seed: int
    #: Generates `example` answers: reseeded per request, so a path answers the same every time.
    _example_fake: FakeData
    _example_moment: datetime
    #: Items one collection may hold (None: no limit).
    max_items: int | None
    #: Lifecycle overrides in force (a scenario's), by collection key; the compiled specs stay untouched.
    lifecycles: dict[str, Lifecycle]
    #: Each collection's unique indexes, in the order of its `unique` rules.
    _indexes: dict[str, list[UniqueIndex]]

    def lifecycle_of(self, coll: Collection) -> Lifecycle | None:
        """The lifecycle in force for `coll`: a scenario's override, else the spec's."""
        return self.lifecycles.get(coll.key, coll.lifecycle)

    # -- building and checking items ------------------------------------------

    def _new_item(
        self,
        family: Family,
        coll: Collection,
        scope: Scope,
        fields: dict[str, Any],
        now: datetime,
        given_id_ok: bool = False,
        keep_id: bool = False,
    ) -> Item:
        """A complete, checked item; ids come from the client only where the style says so
        (`given`, `clientChosen`), or from the path (`keep_id`: an upsert)."""
        item = fresh_defaults(coll.defaults)
        item.update(fields)
        for index, item_field in enumerate(coll.scope):
            item[item_field] = scope[index]
        kept = given_id_ok or keep_id or coll.id_style == "given" or coll.client_chosen_id
        if not (coll.id_field in item and kept):
            item[coll.id_field] = self._new_id(coll, scope, now)
        stamp = isoformat(now)
        if coll.created_field:
            item.setdefault(coll.created_field, stamp)
        if coll.updated_field:
            item.setdefault(coll.updated_field, item.get(coll.created_field or "", stamp))
        if coll.references:
            self._check_references(family, coll, scope, item)
        key = item.get(coll.key_field)
        lifecycle = self.lifecycles.get(coll.key, coll.lifecycle) if self.lifecycles else coll.lifecycle
        if lifecycle is not None:
            given = item.get(lifecycle.field) if given_id_ok else None
            if given is not None and given not in lifecycle.states:
                raise ValueError(f"{given!r} is not a state of the {coll.label} lifecycle")
            lifecycle.start(item, now, self._rng_for(coll, key), self.fake.faker, state=given, given=frozenset(fields))
        if coll.unique:
            self._check_unique(family, coll, scope, item, exclude=None)  # first: its message is the API's
        if self.store.encoded(coll.key, scope, key) is not None:  # existence: nothing to decode
            raise Problem(409, family.errors.message("conflict"), kind="conflict")
        self._fill_required(coll, item, now)
        if coll.fill_generated is not None:
            item = coll.fill_generated(item)
        return shaped(coll, item)

    def _check_references(self, family: Family, coll: Collection, scope: Scope, item: Item) -> None:
        for ref in coll.references:
            value = get_field(item, ref.field)
            if value is None:
                continue
            target_coll = family.collections[ref.collection]
            target = self.store.get(target_coll.key, (), value) if ref.expand else None
            if target is None and self.store.encoded(target_coll.key, (), value) is None:
                message = ref.message.format(value=value, label=target_coll.label)
                fields = [FieldError(ref.expand or ref.field, message)] if ref.status == 400 else []
                raise Problem(ref.status, message, kind="reference", fields=fields)
            if ref.expand:
                item[ref.expand] = target  # a copy of its own: the store hands out copies

    def _check_unique(self, family: Family, coll: Collection, scope: Scope, item: Item, exclude: Any) -> None:
        for rule, index in zip(coll.unique, self._indexes[coll.key], strict=True):
            value = index.value(item)
            if value is None:
                continue
            owner = self.store.owner(index, scope, value)
            if owner is not None and owner != exclude and self.lifecycle_of(coll) is not None:
                # The owner may have moved on (a scan finished): bring it up to date, then look again.
                current = self.store.get(coll.key, scope, owner)
                if current is not None:
                    self._advanced(coll, scope, [current], read=False)
                owner = self.store.owner(index, scope, value)
            if owner is not None and owner != exclude:
                raise Problem(409, rule.message, kind="conflict")

    def _fill_required(self, coll: Collection, item: Item, now: datetime) -> None:
        shape = coll.shape_of(item)
        props = shape.get("properties", {})
        required = shape.get("required")
        # Most items hold every required field already: one C-level pass tells, no loop in Python.
        if required and not all(map(item.__contains__, required)):
            for name in required:
                if name not in item and name not in coll.embed:
                    item[name] = self.fake.value(props.get(name, {}), name, now)
        for name, schema in coll.answered_fields.items():  # what a list of summaries requires
            if name not in item:
                item[name] = self.fake.value(schema, name, now)
        if coll.variants:  # the branch's discriminator (its consts), so the item says which branch it is
            item.update((n, p["const"]) for n, p in props.items() if n not in item and "const" in p)

    def _new_id(self, coll: Collection, scope: Scope, now: datetime) -> Any:
        """A fresh id. A random id is drawn again if taken: a run restored from a state file
        restarts its random source from the seed, which would repeat the ids it gave before."""
        new = self._draw_id(coll, now)
        for _ in range(100):
            if coll.id_field != coll.key_field or self.store.encoded(coll.key, scope, new) is None:
                break
            new = self._draw_id(coll, now)
        return new

    def _draw_id(self, coll: Collection, now: datetime) -> Any:
        if coll.id_style == "ulid":
            return ulid(now, self.rng)
        if coll.id_style == "uuid":
            return uuid4(self.rng)
        if coll.id_style == "pattern":
            return sample_pattern(coll.id_pattern, self.rng)
        if coll.id_style == "integer":
            return self.store.peek_number(coll.key)
        if coll.id_style == "sequential":
            return sequential(coll.id_prefix, coll.id_width, self.store.peek_number(coll.key))
        raise Problem(
            400,
            f"a {coll.label} needs its {coll.id_field}",
            kind="validation",
            fields=[FieldError(coll.id_field, "is required")],
        )

    def _note_given_id(self, coll: Collection, value: Any) -> None:
        if isinstance(value, int):
            self.store.note_number(coll.key, value)
        elif isinstance(value, str) and value.startswith(coll.id_prefix):
            digits = value[len(coll.id_prefix) :]
            if digits.isdigit():
                self.store.note_number(coll.key, int(digits))

    def _conform(self, op: Operation, item: Item, now: datetime, sent: Any = None) -> None:
        """Complete from the item's schema (else draw again) a field the body sent under another
        schema that the item's rejects (checks are done: what is refused was refused before this).

        `sent`: a create's validated body. A field holding the very object it sent, where the
        body's schema for it was proved at start-up to imply the item's, passes unasked: nothing
        on the way changes a sent value in place (strips and fills copy what they change)."""
        given = sent if isinstance(sent, dict) else {}
        for name, (check, schema, trusted) in op.reshaped.items():
            if name not in item or (trusted and name in given and given[name] is item[name]):
                continue
            if not check.is_valid(item[name]):
                drawn = self.fake.value(schema, name, now)
                held = item[name]
                completed = {**drawn, **held} if isinstance(drawn, dict) and isinstance(held, dict) else drawn
                item[name] = completed if check.is_valid(completed) else drawn

    # -- store helpers ----------------------------------------------------------

    def _insert(self, family: Family, coll: Collection, scope: Scope, item: Item, now: datetime | None = None) -> None:
        """Store `item` and its children; `now` is the create's moment (None: read the clock)."""
        key = item[coll.key_field]
        children = []
        if now is None:
            now = self.clock.now()
        for child_name, template in coll.children:
            child = family.collections[child_name]
            child_scope = (*scope, key)
            children.append(
                (child, child_scope, self._new_item(family, child, child_scope, copy.deepcopy(template), now))
            )
        self.store.put(coll.key, scope, key, item)
        self._note_given_id(coll, item[coll.id_field])
        for child, child_scope, child_item in children:
            self.store.put(child.key, child_scope, child_item[child.key_field], child_item)
            self._note_given_id(child, child_item[child.id_field])
        if coll.touch_parent:
            self._touch_parent(family, coll, scope, now)

    def _drop_children(self, family: Family, coll: Collection, scope: Scope) -> None:
        for child_name in coll.child_names:
            child = family.collections[child_name]
            for item in self.store.remove_scope(child.key, scope):
                self._drop_children(family, child, (*scope, item[child.key_field]))

    def _touch_parent(self, family: Family, coll: Collection, scope: Scope, now: datetime) -> None:
        if not (coll.touch_parent and coll.parent):
            return
        parent = family.collections[coll.parent]
        item = self.store.get(parent.key, scope[:-1], scope[-1])
        if item is not None and parent.updated_field:
            self.store.put(parent.key, scope[:-1], scope[-1], {**item, parent.updated_field: isoformat(now)})

    def _scope(self, call: Call) -> Scope:
        params = call.operation.scope_params
        return tuple(call.path[p] for p in params) if params else ()

    def _require_parent(self, family: Family, coll: Collection, scope: Scope) -> None:
        if coll.parent is None:
            return
        parent = family.collections[coll.parent]
        self._require_parent(family, parent, scope[:-1])
        if self.store.encoded(parent.key, scope[:-1], scope[-1]) is None:
            raise Problem(404, family.errors.message("not_found", label=parent.label), kind="not_found")

    def _existing(self, call: Call, coll: Collection, family: Family) -> tuple[Scope, Item]:
        scope = self._scope(call)
        self._require_parent(family, coll, scope)
        key = self._named_key(call, coll)
        item = self.store.get(coll.key, scope, key)
        if item is None and key in coll.aliases:
            wanted = coll.aliases[key]
            item = next(
                (i for i in self.store.items(coll.key, scope) if all(i.get(f) == v for f, v in wanted.items())),
                None,
            )
        if item is None:
            raise Problem(404, family.errors.message("not_found", label=coll.label), kind="not_found")
        return scope, self._advanced(coll, scope, [item], read=True)[0]

    def _named_key(self, call: Call, coll: Collection) -> Any:
        """The key of the item a call names: a path value, or the body's id field (`PUT /pet`)."""
        op = call.operation
        if not op.id_in_body:
            assert op.id_param is not None
            return call.path[op.id_param]
        key = call.body.get(coll.id_field) if isinstance(call.body, dict) else None
        if key is None:
            message = op.family.errors.message("validation")
            raise Problem(400, message, kind="validation", fields=[FieldError(coll.id_field, "is required")])
        return key

    def _advanced(self, coll: Collection, scope: Scope, items: list[Item], read: bool) -> list[Item]:
        """`items` with every lifecycle transition due by now applied (and stored)."""
        lifecycle = self.lifecycle_of(coll)
        if lifecycle is None:
            return items
        now = self.clock.now()
        for item in items:
            key = item[coll.key_field]
            if lifecycle.advance(item, now, read, self._rng_for(coll, key), self.fake.faker):
                self.store.put(coll.key, scope, key, item)
        return items

    def _rng_for(self, coll: Collection, key: Any) -> Any:
        base = f"{self.seed}/{coll.key}/{key}"
        return lambda step: random.Random(f"{base}/{step}")

    def _resolve(self, template: dict[str, Any], now: datetime, caller: str | None = None) -> dict[str, Any]:
        if not template:
            return {}
        resolved: dict[str, Any] = render(template, now, self.rng, self.fake.faker, caller)
        return resolved


_SCALARS = (str, int, float, bool)


def fresh_defaults(defaults: dict[str, Any]) -> Item:
    """A copy of a collection's defaults that an item may own (scalars are shared, the rest copied)."""
    if len(defaults) == 1:  # the common case (a `status`): no comprehension to set up
        [(name, value)] = defaults.items()
        return {name: value if value is None or isinstance(value, _SCALARS) else copy.deepcopy(value)}
    return {k: v if v is None or isinstance(v, _SCALARS) else copy.deepcopy(v) for k, v in defaults.items()}


def shaped(coll: Collection, item: Item) -> Item:
    """The item with its fields in the order the schema lists them, as the documents show, and
    without top-level fields its schema does not declare (unless it allows them): the real APIs
    ignore unknown input (`fromVersion`, a stray `colour`) rather than storing and echoing it."""
    shape = coll.shape_of(item)
    props = shape.get("properties")
    if not props:
        return item
    ordered = {name: item[name] for name in props if name in item}
    if len(ordered) == len(item):
        return ordered
    known_only = shape.get("additionalProperties") in (None, False)
    kept = (META, coll.key_field, coll.id_field)  # a key the schema does not name is still the item's
    ordered.update((k, v) for k, v in item.items() if k not in ordered and (k in kept or not known_only))
    return ordered
