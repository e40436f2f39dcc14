"""Where specmock reads the time: one seam, so lifecycles and tests can control it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time, as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """``2025-10-01T12:34:56Z``: the form the documents use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
