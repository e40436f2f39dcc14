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
- At start the file is replayed. A last line cut short by a crash is dropped (its
  change was never acknowledged); any other unreadable line, or state that does
  not fit the loaded specs, stops the server with file, line and reason: starting
  empty would silently throw a team's data away. Version 1 files (one snapshot)
  are read too. Temporary files left by a killed rewrite are removed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..encoding import encode
from ..errors import LoadError
from .store import Scope, Store

log = logging.getLogger("specmock")

FORMAT = "specmock-state"
VERSION = 2
#: How long a request waits for its change to reach the disk before it is answered 503.
SETTLE_TIMEOUT = 10.0
#: Rewrite the file as one snapshot once the log lines outgrow this, or twice the snapshot.
COMPACT_MIN_BYTES = 4 * 1024 * 1024
MAX_BACKOFF = 2.0

#: Checks a loaded state against the specs; returns the problems (empty when it fits).
StateCheck = Callable[[dict[str, Any]], list[str]]


class StateUnavailable(Exception):
    """The state file cannot be written now: writes are refused until it can."""

    def __init__(self, reason: str, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Restored:
    """What a state file held."""

    seed: int | None
    store: dict[str, Any]


def shape_problem(data: Any) -> str | None:
    """Why `data` is not a state snapshot (an export), or None."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"it is not a {FORMAT} file"
    if data.get("version") not in (1, VERSION):
        return f"unsupported version {data.get('version')!r} (this specmock reads 1 and {VERSION})"
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        return "seed is not an integer"
    store = data.get("store")
    if not isinstance(store, dict) or not isinstance(store.get("collections"), dict):
        return "it has no store.collections"
    for name, entries in store["collections"].items():
        if not isinstance(entries, list) or not all(
            isinstance(e, dict)
            and isinstance(e.get("scope"), list)
            and all(_plain_key(part) for part in e["scope"])
            and _plain_key(e.get("key"))
            and isinstance(e.get("item"), dict)
            for e in entries
        ):
            return f"collection {name!r} is malformed (each entry: scope [ids], key (a string or integer), item {{}})"
    return _counters_problem(store.get("counters", {}))


def _plain_key(value: Any) -> bool:
    """An id as the API makes them: a string or an integer (not a bool, a list, an object)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _counters_problem(counters: Any) -> str | None:
    if not isinstance(counters, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counters.values()
    ):
        return "store.counters must map collections to whole numbers"
    return None


def _batch_problem(batch: Any) -> str | None:
    if not isinstance(batch, dict) or set(batch) - {"put", "del", "counters"}:
        return "not a batch of changes"
    puts, dels = batch.get("put", []), batch.get("del", [])
    if not isinstance(puts, list) or not all(
        isinstance(p, list)
        and len(p) == 4
        and isinstance(p[0], str)
        and isinstance(p[1], list)
        and isinstance(p[3], dict)
        for p in puts
    ):
        return "malformed put"
    if not isinstance(dels, list) or not all(
        isinstance(d, list) and len(d) == 3 and isinstance(d[0], str) and isinstance(d[1], list) for d in dels
    ):
        return "malformed del"
    return _counters_problem(batch.get("counters", {}))


def snapshot(seed: int, store: Store) -> dict[str, Any]:
    """The state as it is saved, exported and imported."""
    return {"format": FORMAT, "version": VERSION, "seed": seed, "store": store.export()}


def snapshot_line(seed: int, store: Store) -> bytes:
    """The state as one snapshot line (the caller holds the store's lock)."""
    return encode(snapshot(seed, store)) + b"\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_state(path: Path, check: StateCheck | None = None) -> tuple[Restored, bool] | None:
    """The saved state and whether it should be rewritten (it had log lines or a torn tail);
    None when the file does not exist; LoadError (file, line, reason) when it is unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LoadError(path, None, f"cannot read the state file: {exc.strerror or exc}") from None
    lines = raw.split(b"\n")
    torn = lines[-1] != b""  # every complete line ends with a newline; version 1 files had none
    if torn and len(lines) == 1:
        torn = False  # a version 1 file: one document without a newline
    body_lines = lines[:-1] if lines[-1] == b"" or torn else lines
    if not body_lines:
        raise LoadError(path, 1, "the state file is corrupt: it is empty")
    head = _parse(path, 1, body_lines[0])
    problem = shape_problem(head)
    if problem:
        raise LoadError(path, 1, f"the state file is corrupt: {problem}")
    collections = {
        name: {(tuple(e["scope"]), _key(e["key"])): e for e in entries}
        for name, entries in head["store"]["collections"].items()
    }
    counters: dict[str, int] = dict(head["store"].get("counters", {}))
    for number, line in enumerate(body_lines[1:], start=2):
        batch = _parse(path, number, line)
        problem = _batch_problem(batch)
        if problem:
            raise LoadError(path, number, f"the state file is corrupt: {problem}")
        for name, scope, key, item in batch.get("put", []):
            collections.setdefault(name, {})[(tuple(scope), _key(key))] = {"scope": scope, "key": key, "item": item}
        for name, scope, key in batch.get("del", []):
            collections.get(name, {}).pop((tuple(scope), _key(key)), None)
        counters.update(batch.get("counters", {}))
    if torn:
        log.warning("%s: dropped a last line cut short by a crash (its change was never acknowledged)", path)
    store = {"collections": {n: list(e.values()) for n, e in collections.items()}, "counters": counters}
    if check is not None:
        problems = check(store)
        if problems:
            raise LoadError.of([LoadError(path, None, f"the state does not fit the specs: {p}") for p in problems])
    return Restored(seed=head.get("seed"), store=store), len(body_lines) > 1 or torn or head["version"] != VERSION


def _key(key: Any) -> Any:
    return json.dumps(key) if isinstance(key, (list, dict)) else key


def _parse(path: Path, number: int, line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LoadError(path, number, f"the state file is corrupt (not JSON: {exc})") from None
    except RecursionError:
        raise LoadError(path, number, "the state file is corrupt (nested too deeply)") from None


def remove_stale_temporaries(path: Path) -> int:
    """Delete temporary files a killed rewrite of `path` left behind; how many there were."""
    removed = 0
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            stale.unlink()
            removed += 1
        except OSError as exc:
            log.warning("cannot remove stale temporary file %s: %s", stale, exc.strerror or exc)
    return removed


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
        self.store.load(restored.store)
        self.durable_version = self.store.version
        self._rewrite = rewrite
        return restored

    def start(self) -> None:
        """Watch the store and start the writer thread."""
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

    async def settled(self, version: int) -> None:
        """Return once the store's `version` is on disk; StateUnavailable if that takes too long."""
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
            except OSError as exc:
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
        except OSError:
            self._rewrite = True  # whatever was torn, the next write replaces the whole file
            raise
        self._settle(version)
        if self._log_bytes > max(self._compact_min, 2 * self._snapshot_bytes):
            self._rewrite = True
            self._wake.set()

    def _batch_line(self) -> bytes:
        puts, dels = [], []
        for collection, scope, key in sorted(self._dirty, key=repr):
            item = self.store.get(collection, scope, key)
            if item is None:
                dels.append([collection, list(scope), key])
            else:
                puts.append([collection, list(scope), key, item])
        return encode({"put": puts, "del": dels, "counters": self.store.counters()}) + b"\n"

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
        with self._waiters_lock:
            ready = [w for w in self._waiters if w[0] <= self.durable_version]
            self._waiters = [w for w in self._waiters if w[0] > self.durable_version]
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_resolve, future)

    def _failed(self, exc: OSError) -> None:
        """Note why the file cannot be written, and answer the requests waiting on it now (503):
        their changes stay in memory and are written once the disk recovers."""
        reason = exc.strerror or str(exc)
        if self.error != reason:
            log.error(
                "state file %s cannot be written (%s): writes are refused with 503 until it can; retrying",
                self.path,
                reason,
            )
        if self.error is None:
            self.failing_since = time.monotonic()
        self.error = reason
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
