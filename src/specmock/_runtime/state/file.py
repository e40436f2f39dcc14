"""The state in memory and in a file: one process whose data survives restarts and crashes.

Frontend teams run the mock for days; their data must survive a restart, a crash
and a full disk. The items live in memory (as in `MemoryState`); a writer thread
(persister.py) logs every change to the file (snapshot.py's format) before it is
acknowledged.

Invariants:
- At start the file is restored if it exists (a file that cannot be used stops the
  start with file, line and reason); otherwise the fixtures are written and saved.
- A write is refused (StateUnavailable, 503) while the file cannot be written, and
  a write the disk refused is taken back before its 503: a 503 means not applied.
- Health is degraded while the file cannot be written or an acknowledged change is
  not on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..._clock import MockClock
from .memory import MemoryState
from .persister import StatePersister
from .protocol import DEFAULT_MAX_STORE_BYTES, JournalLimits, StateOwner, StateUnavailable

log = logging.getLogger("specmock")


class FileState(MemoryState):
    """Items in memory, every change on disk at `path` before it is acknowledged."""

    kind = "file"
    durable = True

    def __init__(
        self,
        path: Path | str,
        clock: MockClock | None = None,
        journal: JournalLimits | None = None,
        max_store_bytes: int | None = DEFAULT_MAX_STORE_BYTES,
    ) -> None:
        super().__init__(clock, journal, max_store_bytes)
        self.path = Path(path)
        self.persister: StatePersister | None = None

    def initialise(self, owner: StateOwner) -> None:
        """Restore the file if there is one (LoadError if it is unusable), else write the fixtures."""
        persister = StatePersister(self.store, self.path, seed=lambda: owner.seed, check=owner.state_problems)
        restored = persister.load()
        if restored is None:
            owner.fresh_start()
        elif restored.seed is not None:
            owner.restore_seed(restored.seed)
        log.info("state %s %s", "restored from" if restored else "will be kept in", self.path)
        self.persister = persister
        persister.start()

    def check_writable(self) -> None:
        if self.persister is not None:
            self.persister.check_writable()

    async def settled(self) -> None:
        if self.persister is None:
            raise StateUnavailable("the state file is not open")
        await self.persister.settled(self.store.version)

    def status(self) -> dict[str, Any]:
        if self.persister is None:
            return {"kind": self.kind, "ok": False, "file": str(self.path), "error": "not open"}
        status = self.persister.status()
        return {"kind": self.kind, **status, "storedBytes": self.store.stored_bytes()}

    def close(self) -> None:
        """Write what is pending, leave the file as one snapshot, and stop the writer."""
        if self.persister is not None:
            self.persister.stop()
