"""Keep the mock's state in a file across restarts.

Frontend teams run the mock for days; their data must survive a restart and
a crash. The state is written atomically (a temporary file in the same
folder, fsync, rename) by a background thread shortly after each change
(debounced), and once more on shutdown. A kill -9 loses at most the last
debounce window and never leaves a half-written file. A file that cannot be
read is reported and the server refuses to start: starting empty would
silently throw a team's data away.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LoadError

if TYPE_CHECKING:
    from .app import MockApp

FORMAT = "specmock-state"
VERSION = 1


def read_state(path: Path) -> dict[str, Any] | None:
    """The saved state, None when the file does not exist, LoadError when it is unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LoadError(path, None, f"cannot read the state file: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LoadError(path, getattr(exc, "lineno", None), f"the state file is corrupt (not JSON: {exc})") from None
    problem = shape_problem(data)
    if problem:
        raise LoadError(path, None, f"the state file is corrupt: {problem}")
    return data  # type: ignore[no-any-return]


def shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"it is not a {FORMAT} file"
    if data.get("version") != VERSION:
        return f"unsupported version {data.get('version')!r} (this specmock reads {VERSION})"
    store = data.get("store")
    if not isinstance(store, dict) or not isinstance(store.get("collections"), dict):
        return "it has no store.collections"
    for name, entries in store["collections"].items():
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("scope"), list) and "key" in e and isinstance(e.get("item"), dict)
            for e in entries
        ):
            return f"collection {name!r} is malformed"
    if not isinstance(store.get("counters", {}), dict):
        return "store.counters is malformed"
    return None


def snapshot(mock: MockApp) -> dict[str, Any]:
    """The state as it is saved."""
    return {"format": FORMAT, "version": VERSION, "seed": mock.seed, "store": mock.store.export()}


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"), ensure_ascii=False)
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


class StatePersister:
    """Writes the mock's state to `path` shortly after every change, and on stop."""

    def __init__(self, mock: MockApp, path: Path, debounce: float = 0.2) -> None:
        self.mock = mock
        self.path = path
        self.debounce = debounce
        self.saved_version = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="specmock-state-writer", daemon=True)

    def load(self) -> bool:
        """Restore the saved state, if any; True when there was one."""
        data = read_state(self.path)
        if data is None:
            return False
        self.mock.store.load(data["store"])
        self.saved_version = self.mock.store.version
        return True

    def start(self) -> None:
        self._thread.start()

    @property
    def up_to_date(self) -> bool:
        return self.saved_version == self.mock.store.version

    def flush(self) -> None:
        """Write now if anything changed since the last write."""
        version = self.mock.store.version
        if version == self.saved_version:
            return
        with self.mock.store.lock:
            version = self.mock.store.version
            data = snapshot(self.mock)
        write_atomically(self.path, data)
        self.saved_version = version

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.debounce):
            self.flush()
