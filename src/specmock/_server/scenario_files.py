"""Which files `PUT /__specmock/scenario {"use": ...}` may read, and reading them safely.

Invariants: a name is a bundled scenario, or a regular file whose real path
(symlinks and `..` resolved) lies inside a folder the operator named at start-up
(`--scenario-dir`); nothing else is opened. The file is checked again after
opening (regular, not a FIFO or a device), read up to MAX_SCENARIO_BYTES, and
refusals name the file, never its content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

#: A scenario file larger than this is refused (the bundled ones are a few KiB).
MAX_SCENARIO_BYTES = 1024 * 1024


class ScenarioFileRefused(ValueError):
    """A `use` name that is not allowed or cannot be read; the message is safe to show."""


def resolve_use(name: str, bundled: Sequence[str], dirs: Sequence[Path]) -> str | Path:
    """`name` as a bundled name (returned as is) or an allowed file's real path."""
    if name in bundled:
        return name
    if not dirs:
        raise ScenarioFileRefused(
            f"{name!r} is not a bundled scenario (bundled: {', '.join(bundled)}); "
            "files are read only from folders given with --scenario-dir"
        )
    for folder in dirs:
        root = Path(os.path.realpath(folder))
        candidate = Path(os.path.realpath(root / name))
        if candidate.is_relative_to(root) and candidate != root:
            return candidate
    raise ScenarioFileRefused(f"{name!r} is not inside a --scenario-dir folder")


def read_scenario_file(path: Path, limit: int = MAX_SCENARIO_BYTES) -> str:
    """The text of an allowed scenario file (blocking: call it off the event loop)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ScenarioFileRefused(f"{path.name}: cannot open ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioFileRefused(f"{path.name}: not a regular file")
        if info.st_size > limit:
            raise ScenarioFileRefused(f"{path.name}: larger than {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(limit + 1)
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise ScenarioFileRefused(f"{path.name}: larger than {limit} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioFileRefused(f"{path.name}: not UTF-8 text") from None
