"""Contract coverage: which operations and documented statuses a run exercised.

One report shape serves the pytest plugin's summary and the dashboard's table:
per family, every operation with its documented statuses split into those seen
and those never seen, plus any status the mock answered that the spec does not
document. `Tally` counts live traffic from the journal; it is thread-safe and
costs one dictionary update per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._spec.model import Family
from .journal import Entry

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
    """Statuses seen per operation since start (or `clear`), fed entry by entry.

    On the request path: one dict store of a tuple, no lock (a single dict store is atomic
    in CPython, and so is copying the keys out)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, int], None] = {}

    def __call__(self, entry: Entry | None) -> None:
        if entry is None or entry.operation_id is None or entry.outcome in UNDELIVERED:
            return
        self._seen[(entry.family, entry.operation_id, entry.status)] = None

    def covered(self) -> Covered:
        """What was seen, as family -> operationId -> statuses."""
        covered: Covered = {}
        for family, operation, status in list(self._seen):
            covered.setdefault(family, {}).setdefault(operation, set()).add(str(status))
        return covered

    def clear(self) -> None:
        self._seen.clear()
