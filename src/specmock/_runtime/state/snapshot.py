"""The state file's format: one snapshot line, then lines of changes; read, checked, written atomically.

- line 1 is a snapshot: ``{"format": "specmock-state", "version": 2, "seed": N, "store": {...}}``;
- every further line is a batch of changes: ``{"put": [[collection, scope, key, item], ...],
  "del": [[collection, scope, key], ...], "counters": {...}}``.

Invariants: a last line cut short by a crash is dropped (its change was never
acknowledged); any other unreadable line, or state that does not fit the loaded
documents, is a LoadError with file, line and reason. Version 1 files (one
snapshot) are read too. A rewrite is atomic (temporary file, fsync, rename, fsync
of the folder). The same snapshot shape is what the admin API exports and imports.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._encoding import encode
from ..._errors import LoadError
from .protocol import StoreOps

log = logging.getLogger("specmock")

FORMAT = "specmock-state"
VERSION = 2

#: Checks a loaded state against the specs; returns the problems (empty when it fits).
StateCheck = Callable[[dict[str, Any]], list[str]]


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


def snapshot(seed: int, store: StoreOps) -> dict[str, Any]:
    """The state as it is saved, exported and imported."""
    return {"format": FORMAT, "version": VERSION, "seed": seed, "store": store.export()}


def snapshot_line(seed: int, store: StoreOps) -> bytes:
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
