"""The in-memory store: collections of items, each split by scope.

A scope is the tuple of parent path values (a Versori organisation, or an
organisation and a connector for versions), so one organisation never sees
another's items. Every write goes through this class under one lock: the
server's event loop and a test thread driving it from Python can both touch it.

Invariants:
- Every item is encoded by the one encoder as it is written (`put`, `load`): a value
  JSON cannot hold (a date object, a set) is refused there (UnstorableValue), before
  anything changes, so whatever is stored can always be listed, exported and saved.
- `stored_bytes()` is the encoded size of every item held; a write that would take it
  over `max_bytes` is refused (StoreFull) before anything changes.
- Items list in the order they were first stored (a replace keeps the place).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..._encoding import encode
from .protocol import DEFAULT_MAX_STORE_BYTES, Item, Scope, StoreFull

T = TypeVar("T")


class UnstorableValue(ValueError):
    """A value JSON cannot hold (a date object, a set, bytes) was about to be stored."""


def encoded_item(item: Item) -> bytes:
    """`item` as the one encoder writes it; UnstorableValue naming the reason if it cannot be."""
    try:
        return encode(item)
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnstorableValue(f"a value that cannot be stored as JSON: {exc}") from None


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

    def value(self, item: Item) -> tuple[Any, ...] | None:
        """The item's indexed value, or None when the rule does not apply to it."""
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
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


class Store:
    """Items by collection, scope and key, plus per-collection id counters."""

    def __init__(self, max_bytes: int | None = DEFAULT_MAX_STORE_BYTES) -> None:
        self._items: dict[str, dict[Scope, dict[Any, Item]]] = {}
        # The encoded size of each item (by collection, scope, key), and of all of them.
        self._weights: dict[str, dict[Scope, dict[Any, int]]] = {}
        self._bytes = 0
        self.max_bytes = max_bytes
        self._sizes: dict[str, int] = {}
        self._counters: dict[str, int] = {}
        self.lock = threading.RLock()
        #: Incremented by every change; persistence and tests watch it.
        self.version = 0
        # Uniqueness is checked on every create: an index keeps that O(1) however large the store.
        self._indexes: dict[str, list[UniqueIndex]] = {}
        self._owners: dict[tuple[UniqueIndex, Scope], dict[tuple[Any, ...], Any]] = {}
        self._indexed: dict[tuple[UniqueIndex, Scope], dict[Any, tuple[Any, ...]]] = {}
        # What readers derive from an item (its public JSON), dropped whenever it changes.
        self._derived: dict[tuple[str, Scope, Any], Any] = {}
        self._watchers: list[Watcher] = []
        # What each change replaced, by the version it made, while a state file may need to
        # take changes back (None: not kept). "*" marks a whole-state change (a reset, an import).
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
            for key, item in bucket.items():
                self._index_one(index, scope, key, item)

    def owner(self, index: UniqueIndex, scope: Scope, value: tuple[Any, ...]) -> Any:
        """The key of the item holding `value` under `index` in `scope`, or None."""
        return self._owners.get((index, scope), {}).get(value)

    def _index_one(self, index: UniqueIndex, scope: Scope, key: Any, item: Item | None) -> None:
        owners = self._owners.setdefault((index, scope), {})
        indexed = self._indexed.setdefault((index, scope), {})
        old = indexed.pop(key, None)
        if old is not None and owners.get(old) == key:
            del owners[old]
        value = index.value(item) if item is not None else None
        if value is not None:
            owners[value] = key
            indexed[key] = value

    def _reindex(self, collection: str, scope: Scope, key: Any, item: Item | None) -> None:
        for index in self._indexes.get(collection, ()):
            self._index_one(index, scope, key, item)

    def get(self, collection: str, scope: Scope, key: Any) -> Item | None:
        return self._items.get(collection, {}).get(scope, {}).get(key)

    def items(self, collection: str, scope: Scope) -> list[Item]:
        return list(self._items.get(collection, {}).get(scope, {}).values())

    def scopes(self, collection: str) -> list[Scope]:
        """The scopes that hold items of `collection`."""
        return [scope for scope, bucket in self._items.get(collection, {}).items() if bucket]

    def stored_bytes(self) -> int:
        """The encoded size of every item held."""
        return self._bytes

    def put(self, collection: str, scope: Scope, key: Any, item: Item) -> None:
        weight = len(encoded_item(item))
        weights = self._weights.setdefault(collection, {}).setdefault(scope, {})
        grown = self._bytes + weight - weights.get(key, 0)
        if self.max_bytes is not None and grown > self.max_bytes and weight > weights.get(key, 0):
            raise StoreFull(self.max_bytes)
        self._bytes = grown
        weights[key] = weight
        bucket = self._items.setdefault(collection, {}).setdefault(scope, {})
        old = bucket.get(key)
        if old is None:
            self._sizes[collection] = self._sizes.get(collection, 0) + 1
        bucket[key] = item
        self._reindex(collection, scope, key, item)
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
        self._reindex(collection, scope, key, None)
        self._derived.pop((collection, scope, key), None)
        removed = bucket.pop(key)
        self._bytes -= self._weights[collection][scope].pop(key, 0)
        self._sizes[collection] -= 1
        if self._undo is not None:
            self._undo.append((self.version, collection, scope, key, removed))
        if self._watchers:
            self._touched(collection, scope, key)
        return removed

    def remove_scope(self, collection: str, scope: Scope) -> list[Item]:
        """Drop every item of `collection` in exactly `scope`; returns them."""
        bucket = self._items.get(collection, {}).pop(scope, {})
        self._bytes -= sum(self._weights.get(collection, {}).pop(scope, {}).values())
        if bucket:
            self._sizes[collection] -= len(bucket)
            self.version += 1
            for key in bucket:
                if self._undo is not None:
                    self._undo.append((self.version, collection, scope, key, bucket[key]))
                self._reindex(collection, scope, key, None)
                self._derived.pop((collection, scope, key), None)
                if self._watchers:
                    self._touched(collection, scope, key)
        return list(bucket.values())

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
                        self.put(collection, scope, key, old)
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
        self._weights.clear()
        self._bytes = 0
        self._counters.clear()
        self._owners.clear()
        self._indexed.clear()
        self._derived.clear()
        self.version += 1
        self._replaced_all()

    def export(self) -> dict[str, Any]:
        """All state as JSON-ready data: items with their scope (collections by name, items in
        the order they were first stored), and the counters."""
        with self.lock:
            collections = {
                name: [
                    {"scope": list(scope), "key": key, "item": copy.deepcopy(item)}
                    for scope, bucket in scopes.items()
                    for key, item in bucket.items()
                ]
                for name, scopes in sorted(self._items.items())
            }
            return {
                "collections": {name: entries for name, entries in collections.items() if entries},
                "counters": dict(sorted(self._counters.items())),
            }

    def load(self, data: dict[str, Any]) -> None:
        """Replace all state with what `export` produced."""
        items: dict[str, dict[Scope, dict[Any, Item]]] = {}
        weights: dict[str, dict[Scope, dict[Any, int]]] = {}
        total = 0
        for name, entries in data.get("collections", {}).items():
            for entry in entries:
                scope = tuple(entry["scope"])
                items.setdefault(name, {}).setdefault(scope, {})[entry["key"]] = entry["item"]
                weight = len(encoded_item(entry["item"]))
                total += weight - weights.setdefault(name, {}).setdefault(scope, {}).get(entry["key"], 0)
                weights[name][scope][entry["key"]] = weight
        if self.max_bytes is not None and total > self.max_bytes:
            raise StoreFull(self.max_bytes)
        with self.lock:
            self._whole_change()
            self._items = items
            self._weights = weights
            self._bytes = total
            self._sizes = {name: sum(map(len, scopes.values())) for name, scopes in items.items()}
            self._counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
            self._owners.clear()
            self._indexed.clear()
            self._derived.clear()
            for collection, scopes in items.items():
                for scope, bucket in scopes.items():
                    for key, item in bucket.items():
                        self._reindex(collection, scope, key, item)
            self.version += 1
            self._replaced_all()
