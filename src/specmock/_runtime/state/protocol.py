"""The state seam: everything a request reads and writes, whoever keeps it.

A `State` hands the mock its item store, its clock, its journal, its rule counts
and a random source, and answers for them: whether a write may be made now,
when an acknowledged write is durable, and how healthy it is. Three keep it:
memory (one process), a file (one process, survives restarts) and Redis (every
worker and replica of one mock). The engine, the dispatcher, the admin API and
the dashboard see only this protocol, so they behave alike on every backend.

Invariants:
- A state is built first, then `connect`ed for the served documents (their
  identity names what it may touch), then `initialise`d: it writes the fixtures
  (through `StateOwner.fresh_start`) or restores what it kept. Nothing outside
  replaces a state's parts: the mock reads them, never assigns them.
- A scenario switch is told to the state (`share_scenario`) by the mock; a state
  shared by several processes tells the others (`StateOwner.follow_scenario`)
  when they `refresh` at the start of a request.
- `status()["ok"]` is False whenever the state cannot keep what it acknowledged
  (a file that cannot be written, Redis away or emptied): health says degraded.
- StateUnavailable means "not applied, try again": the API answers 503 with Retry-After.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..._clock import MockClock
from ..journal import DEFAULT_BODY_LIMIT, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal

T = TypeVar("T")
Scope = tuple[Any, ...]
Item = dict[str, Any]

#: Default of `--max-store-bytes`: the encoded items of every collection together. Far beyond
#: any test's data, well below what takes a machine's memory (items cost a few times their JSON).
DEFAULT_MAX_STORE_BYTES = 64 * 1024 * 1024


class StateUnavailable(Exception):
    """The state cannot take a change now (a disk that refuses, Redis away): nothing was applied."""

    def __init__(self, reason: str, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class NamespaceTaken(RuntimeError):
    """A shared state's namespace holds the state of a mock of other documents (a name to change)."""


class StoreFull(Exception):
    """A write would take the store over its byte budget (`--max-store-bytes`): nothing was applied."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the store is full: its items may take {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class JournalLimits:
    """How much of the traffic a state's journal keeps."""

    size: int = DEFAULT_JOURNAL_SIZE
    body_limit: int = DEFAULT_BODY_LIMIT
    max_bytes: int = DEFAULT_JOURNAL_BYTES

    def journal(self) -> Journal:
        return Journal(self.size, self.body_limit, self.max_bytes)


class StoreOps(Protocol):
    """Items by collection, scope and key, with id counters and unique indexes.

    Every backend lists a scope's items in the order they were first stored, encodes
    each item as it is written (UnstorableValue for what JSON cannot hold) and refuses
    a write beyond `max_bytes` (StoreFull), in both cases before anything changes. What
    a read returns is the caller's own copy, and so is what it gave to `put`.
    """

    #: Grows with every change this process makes (a durable state waits for it to be kept).
    version: int
    #: Whether every change is made through this object, so an unchanged `version` means an
    #: unchanged store (False where other processes write it too).
    sole_writer: bool
    #: The most the encoded items may take together (None: no limit).
    max_bytes: int | None

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Several changes applied as one (a reset, fixtures, an import, a dashboard edit)."""
        ...

    def transaction(self, work: Callable[[], T]) -> T:
        """Run one request's `work` as one change: all of its writes, or (an exception) none."""
        ...

    def add_index(self, index: Any) -> None: ...
    def owner(self, index: Any, scope: Scope, value: tuple[Any, ...]) -> Any: ...
    def derived(self, collection: str, scope: Scope, key: Any) -> Any:
        """What a reader cached for the item's current version (None: nothing, or not cacheable here)."""
        ...

    def set_derived(self, collection: str, scope: Scope, key: Any, value: Any) -> None: ...
    def get(self, collection: str, scope: Scope, key: Any) -> Item | None:
        """A new copy of the item (None: not stored): changing it changes nothing stored."""
        ...

    def encoded(self, collection: str, scope: Scope, key: Any) -> bytes | None:
        """The item's JSON as stored, without a decode (None: not stored)."""
        ...

    def items(self, collection: str, scope: Scope, containing: tuple[bytes, ...] = ()) -> list[Item]:
        """New copies of the scope's items, in the order they were first stored; with `containing`,
        only those whose JSON holds every one of these byte strings (the others are not decoded)."""
        ...

    def keys(self, collection: str, scope: Scope) -> list[Any]:
        """The keys of the scope's items, in the order they were first stored (nothing decoded)."""
        ...

    def scopes(self, collection: str) -> list[Scope]: ...
    def put(self, collection: str, scope: Scope, key: Any, item: Item) -> None: ...
    def remove(self, collection: str, scope: Scope, key: Any) -> Item | None: ...
    def remove_scope(self, collection: str, scope: Scope) -> list[Item]: ...
    def peek_number(self, collection: str) -> int: ...
    def note_number(self, collection: str, number: int) -> None: ...
    def counters(self) -> dict[str, int]: ...
    def size(self, collection: str) -> int: ...
    def stored_bytes(self) -> int: ...
    def clear(self) -> None: ...
    def export(self) -> dict[str, Any]: ...
    def load(self, data: dict[str, Any]) -> None: ...


class RuleCounts(Protocol):
    """Scenario rule counts several processes see alike ("the third call fails" counts every process's calls)."""

    def count(self, name: str, after: int, every: int, times: int, lucky: bool) -> tuple[int, int, bool]:
        """Count one match of rule `name`; its matches and firings so far, and whether this one fires."""
        ...


class StateOwner(Protocol):
    """What a state asks of the mock it keeps."""

    @property
    def seed(self) -> int: ...
    def fresh_start(self) -> None:
        """Write the fixtures into an empty state (what a reset does)."""

    def follow_scenario(self, change: dict[str, Any] | None) -> None:
        """Another process switched the scenario (`change` as `share_scenario` got it; None: cleared)."""

    def state_problems(self, store: dict[str, Any]) -> list[str]:
        """Why an exported store does not fit the served documents."""

    def restore_seed(self, seed: int) -> None:
        """Continue a run that used `seed` (a restored state's)."""


class StateParts(Protocol):
    """The parts of a state a request reads and writes: what a State hands out, and what
    the mock shows its controls (the admin API, the dashboard) through its own properties."""

    @property
    def store(self) -> StoreOps: ...
    @property
    def clock(self) -> MockClock: ...
    @property
    def journal(self) -> Journal: ...


class State(StateParts, Protocol):
    """Where a mock's state lives: memory, a file or Redis."""

    kind: str
    #: Whether a write is acknowledged only once `settled` returns (a file's fsync).
    durable: bool
    #: Whether other processes share this state (then scenario switches are shared, and
    #: `refresh` has work to do at the start of every request).
    shared: bool

    @property
    def rules(self) -> RuleCounts | None:
        """Rule counts shared with other processes, or None (each rule counts for itself)."""

    def random(self, seed: int) -> random.Random:
        """The engine's random source for `seed` (distinct per process where processes share ids)."""
        ...

    def connect(self, identity: Callable[[], str]) -> None:
        """Get ready to keep the state of the documents `identity()` names (a hash of them,
        computed only by a state that needs it)."""

    def initialise(self, owner: StateOwner) -> None:
        """Restore what was kept, or have `owner` write its fixtures; start any background work."""

    def refresh(self) -> None:
        """At the start of a request: take in what other processes changed (clock, scenario, lost data)."""

    def share_scenario(self, change: dict[str, Any] | None) -> None:
        """The owner switched its scenario (None: cleared): tell the processes that share this state."""

    def check_writable(self) -> None:
        """Raise StateUnavailable while a write could not be kept."""

    async def settled(self) -> None:
        """Return once every change made so far is durable; StateUnavailable (and undone) if it cannot be."""

    def status(self) -> dict[str, Any]:
        """For health: `kind`, `ok` (False: degraded) and why."""
        ...

    def close(self) -> None:
        """Make every acknowledged change durable and stop background work."""
