"""The read actions (list, get, an operation's example) and how an item is shown to clients.

Invariants:
- What a client sees has no bookkeeping (`META`) and no write-only secrets; children
  are embedded where the collection says so.
- A shown item is encoded at once and never mutated, so `_present` copies only when
  something changes, and an item whose view depends on it alone is encoded once and
  cached by the store until the item changes (or, when its view is the item, is the
  stored bytes themselves): a GET of such an item, or a list that neither filters,
  sorts nor pages by cursor, decodes nothing.
- Examples and envelope fields are drawn from a source reseeded per request, so the same
  request gets the same answer.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from .._encoding import encode, encode_list, encode_with_list
from .._spec.lifecycle import META, Lifecycle
from .._spec.model import Collection, Family, Operation
from .calls import Call, Result
from .fakedata import FakeData
from .item_building import ItemBuilding
from .listing import apply_filters, apply_sort, cursor_page, numbered_page, offset_page, required_bytes
from .state.protocol import Item, Scope


class ItemViews(ItemBuilding):
    """The read actions, and the public view of items that every action answers with."""

    #: The last answers of lists asked for without parameters, by operation and scope, each with
    #: the store version it was made at (at most _LISTS_KEPT).
    _lists: dict[tuple[Any, ...], tuple[int, bytes]]

    def _list(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope = self._scope(call)
        self._require_parent(family, coll, scope)
        by_key = _by_key(coll, op, call.query)
        if call.query or not (by_key and self.store.sole_writer):
            return self._listed(call, coll, family, scope, by_key)
        # Without parameters, its answer depends on the stored items alone: the same bytes while
        # the store is unchanged (a client polling a list gets one bytes object, and so does each
        # journal entry of it).
        asked = (op.qualified_id, scope, self.seed)
        kept = self._lists.get(asked)
        if kept is not None and kept[0] == self.store.version:
            return Result(op.success_status, encoded=kept[1])
        result = self._listed(call, coll, family, scope, by_key)
        if result.encoded is not None and not result.headers:
            if len(self._lists) >= _LISTS_KEPT:
                del self._lists[next(iter(self._lists))]
            self._lists[asked] = (self.store.version, result.encoded)
        return result

    def _listed(self, call: Call, coll: Collection, family: Family, scope: Scope, by_key: bool) -> Result:
        op = call.operation
        items: list[Any]
        fresh: dict[Any, Item] | None = None
        if by_key:  # nothing looks into the items: page their keys, decode none
            items = self.store.keys(coll.key, scope)
        elif _by_key(coll, op, call.query, lifecycle_ok=True):  # a lifecycle: decode what may move
            items, fresh = self._advanced_keys(coll, scope)
        else:
            needed = required_bytes(op.filters, call.query) if coll.lifecycle is None else ()
            items = self._advanced(coll, scope, self.store.items(coll.key, scope, needed), read=True)
            items = apply_filters(items, op.filters, call.query)
            items = apply_sort(items, call.query.get("sort"))
        envelope = op.envelope or "items"
        body: Any
        if op.paging == "cursor":
            body = cursor_page(items, coll.key_field, envelope, call.query)
        elif op.paging == "page":
            body = numbered_page(items, envelope, call.query, call.url, call.raw_query)
        elif op.paging == "offset":
            page_items = offset_page(items, call.query)
            body = {envelope: page_items} if op.envelope else page_items
        else:
            body = {envelope: items} if op.envelope else items
        if op.counts and isinstance(body, dict):
            body = {**dict.fromkeys(op.counts, len(items)), **body}
        if op.envelope_fill and isinstance(body, dict):
            body = {**self._envelope_fields(op), **body}
        page: list[Any] = body[envelope] if isinstance(body, dict) else body
        if _cacheable(coll) or fresh is not None:
            if fresh is not None:
                parts = [self._lifecycle_view(family, coll, scope, key, fresh) for key in page]
            else:
                keys = page if by_key else [item[coll.key_field] for item in page]
                parts = [self._encoded(coll, scope, key) for key in keys]
            if isinstance(body, dict):
                return Result(op.success_status, encoded=encode_with_list(body, envelope, parts))
            return Result(op.success_status, encoded=encode_list(parts))
        shown = [self._present(family, coll, scope, item, op) for item in page]
        if isinstance(body, dict):
            return Result(op.success_status, {**body, envelope: shown})
        return Result(op.success_status, shown)

    def _advanced_keys(self, coll: Collection, scope: Scope) -> tuple[list[Any], dict[Any, Item]]:
        """The scope's keys, every item advanced as a client's read (as `_advanced`), except those
        whose settled view is cached (a terminal state that counts no reads cannot move); the
        items decoded for it, by key."""
        lifecycle = self.lifecycle_of(coll)
        assert lifecycle is not None
        now = self.clock.now()
        keys = self.store.keys(coll.key, scope)
        fresh: dict[Any, Item] = {}
        for key in keys:
            kept = self.store.derived(coll.key, scope, key)
            if kept is not None and kept[0] is lifecycle:
                continue
            item = self.store.get(coll.key, scope, key)
            assert item is not None  # listed in this transaction
            if lifecycle.advance(item, now, True, self._rng_for(coll, key), self.fake.faker):
                self.store.put(coll.key, scope, key, item)
            fresh[key] = item
        return keys, fresh

    def _lifecycle_view(
        self, family: Family, coll: Collection, scope: Scope, key: Any, fresh: dict[Any, Item]
    ) -> bytes:
        """The public JSON of an item under a lifecycle, kept by the store (until the item changes)
        once its state can no longer move, with the lifecycle it was settled under (an override
        makes it anew)."""
        if key not in fresh:
            settled: bytes = self.store.derived(coll.key, scope, key)[1]
            return settled
        item = fresh[key]
        encoded = encode(self._present(family, coll, scope, item, None))
        lifecycle = self.lifecycle_of(coll)
        if lifecycle is not None and _settled(lifecycle, item):
            self.store.set_derived(coll.key, scope, key, (lifecycle, encoded))
        return encoded

    def _get(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        if _cacheable(coll) and not op.wrap:  # the answer is the item's public JSON: no decode
            scope = self._scope(call)
            self._require_parent(family, coll, scope)
            key = self._named_key(call, coll)
            if self.store.encoded(coll.key, scope, key) is not None:
                return Result(op.success_status, encoded=self._encoded(coll, scope, key))
        scope, item = self._existing(call, coll, family)  # an alias, or a 404
        if op.wrap:
            return Result(op.success_status, self._wrapped(op, self._present(family, coll, scope, item, op)))
        if _cacheable(coll):
            return Result(op.success_status, encoded=self._encoded(coll, scope, item[coll.key_field]))
        return Result(op.success_status, self._present(family, coll, scope, item, op))

    def _example(self, call: Call, coll: Collection, family: Family) -> Result:
        """An operation that fits no collection: the documented example, else data generated
        from the schema, the same for the same request (seeded by the seed, method and path)."""
        if call.operation.id_param is not None:  # under an item: only while it exists
            self._existing(call, coll, family)
        return self._canned(call)

    def _canned(self, call: Call) -> Result:
        """The operation's documented example for its success, else data from its schema."""
        answer = call.operation.example
        assert answer is not None  # compiled for every action that answers one
        if answer.raw is not None:  # a non-JSON media type: its documented text, sent as is
            return Result(answer.status, encoded=answer.raw)
        if not answer.has_body:
            return Result(answer.status)
        if answer.fixed:
            return Result(answer.status, answer.example)
        where = call.request.url.path if call.request is not None else call.operation.path
        self._example_fake.reseed_for(f"{self.seed}:{call.operation.method}:{where}")
        return Result(answer.status, self._example_fake.value(answer.schema, "", self._example_moment))

    def _present(self, family: Family, coll: Collection, scope: Scope, item: Item, op: Operation | None) -> Item:
        """The item as clients see it: bookkeeping and write-only secrets removed, children embedded.
        Copies only when something changes: the result is encoded at once and never mutated."""
        if _cacheable(coll):
            return self._view(coll, item)
        shown = item
        if META in shown or coll.embed:
            shown = {k: v for k, v in item.items() if k != META}
            for name, child_name in coll.embed.items():
                child = family.collections[child_name]
                child_scope = (*scope, item[coll.key_field])
                shown[name] = [
                    self._present(family, child, child_scope, c, None) for c in self.store.items(child.key, child_scope)
                ]
        return coll.strip_write_only(shown) if coll.strip_write_only is not None else shown

    def _written(
        self, op: Operation, family: Family, coll: Collection, scope: Scope, item: Item, status: int
    ) -> Result:
        """The answer to a write that stored `item`: where its public view is the item as stored
        (no secret to strip, no children, no lifecycle, no wrapper), the bytes the store just
        wrote, so the item is encoded once; else its view, encoded by the response."""
        if coll.strip_write_only is None and not op.wrap and _cacheable(coll) and self.store.sole_writer:
            stored = self.store.encoded(coll.key, scope, item[coll.key_field])
            if stored is not None:
                return Result(status, encoded=stored)
        return Result(status, self._wrapped(op, self._present(family, coll, scope, item, op)))

    def _view(self, coll: Collection, item: Item) -> Item:
        """The public view of an item whose view depends on it alone: write-only fields removed."""
        return coll.strip_write_only(item) if coll.strip_write_only is not None else item

    def _encoded(self, coll: Collection, scope: Scope, key: Any) -> bytes:
        """The public view's JSON of the stored item at `key` (of a cacheable collection): the
        stored bytes themselves when the view is the item, else the view's, cached by the store
        until the item changes (a read, not a create, fills the cache)."""
        if coll.strip_write_only is None:
            stored = self.store.encoded(coll.key, scope, key)
            if stored is not None:
                return stored
        cached: bytes | None = self.store.derived(coll.key, scope, key)
        if cached is not None:
            return cached
        item = self.store.get(coll.key, scope, key)
        assert item is not None  # listed or found in this transaction
        encoded = encode(self._view(coll, item))
        self.store.set_derived(coll.key, scope, key, encoded)
        return encoded

    def _wrapped(self, op: Operation, body: Any) -> Any:
        """The answer holding the item under `op.wrap` (with the wrapper's other fields), else the item."""
        if not op.wrap:
            return body
        return {**self._envelope_fields(op), op.wrap: body} if op.envelope_fill else {op.wrap: body}

    def _envelope_fields(self, op: Operation) -> dict[str, Any]:
        """A list envelope's other required fields: documented examples, else values drawn from
        a source fixed by the operation (the same in every answer)."""
        self._example_fake.reseed_for(f"{self.seed}:{op.qualified_id}:envelope")
        fields = {}
        for name, schema in op.envelope_fill.items():
            status_like = name.lower().replace("_", "") in _STATUS_FIELDS and schema.get("type") == "integer"
            fields[name] = op.success_status if status_like and "example" not in schema else None
            if fields[name] is None:
                fields[name] = _documented(schema, name, self._example_fake, self._example_moment)
        return fields


#: Answers of lists kept for reuse: one per operation and scope a test polls, and then some.
_LISTS_KEPT = 256

#: Integer envelope fields that hold the answer's HTTP status (`status_code: 200`).
_STATUS_FIELDS = ("status", "statuscode", "httpstatus", "httpcode", "code")


def _documented(schema: dict[str, Any], name: str, fake: FakeData, now: datetime) -> Any:
    """The value a schema documents (`example`, `examples`, `default`), else one drawn for it."""
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return copy.deepcopy(schema["examples"][0])
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    return fake.value(schema, name, now)


def _settled(lifecycle: Lifecycle, item: Item) -> bool:
    """Whether `lifecycle` can no longer change `item` (no bookkeeping, or a terminal state that
    counts no reads): its view stays as it is until the item is written."""
    meta = item.get(META)
    if meta is None:
        return True
    state = lifecycle.states.get(item.get(lifecycle.field, ""))
    return meta.get("reads") is None and (state is None or state.terminal)


def _cacheable(coll: Collection) -> bool:
    """Whether an item's public form depends on the item alone (no children, no lifecycle)."""
    return not coll.embed and coll.lifecycle is None


def _by_key(coll: Collection, op: Operation, query: dict[str, Any], lifecycle_ok: bool = False) -> bool:
    """Whether a list can be paged on its keys alone: nothing filters, sorts or pages by a field
    (a cursor names an item by its key field), and the answer is each item's cached JSON
    (`lifecycle_ok`: or, under a lifecycle, its JSON cached once settled)."""
    return (
        (_cacheable(coll) or (lifecycle_ok and not coll.embed and coll.lifecycle is not None))
        and op.paging != "cursor"
        and not query.get("sort")
        and not any(f.param in query for f in op.filters)
    )
