"""The proxy's findings so far: each distinct finding once, with how often it was seen.

Distinct means the same operation, method, path template, status, kind and
pointer: a provider that leaves a field out of every answer is one finding seen
many times, not a report as long as the traffic. Thread-safe; bounded (past
`limit` distinct findings, new ones are counted as `dropped`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from .check import Finding

DEFAULT_LIMIT = 10_000


class DriftLog:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._seen: dict[tuple[Any, ...], list[Any]] = {}  # key -> [finding, count]
        self._lock = threading.Lock()
        self.limit = limit
        self.dropped = 0

    def add(self, findings: Iterable[Finding]) -> None:
        with self._lock:
            for finding in findings:
                seen = self._seen.get(finding.key)
                if seen is not None:
                    seen[1] += 1
                elif len(self._seen) < self.limit:
                    self._seen[finding.key] = [finding, 1]
                else:
                    self.dropped += 1

    def items(self) -> list[tuple[Finding, int]]:
        with self._lock:
            return [(finding, count) for finding, count in self._seen.values()]

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._seen)

    def as_dict(self) -> dict[str, Any]:
        return {
            "findings": [{**f.as_dict(), "count": n} for f, n in self.items()],
            "dropped": self.dropped,
        }
