"""A disk cache of parsed YAML files, so an unchanged spec is read back without PyYAML.

Parsing the bundled specs (and importing PyYAML to do it) was the largest part
of building the app once the spec checks went to jsonschema-rs; reading the
same values back with `marshal` takes a tenth of it. Only the parse is cached
(plain values and the path-to-line table), never compiled objects: the
compiling, and every check with its errors, runs as before.

Invariants:
- An entry is keyed by a SHA-256 of everything its values depend on: the file's
  text, specmock's version, the Python version, and the files that parse it
  (yamlload.py, yamlparse.py, PyYAML's) by size and mtime. A stale entry is
  never found: any change gives another key.
- An entry is used only when it reads back whole and names its own key;
  anything else (truncated, corrupt, another format) is ignored and rewritten,
  so a bad cache file can never fail a load or change what it gives.
- Entries are written atomically (a temporary file renamed into place); a cache
  that cannot be written (read-only home, full disk) is skipped silently.
- Documents with values `marshal` cannot write (YAML timestamps) and documents
  that fail to parse are not cached; nor is text that came from a request
  (only yamlload.load_yaml, which reads files, uses the cache).

Where: $SPECMOCK_CACHE_DIR, else $XDG_CACHE_HOME/specmock, else
~/.cache/specmock. `SPECMOCK_CACHE_DIR=off` (or `specmock serve --no-cache`,
SPECMOCK_NO_CACHE=1) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

#: Changes when the entry layout does.
FORMAT = "specmock-parse-1"
#: Entries kept; the oldest go when a new one is written beyond this.
MAX_ENTRIES = 64
SUFFIX = ".parse"
_OFF = ("", "0", "off", "no", "false")

_disabled = False


def disable() -> None:
    """Neither read nor write the cache in this process (`serve --no-cache`)."""
    global _disabled
    _disabled = True


def cache_dir() -> Path | None:
    """The cache's folder, or None when the cache is off."""
    if _disabled or os.environ.get("SPECMOCK_NO_CACHE", "").lower() in ("1", "true", "yes", "on"):
        return None
    configured = os.environ.get("SPECMOCK_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in _OFF else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "specmock"


@cache
def _environment() -> bytes:
    """What every entry's values depend on besides the text (computed once per process)."""
    package = sys.modules.get("specmock")  # imported already (this is its submodule); read, not imported here
    parts = [FORMAT, str(getattr(package, "__version__", "unknown")), sys.version]
    here = Path(__file__).parent
    sources = [here / "yamlload.py", here / "yamlparse.py"]
    with contextlib.suppress(Exception):
        spec = importlib.util.find_spec("yaml")
        if spec is not None and spec.origin:
            sources.append(Path(spec.origin))
    for source in sources:
        try:
            stat = source.stat()
            parts.append(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{source.name}:missing")
    return "\0".join(parts).encode()


def key(text: str) -> str:
    """The entry name of a document with this text, in this environment."""
    return hashlib.sha256(_environment() + b"\0" + text.encode("utf-8", "surrogatepass")).hexdigest()


def load(text: str) -> tuple[Any, dict[Any, int]] | None:
    """The cached (values, lines) of a document with this text, or None (a miss, or no usable entry)."""
    folder = cache_dir()
    if folder is None:
        return None
    name = key(text)
    try:
        blob = (folder / (name + SUFFIX)).read_bytes()
    except OSError:
        return None
    try:
        entry = marshal.loads(blob)
    except Exception:  # truncated or not marshal data at all
        return None
    if not (isinstance(entry, tuple) and len(entry) == 4 and entry[0] == FORMAT and entry[1] == name):
        return None
    _, _, data, lines = entry
    if not isinstance(lines, dict):
        return None
    return data, lines


def store(text: str, data: Any, lines: dict[Any, int]) -> None:
    """Keep the parse of this text; silently nothing when it cannot be written."""
    folder = cache_dir()
    if folder is None:
        return
    name = key(text)
    try:
        blob = marshal.dumps((FORMAT, name, data, lines), 4)
    except ValueError:  # a value marshal cannot write (a YAML timestamp): parse it each time
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(tmp, folder / (name + SUFFIX))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(folder)
    except OSError:
        return


def _prune(folder: Path) -> None:
    """Remove the oldest entries beyond MAX_ENTRIES (edited specs leave their old parses behind)."""
    entries = []
    for entry in folder.glob("*" + SUFFIX):
        with contextlib.suppress(OSError):
            entries.append((entry.stat().st_mtime_ns, entry))
    entries.sort()
    for _, entry in entries[: max(0, len(entries) - MAX_ENTRIES)]:
        with contextlib.suppress(OSError):
            entry.unlink()
