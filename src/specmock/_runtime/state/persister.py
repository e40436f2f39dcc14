"""Keep the mock's state in a file across restarts: an acknowledged write is on disk.

Frontend teams run the mock for days; their data must survive a restart, a
crash and a full disk. The file is a write-ahead log:

- line 1 is a snapshot: ``{"format": "specmock-state", "version": 2, "seed": N, "store": {...}}``;
- every further line is a batch of changes: ``{"put": [[collection, scope, key, item], ...],
  "del": [[collection, scope, key], ...], "counters": {...}}``.

Invariants:

- A change is acknowledged (its response is sent) only once the line holding it
  is written and fsynced: the dispatcher awaits `settled`. Writes made while the
  previous batch was being synced go out together in the next one (group commit),
  so a burst costs one fsync per batch, not per request. A kill -9 loses nothing
  acknowledged.
- One writer thread owns the file. When the disk refuses (no space, read-only,
  I/O error) it keeps the unwritten changes, retries with backoff and recovers by
  itself when the disk does; meanwhile `check_writable` makes the API refuse new
  writes with 503 and Retry-After (reads keep working), and health and the log say
  why. The first write after a failure rewrites the whole file, so a line torn by
  the failure never stays in it.
- The file is rewritten as one snapshot (temporary file, fsync, rename, fsync of
  the folder: readers see the old file or the new, never a mix) when the log has
  outgrown the snapshot, after a reset or an import, and at shutdown.
- At start the file is replayed (snapshot.py); a file that cannot be used stops the
  server with file, line and reason: starting empty would silently throw a team's
  data away. Temporary files left by a killed rewrite are removed.
- The writer thread survives anything: an error it did not expect is treated like
  a disk that refuses (logged, retried, health degraded), never the thread's end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..._encoding import encode, encode_list
from ..._errors import LoadError
from .codec import UnstorableValue
from .protocol import Scope, StateUnavailable, StoreFull
from .snapshot import Restored, StateCheck, read_state, remove_stale_temporaries, snapshot_line, write_atomically
from .store import Store

log = logging.getLogger("specmock")

#: How long a request waits for its change to reach the disk before it is answered 503.
SETTLE_TIMEOUT = 10.0
#: Rewrite the file as one snapshot once the log lines outgrow this, or twice the snapshot.
COMPACT_MIN_BYTES = 4 * 1024 * 1024
MAX_BACKOFF = 2.0


class StatePersister:
    """Writes every change of `store` to `path` before it is acknowledged, from one thread."""

    def __init__(
        self,
        store: Store,
        path: Path,
        *,
        seed: Callable[[], int],
        check: StateCheck | None = None,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        self.store = store
        self.path = path
        self._seed = seed
        self._check = check
        self._compact_min = compact_min_bytes
        self._dirty: set[tuple[str, Scope, Any]] = set()
        self._rewrite = True  # the first write is a whole snapshot
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="specmock-state-writer", daemon=True)
        self._log_bytes = 0
        self._snapshot_bytes = 0
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()
        self.durable_version = -1
        #: Why the file cannot be written, and since when (None while all is well).
        self.error: str | None = None
        self.failing_since: float | None = None
        # Versions whose changes were taken back because the disk refused them: (after, up to].
        self._undone: list[tuple[int, int]] = []

    # -- start and stop ----------------------------------------------------------------

    def load(self) -> Restored | None:
        """Restore the saved state into the store, if there is one (and clean up after crashes)."""
        removed = remove_stale_temporaries(self.path)
        if removed:
            log.warning("removed %d stale temporary file(s) beside %s", removed, self.path)
        found = read_state(self.path, self._check)
        if found is None:
            return None
        restored, rewrite = found
        try:
            self.store.load(restored.store)
        except StoreFull as full:
            reason = f"its items take more than --max-store-bytes {full.limit}; raise the limit to load it"
            raise LoadError(self.path, None, reason) from None
        except UnstorableValue as exc:
            raise LoadError(self.path, None, f"the state file is corrupt: {exc}") from None
        self.durable_version = self.store.version
        self._rewrite = rewrite
        return restored

    def start(self) -> None:
        """Watch the store and start the writer thread."""
        self.store.keep_undo()
        self.store.watch(self)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Write what is pending, leave the file as one snapshot, and stop the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(SETTLE_TIMEOUT)
        self.store.unwatch(self)
        self.store.keep_undo(False)

    # -- the store tells us what changed (under its lock) --------------------------------

    def touched(self, collection: str, scope: Scope, key: Any) -> None:
        self._dirty.add((collection, scope, key))
        self._wake.set()

    def replaced_all(self) -> None:
        self._rewrite = True
        self._dirty.clear()
        self._wake.set()

    # -- what the request path asks ------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StateUnavailable while the file cannot be written."""
        if self.error is not None:
            raise StateUnavailable(f"the state cannot be saved: {self.error}")

    def _was_undone(self, version: int) -> bool:
        return any(after < version <= upto for after, upto in self._undone)

    async def settled(self, version: int) -> None:
        """Return once the store's `version` is on disk; StateUnavailable if that takes too long,
        or if the disk refused it (then the change was taken back: a 503 means not applied)."""
        if self._was_undone(version):
            raise StateUnavailable(f"the state cannot be saved: {self.error or 'the disk refused it'}")
        if self.durable_version >= version:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._waiters_lock:
            if self.durable_version >= version:
                return
            self._waiters.append((version, loop, future))
        self._wake.set()
        try:
            await asyncio.wait_for(future, SETTLE_TIMEOUT)
        except TimeoutError:
            # Too slow counts as refused: what is not on disk yet is taken back before the 503, so
            # a 503 means not applied; the next write rewrites the file from what memory holds.
            if not self._was_undone(version):
                self._failed(TimeoutError(f"the disk took over {SETTLE_TIMEOUT:g} s to save a change"))
                self._wake.set()
            raise StateUnavailable(f"the state cannot be saved: {self.error or 'the disk is too slow'}") from None

    @property
    def up_to_date(self) -> bool:
        return self.durable_version == self.store.version

    def status(self) -> dict[str, Any]:
        """For health: whether every change is on disk, and why not."""
        status: dict[str, Any] = {"file": str(self.path), "ok": self.error is None, "upToDate": self.up_to_date}
        if self.error is not None:
            status["error"] = self.error
            status["failingForSeconds"] = round(time.monotonic() - (self.failing_since or time.monotonic()), 1)
        return status

    # -- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.0
        while True:
            self._wake.wait(backoff or None)
            self._wake.clear()
            stopping = self._stopping.is_set()
            try:
                self._write(final=stopping)
            except Exception as exc:  # the writer must outlive whatever goes wrong
                self._failed(exc)
                if stopping:
                    log.error("state file %s: the last changes could not be written: %s", self.path, self.error)
                    return
                backoff = min(max(backoff * 2, 0.05), MAX_BACKOFF)
                continue
            if self.error is not None:
                log.warning("state file %s is writable again; every pending change is saved", self.path)
                self.error = self.failing_since = None
            backoff = 0.0
            if stopping:
                return

    def _write(self, final: bool) -> None:
        """Write what changed since the last write (or everything), then wake its waiters."""
        with self.store.lock:
            version = self.store.version
            rewrite = self._rewrite or (final and self._log_bytes > 0)
            if not rewrite and not self._dirty and version <= self.durable_version:
                return
            line = snapshot_line(self._seed(), self.store) if rewrite else self._batch_line()
            self._dirty.clear()
            self._rewrite = False
        try:
            if rewrite:
                write_atomically(self.path, line)
                self._snapshot_bytes, self._log_bytes = len(line), 0
            else:
                self._append(line)
                self._log_bytes += len(line)
        except BaseException:
            self._rewrite = True  # whatever was torn, the next write replaces the whole file
            raise
        self._settle(version)
        if self._log_bytes > max(self._compact_min, 2 * self._snapshot_bytes):
            self._rewrite = True
            self._wake.set()

    def _batch_line(self) -> bytes:
        """The dirty items as one batch line: each item's stored JSON spliced in as it is (the
        bytes `encode` would write for it), so the line costs no decode and no encode of items."""
        puts: list[bytes] = []
        dels = []
        for collection, scope, key in sorted(self._dirty, key=repr):
            data = self.store.encoded(collection, scope, key)
            if data is None:
                dels.append([collection, list(scope), key])
            else:
                puts.append(encode([collection, list(scope), key])[:-1] + b"," + data + b"]")
        tail = encode({"del": dels, "counters": self.store.counters()})
        return b'{"put":' + encode_list(puts) + b"," + tail[1:] + b"\n"

    def _append(self, line: bytes) -> None:
        """Append and fsync one line. The file is opened per batch, not held: a disk can then be
        remounted (read-only, for instance) between writes, and a failed write leaves no handle."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _settle(self, version: int) -> None:
        self.durable_version = max(self.durable_version, version)
        self.store.forget_undo(self.durable_version)
        with self._waiters_lock:
            ready = [w for w in self._waiters if w[0] <= self.durable_version]
            self._waiters = [w for w in self._waiters if w[0] > self.durable_version]
        for wanted, loop, future in ready:
            if self._was_undone(wanted):
                refused = StateUnavailable("the state cannot be saved: the disk refused it")
                loop.call_soon_threadsafe(_refuse, future, refused)
            else:
                loop.call_soon_threadsafe(_resolve, future)

    def _failed(self, exc: Exception) -> None:
        """Note why the file cannot be written, take back every change not on disk yet and
        answer the requests waiting on them now (503: not applied). Later writes are refused
        (`check_writable`) until the disk takes a write again."""
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if self.error != reason:
            log.error(
                "state file %s cannot be written (%s): writes are refused with 503 until it can; retrying",
                self.path,
                reason,
                exc_info=not isinstance(exc, OSError),
            )
        if self.error is None:
            self.failing_since = time.monotonic()
        self.error = reason
        with self.store.lock:
            upto = self.store.version
            if self.store.rollback(self.durable_version):
                self._undone = [*self._undone[-15:], (self.durable_version, upto)]
            self._rewrite = True
            self._dirty.clear()
        with self._waiters_lock:
            waiting, self._waiters = self._waiters, []
        for _, loop, future in waiting:
            loop.call_soon_threadsafe(_refuse, future, StateUnavailable(f"the state cannot be saved: {reason}"))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _refuse(future: asyncio.Future[None], error: StateUnavailable) -> None:
    if not future.done():
        future.set_exception(error)
