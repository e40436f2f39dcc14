"""The request journal: every exchange, in a bounded ring buffer.

Clients under test are judged by what they sent; the journal is how a test or
a person sees it: operation, status, bodies, timing and which scenario rule
fired. It is bounded (default 10,000 entries) so a long-running server's memory
stays flat.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_JOURNAL_SIZE = 10_000


@dataclass(frozen=True)
class Entry:
    """One request and the mock's answer."""

    seq: int
    time: str
    method: str
    path: str
    query: str
    family: str
    operation_id: str | None
    status: int
    request_body: Any
    response_body: Any
    duration_ms: float
    rule: str | None
    outcome: str  # "ok", "invalid", "unmatched", "forced", "dropped", ...

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["operationId"] = data.pop("operation_id")
        data["requestBody"] = data.pop("request_body")
        data["responseBody"] = data.pop("response_body")
        data["durationMs"] = round(data.pop("duration_ms"), 3)
        return data


class Journal:
    """A thread-safe ring buffer of Entries."""

    def __init__(self, size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self, operation_id: str | None = None) -> list[Entry]:
        """Entries in order; only those of `operation_id` (plain or `family:Id`) if given."""
        with self._lock:
            items = list(self._entries)
        if operation_id is None:
            return items
        family, _, plain = operation_id.rpartition(":")
        return [e for e in items if e.operation_id == plain and (not family or e.family == family)]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
