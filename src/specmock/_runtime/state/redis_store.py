"""The store on Redis: the same operations as the in-memory Store, shared by every process.

Invariants:
- A request's work is one optimistic transaction. Every read records what it saw
  (an item's version, a scope's version, a unique index's owner, an id counter);
  writes are buffered locally and sent as one Lua script that checks every recorded
  read and applies every write, or applies nothing. A check that fails means another
  process changed what this request decided on: the request runs again on fresh data.
  So a unique create, a conflicting-scan check or an id sequence is atomic across
  processes, and never read-then-write from Python.
- Versions come from one counter (`<ns>:seq`) that only grows, so a deleted and
  re-created item never looks unchanged.
- A refused request (an exception inside the transaction) sends nothing. Items are
  encoded as they are written (a value JSON cannot hold is refused there), and a
  commit that would take the items over `max_bytes` applies nothing (StoreFull).
- Lists come in the order items were first stored, as in memory; a removed item
  leaves no key behind (its scope's keys go with the last item).
- Redis unreachable: every operation raises StateUnavailable (the server answers 503
  with Retry-After). Commands are not retried by the client library: a commit whose
  answer was lost was not acknowledged, so the client, not we, decides to try again.

Layout, under the namespace `ns`, with `sk` a scope and `k` a key as JSON text:
  ns:i:<coll>:<sk>  hash k -> item JSON          ns:v:<coll>:<sk>  hash k -> version, "*" -> scope version
  ns:x:<index>:<sk> hash value -> owner k        ns:xr:<index>:<sk> hash k -> indexed value
  ns:n              hash coll -> last id number  ns:scopes          hash "<coll>:<sk>" -> [coll, scope]
  ns:o:<coll>:<sk>  hash k -> first-stored no.  ns:order           first-stored counter
  ns:bytes          encoded size of every item
  ns:keys           set of the keys above        ns:seq             version counter
  ns:count          hash coll -> items           ns:rules           scenario rule counters
  (the state's own keys, besides: ns:owner, ns:ready, ns:clock, ns:scenario, ns:journal)
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis

from .codec import decoded_json, encoded_item
from .protocol import DEFAULT_MAX_STORE_BYTES, Item, Scope, StateUnavailable, StoreFull
from .redis_scripts import COMMIT, EXPORT
from .store import UniqueIndex, Watcher

T = TypeVar("T")

#: How often a request runs again after losing a race before it is answered 503.
MAX_ATTEMPTS = 200

#: Errors that mean "Redis cannot answer now" (BusyLoadingError, a restart reading its file, is one).
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _text(value: Any) -> str:
    """A key, a scope or an index value as text every process derives alike (ASCII: a lone
    surrogate in a key is an escape, never a string Redis's client cannot send)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def _ordered(raw: dict[bytes, bytes], order: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """A scope's items in the order they were first stored, as the in-memory store lists them."""
    return sorted(raw.items(), key=lambda pair: int(order.get(pair[0], b"0")))


def _scope_text(scope: Scope) -> str:
    return _text(list(scope))


def index_id(index: UniqueIndex) -> str:
    """A name for a unique index that every process derives alike."""
    return _text([index.collection, list(index.fields), [[f, list(v)] for f, v in index.when]])


class _Transaction:
    """What one attempt read (to check at commit) and wants to write."""

    def __init__(self) -> None:
        self.guards: dict[tuple[str, str], str] = {}
        # By (collection, scope, key): what was read, and what is to be written (None: removed).
        self.seen: dict[tuple[str, Scope, Any], Item | None] = {}
        self.writes: dict[tuple[str, Scope, Any], Item | None] = {}
        # The encoded item of each put, made as it was written (what Redis is sent).
        self.texts: dict[tuple[str, Scope, Any], str] = {}
        # Each item's JSON as read or written (None: absent): every read hands out a new copy
        # decoded from it, so no caller changes what this transaction holds or sends.
        self.raw: dict[tuple[str, Scope, Any], bytes | None] = {}
        self.order: list[Any] = []
        self.numbers: dict[str, int] = {}
        self.cleared = False

    def guard(self, key: str, field: str, seen: bytes | str | None) -> None:
        """Check at commit that `field` of hash `key` still holds `seen` (None: absent)."""
        text = seen.decode() if isinstance(seen, bytes) else seen
        self.guards.setdefault((key, field), text or "")


class RedisStore:
    """Items by collection, scope and key in Redis; the interface of `store.Store`."""

    sole_writer = False  # every worker and replica writes it

    def __init__(
        self, client: redis.Redis, namespace: str = "specmock", max_bytes: int | None = DEFAULT_MAX_STORE_BYTES
    ) -> None:
        self.client: Any = client  # untyped: its answers are bytes here (no decode_responses)
        self.ns = namespace
        self._lock = threading.RLock()
        self._depth = 0
        self._tx: _Transaction | None = None
        #: Commits by this process (the in-memory Store's change counter, for the same readers).
        self.version = 0
        self._indexes: dict[str, list[tuple[UniqueIndex, str]]] = {}
        self._commit = client.register_script(COMMIT)
        self._export = client.register_script(EXPORT)
        #: The last reason Redis could not be reached, None while it answers.
        self.error: str | None = None
        #: The most bytes the encoded items may take together (None: no limit).
        self.max_bytes = max_bytes

    # -- transactions -----------------------------------------------------------------------

    def transaction(self, work: Callable[[], T]) -> T:
        """Run `work` until its reads are still true when its writes are applied; its result."""
        with self._lock:
            if self._tx is not None:
                return work()
            for attempt in range(MAX_ATTEMPTS):
                self._tx = _Transaction()
                try:
                    result = work()
                    committed = self._send(self._tx, check=True)
                finally:
                    self._tx = None
                if committed:
                    return result
                time.sleep(random.uniform(0, 0.0005 * min(attempt + 1, 20)))  # lost a race: let the winner finish
        raise StateUnavailable("the shared state is too contended right now", retry_after=1)

    @property
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Several changes applied as one, whatever was read meanwhile (a reset, fixtures, an import)."""
        with self._lock:
            if self._tx is not None:
                yield
                return
            self._tx = _Transaction()
            try:
                yield
                self._send(self._tx, check=False)
            finally:
                self._tx = None

    @contextmanager
    def _auto(self) -> Iterator[_Transaction]:
        if self._tx is not None:
            yield self._tx
            return
        with self.lock:
            yield self._open()

    def _open(self) -> _Transaction:
        assert self._tx is not None
        return self._tx

    def _send(self, tx: _Transaction, check: bool) -> bool:
        if not tx.writes and not tx.numbers and not tx.cleared:
            return True
        writes: list[list[Any]] = [["clear"]] if tx.cleared else []
        for coll, scope, key in tx.order:
            item = tx.writes[(coll, scope, key)]
            sk = _scope_text(scope)
            indexes = [[ixid, self._index_value(index, item)] for index, ixid in self._indexes.get(coll, ())]
            if item is None:
                writes.append(["del", coll, sk, _text(key), "", "", indexes])
            else:
                item_text = tx.texts[(coll, scope, key)]
                writes.append(["put", coll, sk, _text(key), item_text, _text([coll, list(scope)]), indexes])
        writes.extend(["num", coll, number] for coll, number in tx.numbers.items())
        guards = [[k, f, seen] for (k, f), seen in tx.guards.items()] if check else []
        limit = self.max_bytes or 0
        payload = json.dumps({"guards": guards, "writes": writes, "max": limit}, ensure_ascii=False)
        seq = self._call(lambda: self._commit(args=[self.ns, payload]))
        if seq == -1:
            raise StoreFull(limit)
        if seq == 0:
            return False
        self.version += 1
        return True

    def _index_value(self, index: UniqueIndex, item: Item | None) -> str:
        value = index.value(item) if item is not None else None
        return "" if value is None else _text(list(value))

    def _call(self, command: Callable[[], T]) -> T:
        try:
            result = command()
        except UNREACHABLE as exc:
            self.error = f"redis unreachable: {exc}"
            raise StateUnavailable(self.error, retry_after=1) from None
        self.error = None
        return result

    # -- reads ------------------------------------------------------------------------------

    def _key(self, kind: str, coll: str, scope: Scope) -> str:
        return f"{self.ns}:{kind}:{coll}:{_scope_text(scope)}"

    def get(self, collection: str, scope: Scope, key: Any) -> Item | None:
        """A new copy of the item (None: not stored)."""
        data = self.encoded(collection, scope, key)
        return decoded_json(data) if data is not None else None

    def encoded(self, collection: str, scope: Scope, key: Any) -> bytes | None:
        """The item's JSON as stored (or as this transaction wrote it); None: not stored."""
        with self._auto() as tx:
            ident = (collection, scope, key)
            if ident in tx.raw:
                return tx.raw[ident]
            if tx.cleared:
                return None
            vkey = self._key("v", collection, scope)
            field = _text(key)
            pipe = self.client.pipeline(transaction=True)
            pipe.hget(self._key("i", collection, scope), field)
            pipe.hget(vkey, field)
            answers = self._call(pipe.execute)
            raw: bytes | None = answers[0]
            tx.guard(vkey, field, answers[1])
            tx.seen[ident] = decoded_json(raw) if raw is not None else None
            tx.raw[ident] = raw
            return raw

    def stored_bytes(self) -> int:
        """The encoded size of every item held, as last committed."""
        raw = self._call(lambda: self.client.get(f"{self.ns}:bytes"))
        return int(raw) if raw is not None else 0

    def scopes(self, collection: str) -> list[Scope]:
        """The scopes that hold items of `collection`, as last committed."""
        raw = self._call(lambda: self.client.hgetall(f"{self.ns}:scopes"))
        found = [json.loads(value) for value in raw.values()]
        return [tuple(scope) for coll, scope in found if coll == collection]

    def size(self, collection: str) -> int:
        """How many items `collection` holds in every scope, as last committed (for --max-items:
        a cap, not a check-and-change, so it is read outside the transaction)."""
        raw = self._call(lambda: self.client.hget(f"{self.ns}:count", collection))
        return int(raw) if raw is not None else 0

    def items(self, collection: str, scope: Scope, containing: tuple[bytes, ...] = ()) -> list[Item]:
        """New copies of the scope's items, in the order they were first stored; with `containing`,
        only those whose JSON holds every one of these byte strings."""
        with self._auto() as tx:
            listed = [data for ident in self._listed(collection, scope) if (data := tx.raw[ident])]
            return [decoded_json(data) for data in listed if all(part in data for part in containing)]

    def keys(self, collection: str, scope: Scope) -> list[Any]:
        """The keys of the scope's items, in the order they were first stored."""
        with self._auto():
            return [ident[2] for ident in self._listed(collection, scope)]

    def _listed(self, collection: str, scope: Scope) -> list[tuple[str, Scope, Any]]:
        """Who holds an item in the scope, in order, this transaction's writes included."""
        with self._auto() as tx:
            vkey = self._key("v", collection, scope)
            raw: list[tuple[bytes, bytes]] = []
            if not tx.cleared:
                pipe = self.client.pipeline(transaction=True)
                pipe.hgetall(self._key("i", collection, scope))
                pipe.hgetall(self._key("o", collection, scope))
                pipe.hget(vkey, "*")
                stored, order, version = self._call(pipe.execute)
                tx.guard(vkey, "*", version)
                raw = _ordered(stored, order)
            found: dict[Any, tuple[str, Scope, Any]] = {}
            for k, text in raw:
                ident = (collection, scope, json.loads(k))
                if ident not in tx.seen:
                    tx.seen[ident] = decoded_json(text)
                    tx.raw[ident] = text
                found[ident[2]] = ident
            for ident in tx.writes:
                if ident[0] == collection and ident[1] == scope:
                    found[ident[2]] = ident
            return [ident for ident in found.values() if tx.raw[ident] is not None]

    def owner(self, index: UniqueIndex, scope: Scope, value: tuple[Any, ...]) -> Any:
        """The key of the item holding `value` under `index` in `scope`, or None (this
        transaction's own writes included)."""
        with self._auto() as tx:
            wanted = _text(list(value))
            xkey = f"{self.ns}:x:{index_id(index)}:{_scope_text(scope)}"
            owner: Any = None
            if not tx.cleared:
                raw = self._call(lambda: self.client.hget(xkey, wanted))
                tx.guard(xkey, wanted, raw)
                owner = json.loads(raw) if raw is not None else None
            ident = (index.collection, scope, owner)
            if owner is not None and ident in tx.writes:
                mine = tx.writes[ident]
                if mine is None or self._index_value(index, mine) != wanted:
                    owner = None
            for (coll, where, key), item in tx.writes.items():
                same_scope = coll == index.collection and where == scope
                if same_scope and item is not None and self._index_value(index, item) == wanted:
                    owner = key
            return owner

    def peek_number(self, collection: str) -> int:
        """The next free number; the commit checks nobody took it meanwhile."""
        with self._auto() as tx:
            nkey = f"{self.ns}:n"
            stored = 0
            if not tx.cleared:
                raw = self._call(lambda: self.client.hget(nkey, collection))
                tx.guard(nkey, collection, raw.decode() if raw is not None else None)
                stored = int(raw) if raw is not None else 0
            return max(stored, tx.numbers.get(collection, 0)) + 1

    def counters(self) -> dict[str, int]:
        raw = self._call(lambda: self.client.hgetall(f"{self.ns}:n"))
        return {k.decode(): int(v) for k, v in raw.items()}

    # -- writes -----------------------------------------------------------------------------

    def _write(self, collection: str, scope: Scope, key: Any, item: Item | None) -> None:
        data = encoded_item(item) if item is not None else None  # refused here, before it is kept
        with self._auto() as tx:
            ident = (collection, scope, key)
            if ident not in tx.writes:
                tx.order.append(ident)
            tx.writes[ident] = decoded_json(data) if data is not None else None  # the caller keeps `item`
            tx.texts[ident] = data.decode() if data is not None else ""
            tx.raw[ident] = data

    def put(self, collection: str, scope: Scope, key: Any, item: Item) -> None:
        self._write(collection, scope, key, item)

    def remove(self, collection: str, scope: Scope, key: Any) -> Item | None:
        with self._auto():
            old = self.get(collection, scope, key)
            if old is not None:
                self._write(collection, scope, key, None)
            return old

    def remove_scope(self, collection: str, scope: Scope) -> list[Item]:
        with self._auto():
            gone = self.items(collection, scope)
            keys = [ident[2] for ident in self._scope_idents(collection, scope)]
            for key in keys:
                self._write(collection, scope, key, None)
            return gone

    def _scope_idents(self, collection: str, scope: Scope) -> list[tuple[str, Scope, Any]]:
        tx = self._open()
        return [
            ident
            for ident, item in {**tx.seen, **tx.writes}.items()
            if ident[0] == collection and ident[1] == scope and item is not None
        ]

    def note_number(self, collection: str, number: int) -> None:
        with self._auto() as tx:
            if number > tx.numbers.get(collection, 0):
                tx.numbers[collection] = number

    def clear(self) -> None:
        with self._auto() as tx:
            tx.cleared = True
            tx.writes.clear()
            tx.texts.clear()
            tx.order.clear()
            tx.seen.clear()
            tx.raw.clear()
            tx.numbers.clear()

    # -- indexes, views, watchers: what the in-memory store offers ---------------------------

    def add_index(self, index: UniqueIndex) -> None:
        """Maintain `index` on every write from now on (Redis keeps it for items already stored)."""
        self._indexes.setdefault(index.collection, []).append((index, index_id(index)))

    def derived(self, collection: str, scope: Scope, key: Any) -> Any:
        return None  # another process may have changed the item: nothing is cached across requests

    def set_derived(self, collection: str, scope: Scope, key: Any, value: Any) -> None:
        return None

    def watch(self, watcher: Watcher) -> None:
        raise ValueError("a state file cannot watch a Redis store: Redis keeps the state")

    def unwatch(self, watcher: Watcher) -> None:
        return None

    # -- whole state ------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """All state as JSON-ready data, read at one instant: collections by name, each scope's
        items in the order they were first stored, scopes in the order they were first filled
        (as the in-memory store exports them)."""
        scopes, numbers = self._call(lambda: self._export(args=[self.ns]))
        grouped: dict[str, list[tuple[int, list[dict[str, Any]]]]] = {}
        for where, flat, flat_order in scopes:
            coll, scope = json.loads(where)
            stored = {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
            order = {flat_order[i]: flat_order[i + 1] for i in range(0, len(flat_order), 2)}
            first = min((int(order.get(key, b"0")) for key in stored), default=0)
            entries = [
                {"scope": scope, "key": json.loads(key), "item": json.loads(text)}
                for key, text in _ordered(stored, order)
            ]
            grouped.setdefault(coll, []).append((first, entries))
        collections = {
            name: [entry for _, entries in sorted(parts, key=lambda part: part[0]) for entry in entries]
            for name, parts in sorted(grouped.items())
        }
        counters = {numbers[i].decode(): int(numbers[i + 1]) for i in range(0, len(numbers), 2)}
        return {"collections": {k: v for k, v in collections.items() if v}, "counters": dict(sorted(counters.items()))}

    def load(self, data: dict[str, Any]) -> None:
        """Replace all state with what `export` produced, in one step."""
        with self.lock:
            self.clear()
            for name, entries in data.get("collections", {}).items():
                for entry in entries:
                    self.put(name, tuple(entry["scope"]), entry["key"], entry["item"])
            for name, number in data.get("counters", {}).items():
                self.note_number(str(name), int(number))

    def ping(self) -> str | None:
        """None when Redis answers, else why not."""
        try:
            self._call(self.client.ping)
        except StateUnavailable as exc:
            return exc.reason
        return None
