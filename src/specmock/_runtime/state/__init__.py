"""Where a mock's state lives: memory (the default), a file, or Redis (every worker and replica).

`open_state` builds one from what a user writes: None or "memory", a file path
(or "file:PATH"), or a Redis URL ("redis://HOST:PORT/DB", "rediss://", "unix://").
The Redis backend is imported only when asked for (its client is an extra).
"""

from __future__ import annotations

from pathlib import Path

from ..._clock import MockClock
from .memory import MemoryState
from .protocol import (
    DEFAULT_MAX_STORE_BYTES,
    JournalLimits,
    NamespaceTaken,
    State,
    StateOwner,
    StateUnavailable,
    StoreFull,
)

__all__ = [
    "DEFAULT_MAX_STORE_BYTES",
    "REDIS_SCHEMES",
    "JournalLimits",
    "MemoryState",
    "NamespaceTaken",
    "State",
    "StateOwner",
    "StateUnavailable",
    "StoreFull",
    "open_state",
]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_state(
    where: State | Path | str | None = None,
    *,
    clock: MockClock | None = None,
    journal: JournalLimits | None = None,
    max_store_bytes: int | None = DEFAULT_MAX_STORE_BYTES,
    namespace: str | None = None,
) -> State:
    """The state `where` names: a State as is (its own clock, journal and limits); None or
    "memory": memory; a Redis URL: Redis (under `namespace`, by default one derived from the
    served documents); else a file path."""
    if where is None or where == "memory":
        return MemoryState(clock, journal, max_store_bytes)
    if isinstance(where, str) and where.startswith(REDIS_SCHEMES):
        if clock is not None:
            raise ValueError("a Redis state keeps its own clock, shared by every process: pass no clock")
        from .redis import RedisState

        return RedisState(where, namespace, journal, max_store_bytes)
    if isinstance(where, (str, Path)):
        from .file import FileState

        path = where.removeprefix("file:") if isinstance(where, str) else where
        return FileState(path, clock, journal, max_store_bytes)
    if clock is not None:
        raise ValueError("a state brings its own clock: give the clock to the state, not to the mock")
    return where
