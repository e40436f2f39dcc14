"""Contract coverage: which operations and documented statuses a run exercised.

One report shape serves the pytest plugin's summary and the dashboard's table:
per family, every operation with its documented statuses split into those seen
and those never seen, plus any status the mock answered that the spec does not
document. `Tally` counts live traffic from the journal; it is thread-safe and
costs one dictionary update per request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from .journal import Entry
from .model import Family

#: Outcomes that never reached the client: they exercise no status.
UNDELIVERED = frozenset({"dropped", "disconnected"})

Covered = dict[str, dict[str, set[str]]]  # family -> operationId -> statuses seen


def coverage_report(families: Iterable[Family], covered: Covered) -> dict[str, Any]:
    """Per family: every operation, its documented statuses, which ran and which never did."""
    report: dict[str, Any] = {}
    for family in families:
        operations: dict[str, dict[str, Any]] = {}
        for op in family.operations:
            documented = sorted(code for code in op.responses if code.isdigit())
            seen = sorted(covered.get(family.name, {}).get(op.operation_id, set()))
            operations[op.operation_id] = {
                "called": bool(seen),
                "documented": documented,
                "exercised": [c for c in documented if c in seen],
                "missing": [c for c in documented if c not in seen],
                "undocumented": [c for c in seen if c not in documented],
            }
        called = sum(1 for o in operations.values() if o["called"])
        statuses = sum(len(o["documented"]) for o in operations.values())
        exercised = sum(len(o["exercised"]) for o in operations.values())
        report[family.name] = {
            "operations": operations,
            "summary": {"operations": len(operations), "called": called, "statuses": statuses, "exercised": exercised},
        }
    return report


class Tally:
    """Statuses seen per operation since start (or `clear`), fed entry by entry."""

    def __init__(self) -> None:
        self._covered: Covered = {}
        self._lock = threading.Lock()

    def __call__(self, entry: Entry | None) -> None:
        if entry is None or entry.operation_id is None or entry.outcome in UNDELIVERED:
            return
        with self._lock:
            self._covered.setdefault(entry.family, {}).setdefault(entry.operation_id, set()).add(str(entry.status))

    def covered(self) -> Covered:
        """A copy of what was seen."""
        with self._lock:
            return {fam: {op: set(s) for op, s in ops.items()} for fam, ops in self._covered.items()}

    def clear(self) -> None:
        with self._lock:
            self._covered.clear()
