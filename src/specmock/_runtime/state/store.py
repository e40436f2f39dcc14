"""The in-memory store: collections of items, each split by scope.

A scope is the tuple of parent path values (a Versori organisation, or an
organisation and a connector for versions), so one organisation never sees
another's items. Every write goes through this class under one lock: the
server's event loop and a test thread driving it from Python can both touch it.

Invariants:
- Every item is kept as its encoded JSON (codec.py), encoded as it is written (`put`,
  `load`): a value JSON cannot hold (a date object, a set) is refused there
  (UnstorableValue), before anything changes, so whatever is stored can always be
  listed, exported and saved. A read decodes a new copy (`get`, `items`), so no caller
  can change a stored item through what it was given, nor through what it put;
  `encoded` hands out the bytes themselves, for answers that are the item as stored.
- `stored_bytes()` is the encoded size of every item held; a write that would take it
  over `max_bytes` is refused (StoreFull) before anything changes.
- Items list in the order they were first stored (a replace keeps the place).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .codec import decoded_item, stored_item, stored_json, stored_size
from .protocol import DEFAULT_MAX_STORE_BYTES, Item, Scope, StoreFull

T = TypeVar("T")


class Watcher(Protocol):
    """Told of every change, under the store's lock (persistence writes them out)."""

    def touched(self, collection: str, scope: Scope, key: Any) -> None:
        """The item at (collection, scope, key) was stored, replaced or removed."""

    def replaced_all(self) -> None:
        """Everything changed at once (a reset, an import)."""


@dataclass(frozen=True)
class UniqueIndex:
    """Which fields of a collection's items must be unique (in a scope), and when.

    `when` limits the rule to items whose field has one of the listed values
    (a scan conflicts only while it is queued or running).
    """

    collection: str
    fields: tuple[str, ...]
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    #: The hash, computed once: every create looks the index up (with its scope) twice, and a
    #: frozen dataclass otherwise hashes a tuple of all its fields in Python each time.
    _hash: int = field(init=False, repr=False, compare=False)
    #: The one plain (undotted) field a rule without `when` indexes, else None.
    _single: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.collection, self.fields, self.when)))
        single = self.fields[0] if len(self.fields) == 1 and not self.when and "." not in self.fields[0] else None
        object.__setattr__(self, "_single", single)

    def __hash__(self) -> int:
        return self._hash

    def value(self, item: Item) -> tuple[Any, ...] | None:
        """The item's indexed value, or None when the rule does not apply to it."""
        if self._single is not None:  # the common rule (`name` unique): no loop, no generator
            return (_hashable(item.get(self._single)),)
        for name, allowed in self.when:
            if item.get(name) not in allowed:
                return None
        # Every create and write asks: plain (undotted) names are read directly.
        return tuple(_hashable(item.get(path) if "." not in path else get_field(item, path)) for path in self.fields)


def get_field(item: Any, dotted: str) -> Any:
    """``system.id`` of an item, or None when any step is missing."""
    node = item
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _hashable(value: Any) -> Any:
    if value is None or value.__class__ is str:  # the common case, without two isinstance calls
        return value
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def _slot(value: tuple[Any, ...]) -> Any:
    """How an index holds `value`: a one-field value as the field's value alone (a tuple per
    item is ~56 bytes; every value of one index has the same number of fields, so a bare
    value never meets a tuple)."""
    return value[0] if len(value) == 1 else value


class Store:
    """Items by collection, scope and key, plus per-collection id counters."""

    sole_writer = True

    def __init__(self, max_bytes: int | None = DEFAULT_MAX_STORE_BYTES) -> None:
        # Each item's encoded JSON, by collection, scope and key (its size is its weight).
        self._items: dict[str, dict[Scope, dict[Any, bytes]]] = {}
        self._bytes = 0
        self.max_bytes = max_bytes
        self._sizes: dict[str, int] = {}
        self._counters: dict[str, int] = {}
        self.lock = threading.RLock()
        #: Incremented by every change; persistence and tests watch it.
        self.version = 0
        # Uniqueness is checked on every create: an index keeps that O(1) however large the store.
        # Only value -> owner is kept: what an item held is read from its bytes when it changes.
        self._indexes: dict[str, list[UniqueIndex]] = {}
        self._owners: dict[tuple[UniqueIndex, Scope], dict[Any, Any]] = {}
        # What readers derive from an item (its public JSON), dropped whenever it changes.
        self._derived: dict[tuple[str, Scope, Any], Any] = {}
        self._watchers: list[Watcher] = []
        # What each change replaced (its bytes, None: nothing), by the version it made, while a
        # state file may need to take changes back (None: not kept). "*" marks a whole-state
        # change (a reset, an import) and holds its export.
        self._undo: list[tuple[int, str, Scope, Any, Any]] | None = None

    def watch(self, watcher: Watcher) -> None:
        """Tell `watcher` of every change from now on."""
        self._watchers.append(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def _touched(self, collection: str, scope: Scope, key: Any) -> None:
        for watcher in self._watchers:
            watcher.touched(collection, scope, key)

    def _replaced_all(self) -> None:
        for watcher in self._watchers:
            watcher.replaced_all()

    def transaction(self, work: Callable[[], T]) -> T:
        """Run `work` as one change: here, under the lock (a shared store checks and retries)."""
        with self.lock:
            return work()

    def derived(self, collection: str, scope: Scope, key: Any) -> Any:
        """What was cached for the current version of an item, or None."""
        return self._derived.get((collection, scope, key))

    def set_derived(self, collection: str, scope: Scope, key: Any, value: Any) -> None:
        self._derived[(collection, scope, key)] = value

    def add_index(self, index: UniqueIndex) -> None:
        """Maintain `index` from now on (over the items already stored too)."""
        self._indexes.setdefault(index.collection, []).append(index)
        for scope, bucket in self._items.get(index.collection, {}).items():
            for key, data in bucket.items():
                self._index_one(index, scope, key, None, decoded_item(data))

    def owner(self, index: UniqueIndex, scope: Scope, value: tuple[Any, ...]) -> Any:
        """The key of the item holding `value` under `index` in `scope`, or None."""
        return self._owners.get((index, scope), {}).get(_slot(value))

    def _index_one(self, index: UniqueIndex, scope: Scope, key: Any, old: Item | None, new: Item | None) -> None:
        owners = self._owners.setdefault((index, scope), {})
        was = index.value(old) if old is not None else None
        if was is not None and owners.get(_slot(was)) == key:
            del owners[_slot(was)]
        value = index.value(new) if new is not None else None
        if value is not None:
            owners[_slot(value)] = key

    def _reindex(self, collection: str, scope: Scope, key: Any, old: bytes | None, new: Item | None) -> None:
        """Move the item at `key` in every index of its collection from what `old` held to `new`."""
        indexes = self._indexes.get(collection)
        if indexes:
            before = decoded_item(old) if old is not None else None
            for index in indexes:
                self._index_one(index, scope, key, before, new)

    def get(self, collection: str, scope: Scope, key: Any) -> Item | None:
        """A new copy of the item (None: not stored): changing it changes nothing stored."""
        data = self._items.get(collection, {}).get(scope, {}).get(key)
        return decoded_item(data) if data is not None else None

    def encoded(self, collection: str, scope: Scope, key: Any) -> bytes | None:
        """The item's JSON as stored (None: not stored): an answer that is the item, without a decode."""
        data = self._items.get(collection, {}).get(scope, {}).get(key)
        return stored_json(data) if data is not None else None

    def items(self, collection: str, scope: Scope, containing: tuple[bytes, ...] = ()) -> list[Item]:
        """New copies of the scope's items, in the order they were first stored; with `containing`,
        only those whose JSON holds every one of these byte strings (the others are not decoded)."""
        # A copy of the values first (one C call, so atomic): a thread that reads without the
        # lock never sees the dict change size under its loop.
        stored = list(self._items.get(collection, {}).get(scope, {}).values())
        for part in containing:  # one plain loop per part: a generator per item costs more than the test
            found = re.compile(re.escape(part)).search  # `part in data` first tries `part` as an int
            stored = [data for data in stored if found(data)]
        return [decoded_item(data) for data in stored]

    def keys(self, collection: str, scope: Scope) -> list[Any]:
        """The keys of the scope's items, in the order they were first stored (nothing decoded)."""
        return list(self._items.get(collection, {}).get(scope, {}))

    def scopes(self, collection: str) -> list[Scope]:
        """The scopes that hold items of `collection`."""
        return [scope for scope, bucket in self._items.get(collection, {}).items() if bucket]

    def stored_bytes(self) -> int:
        """The encoded size of every item held."""
        return self._bytes

    def put(self, collection: str, scope: Scope, key: Any, item: Item) -> None:
        """Store a copy of `item` (its JSON): what the caller does to `item` later is not stored."""
        self._put(collection, scope, key, stored_item(item), item)

    def _put(self, collection: str, scope: Scope, key: Any, data: bytes, item: Item | None) -> None:
        """Store `data`, the stored form of `item` (None: decoded here if an index needs it)."""
        old = self._items.get(collection, {}).get(scope, {}).get(key)
        held = stored_size(old) if old is not None else 0
        size = stored_size(data)
        grown = self._bytes + size - held
        if self.max_bytes is not None and grown > self.max_bytes and size > held:
            raise StoreFull(self.max_bytes)
        bucket = self._items.setdefault(collection, {}).setdefault(scope, {})
        self._bytes = grown
        if old is None:
            self._sizes[collection] = self._sizes.get(collection, 0) + 1
        bucket[key] = data
        if collection in self._indexes:
            self._reindex(collection, scope, key, old, item if item is not None else decoded_item(data))
        if old is not None:  # a new key has nothing derived: what is cached is of stored items only
            self._derived.pop((collection, scope, key), None)
        self.version += 1
        if self._undo is not None:
            self._undo.append((self.version, collection, scope, key, old))
        if self._watchers:
            self._touched(collection, scope, key)

    def remove(self, collection: str, scope: Scope, key: Any) -> Item | None:
        bucket = self._items.get(collection, {}).get(scope)
        if bucket is None or key not in bucket:
            return None
        self.version += 1
        removed: bytes = bucket.pop(key)
        self._reindex(collection, scope, key, removed, None)
        self._derived.pop((collection, scope, key), None)
        self._bytes -= stored_size(removed)
        self._sizes[collection] -= 1
        if self._undo is not None:
            self._undo.append((self.version, collection, scope, key, removed))
        if self._watchers:
            self._touched(collection, scope, key)
        return decoded_item(removed)

    def remove_scope(self, collection: str, scope: Scope) -> list[Item]:
        """Drop every item of `collection` in exactly `scope`; returns them."""
        bucket = self._items.get(collection, {}).pop(scope, {})
        self._bytes -= sum(map(stored_size, bucket.values()))
        if bucket:
            self._sizes[collection] -= len(bucket)
            self.version += 1
            for key, data in bucket.items():
                if self._undo is not None:
                    self._undo.append((self.version, collection, scope, key, data))
                self._reindex(collection, scope, key, data, None)
                self._derived.pop((collection, scope, key), None)
                if self._watchers:
                    self._touched(collection, scope, key)
        return [decoded_item(data) for data in bucket.values()]

    def peek_number(self, collection: str) -> int:
        """The next free number; taken only once an item with it is stored (`note_number`),
        so a refused create does not burn an id."""
        return self._counters.get(collection, 0) + 1

    def note_number(self, collection: str, number: int) -> None:
        """Make sure the next generated number is above `number` (a fixture used it)."""
        if number > self._counters.get(collection, 0):
            self._counters[collection] = number

    def counters(self) -> dict[str, int]:
        """The id counters, by collection (a copy)."""
        return dict(self._counters)

    def size(self, collection: str) -> int:
        """How many items `collection` holds, in every scope (kept up to date, O(1))."""
        return self._sizes.get(collection, 0)

    def keep_undo(self, keep: bool = True) -> None:
        """From now on, remember what each change replaced until `forget_undo` (a state file's
        writer takes back what it could not save: a refused write is not applied); `keep`
        False: stop remembering."""
        with self.lock:
            self._undo = [] if keep else None

    def forget_undo(self, durable: int) -> None:
        """Changes up to version `durable` are kept for good: drop what could undo them."""
        with self.lock:
            if self._undo:
                self._undo = [entry for entry in self._undo if entry[0] > durable]

    def rollback(self, durable: int) -> int:
        """Take back every change made after version `durable`, newest first; how many."""
        with self.lock:
            pending = [entry for entry in self._undo or () if entry[0] > durable]
            self._undo, limit, self.max_bytes = None, self.max_bytes, None  # undoing records nothing
            try:
                for _, collection, scope, key, old in reversed(pending):
                    if collection == "*":
                        self.load(old)
                    elif old is None:
                        self.remove(collection, scope, key)
                    else:
                        self._put(collection, scope, key, old, None)
            finally:
                self._undo, self.max_bytes = [], limit
            return len(pending)

    def _whole_change(self) -> None:
        if self._undo is not None:
            self._undo.append((self.version + 1, "*", (), None, self.export()))

    def clear(self) -> None:
        self._whole_change()
        self._sizes.clear()
        self._items.clear()
        self._bytes = 0
        self._counters.clear()
        self._owners.clear()
        self._derived.clear()
        self.version += 1
        self._replaced_all()

    def export(self) -> dict[str, Any]:
        """All state as JSON-ready data: items with their scope (collections by name, items in
        the order they were first stored), and the counters."""
        with self.lock:
            collections = {
                name: [
                    {"scope": list(scope), "key": key, "item": decoded_item(data)}
                    for scope, bucket in scopes.items()
                    for key, data in bucket.items()
                ]
                for name, scopes in sorted(self._items.items())
            }
            return {
                "collections": {name: entries for name, entries in collections.items() if entries},
                "counters": dict(sorted(self._counters.items())),
            }

    def load(self, data: dict[str, Any]) -> None:
        """Replace all state with what `export` produced."""
        items: dict[str, dict[Scope, dict[Any, bytes]]] = {}
        for name, entries in data.get("collections", {}).items():
            for entry in entries:
                bucket = items.setdefault(name, {}).setdefault(tuple(entry["scope"]), {})
                bucket[entry["key"]] = stored_item(entry["item"])
        total = sum(stored_size(d) for scopes in items.values() for bucket in scopes.values() for d in bucket.values())
        if self.max_bytes is not None and total > self.max_bytes:
            raise StoreFull(self.max_bytes)
        with self.lock:
            self._whole_change()
            self._items = items
            self._bytes = total
            self._sizes = {name: sum(map(len, scopes.values())) for name, scopes in items.items()}
            self._counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
            self._owners.clear()
            self._derived.clear()
            for collection, scopes in items.items():
                if collection in self._indexes:
                    for scope, bucket in scopes.items():
                        for key, stored in bucket.items():
                            self._reindex(collection, scope, key, None, decoded_item(stored))
            self.version += 1
            self._replaced_all()
