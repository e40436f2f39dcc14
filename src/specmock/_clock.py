"""Where specmock reads the time: one seam, so lifecycles and tests can control it.

`MockClock` runs on real time by default. It can be advanced (an offset is
added to the wall clock), set to an instant, or frozen so that time moves only
when someone advances it: the way to test polling code without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time, as an aware UTC datetime."""

    def now(self) -> datetime: ...


class MockClock:
    """A clock you can freeze, set and advance; real time (plus any offset) otherwise."""

    def __init__(self, *, frozen: bool = False, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if start is not None:
            self.set(start)
        if frozen:
            self.freeze()

    def now(self) -> datetime:
        frozen = self._frozen_at
        return frozen if frozen is not None else datetime.now(UTC) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop time at the current instant."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = datetime.now(UTC) + self._offset

    def unfreeze(self) -> None:
        """Let time run again from the instant it was frozen at."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never backward) by `seconds`; returns the new now."""
        if not seconds >= 0:  # also NaN
            raise ValueError("a clock only moves forward")
        with self._lock:
            try:
                step = timedelta(seconds=seconds)
                moved = (self._frozen_at or self.now()) + step  # stays within year 9999?
            except OverflowError:
                raise ValueError(f"{seconds} seconds is past the end of the calendar (year 9999)") from None
            if self._frozen_at is not None:
                self._frozen_at = moved
            else:
                self._offset += step
        return self.now()

    def set(self, moment: datetime | str | float) -> None:
        """Jump to `moment`: a datetime (naive is taken as UTC), an ISO 8601 string
        (``"2025-10-01T12:00:00Z"``) or seconds since the epoch. TypeError for anything
        else, ValueError for a string that is not a date-time."""
        moment = to_datetime(moment)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = moment.astimezone(UTC)
            else:
                self._offset = moment - datetime.now(UTC)

    def reset(self) -> None:
        """Back to real time, unfrozen, no offset."""
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None


def to_datetime(moment: datetime | str | float) -> datetime:
    """An aware UTC datetime from a datetime, an ISO 8601 string or epoch seconds."""
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {moment!r}") from None
        return to_datetime(parsed)
    if isinstance(moment, (int, float)) and not isinstance(moment, bool):
        try:
            return datetime.fromtimestamp(moment, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch seconds out of range: {moment!r}") from None
    raise TypeError(f"a clock is set to a datetime, an ISO 8601 string or epoch seconds, not {type(moment).__name__}")


def isoformat(moment: datetime) -> str:
    """``2025-10-01T12:34:56Z``: the form the documents use, an RFC 3339 date-time for every
    year (four digits: year 1 is ``0001``, where strftime's ``%Y`` gives ``1``)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # datetime.isoformat (C) writes the year in four digits and starts `YYYY-MM-DDTHH:MM:SS`
    # (fractions and the offset follow): what strftime("%Y-%m-%dT%H:%M:%SZ") gives from year
    # 1000 on, at a sixth of its cost (every create stamps its item).
    return moment.isoformat()[:19] + "Z"
