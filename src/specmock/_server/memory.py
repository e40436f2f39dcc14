"""Garbage-collector settings for a long-running server whose state is plain JSON data.

Stored items are trees of dicts, lists and scalars: they never form reference
cycles, so reference counting frees them, and the cycle collector's full passes
only walk them again and again. With 100k items a full pass takes tens of
milliseconds, which is what a request waiting behind it sees as its p99.

So the server (not the library: in-process users keep Python's defaults):
- runs no cycle collection while it builds the mock, and freezes what that built
  (`frozen_start_up`): start-up allocates tens of thousands of objects that all live
  on, and the collector's hundred-odd passes over them (a tenth of start-up's CPU)
  found about 900 cyclic leftovers of imports and compiling, which are frozen with
  the rest instead;
- freezes what start-up and bulk loads leave (`freeze`, without a full pass
  first): the compiled specs and the restored state are moved out of the
  collector's sight for good;
- after every full collection, freezes what survived it (`freeze_survivors`): an
  object is walked by a full pass at most once. A frozen object is still freed by
  reference counting when its last reference goes; only a cycle among frozen
  objects would stay, and what survives a full pass here is the store, caches and
  the journal (acyclic data), not per-request objects.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def frozen_start_up() -> Iterator[None]:
    """No automatic cycle collection within the block, and what it built frozen when it ends
    well (else the collector is only enabled again): the first pass after it would walk all
    of it at once otherwise, since none of it was ever collected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


def freeze() -> None:
    """Exempt everything alive now from future passes.

    No full collection first: it walked every start-up object (tens of ms, on the
    way to the first answer) to free a few hundred cyclic leftovers of imports and
    compiling, which then stay frozen: a few tens of KB, once."""
    gc.freeze()


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def freeze_survivors() -> None:
    """From now on, what survives a full collection is frozen (idempotent)."""
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
