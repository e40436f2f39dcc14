"""The state in this process's memory: the default, and what a test drives from Python.

Invariants: nothing is shared and nothing can be lost while the process lives, so
every write may be made, every acknowledged write is as durable as it will get,
and health is always ok. A scenario switch concerns this process alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..._clock import MockClock
from .protocol import DEFAULT_MAX_STORE_BYTES, JournalLimits, RuleCounts, StateOwner
from .store import Store


class MemoryState:
    """Items, clock and journal held by this process."""

    kind = "memory"
    durable = False
    shared = False
    rules: RuleCounts | None = None

    def __init__(
        self,
        clock: MockClock | None = None,
        journal: JournalLimits | None = None,
        max_store_bytes: int | None = DEFAULT_MAX_STORE_BYTES,
    ) -> None:
        self.store = Store(max_store_bytes)
        self.clock = clock or MockClock()
        self.journal = (journal or JournalLimits()).journal()

    def random(self, seed: int) -> random.Random:
        return random.Random(seed)

    def connect(self, identity: Callable[[], str]) -> None:
        return None

    def initialise(self, owner: StateOwner) -> None:
        owner.fresh_start()

    def refresh(self) -> None:
        return None

    def share_scenario(self, change: dict[str, Any] | None) -> None:
        return None

    def check_writable(self) -> None:
        return None

    async def settled(self) -> None:
        return None

    def status(self) -> dict[str, Any]:
        return {"kind": self.kind, "ok": True, "storedBytes": self.store.stored_bytes()}

    def close(self) -> None:
        return None
