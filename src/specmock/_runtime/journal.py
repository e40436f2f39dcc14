"""The request journal: every exchange, in a bounded ring buffer.

Clients under test are judged by what they sent; the journal is how a test or
a person sees it: operation, status, bodies, timing and which scenario rule
fired. It is bounded so a long-running server's memory stays flat: in entries
(default 10,000), in bytes per body (default 64 KiB: longer bodies keep their head
and a marker) and in bytes in all (default 64 MiB: the oldest entries go first).

An entry holds what the request path had (bytes, numbers, names) and is formatted
only when read (`Entry.request_body`, `response_body`, `time`, `as_dict`): recording
one costs a request a slots object, and its memory is the bytes it keeps.

Subscribers (the dashboard's live feed, its coverage tally) are called with each
new entry, outside the lock, and must not block: a feed that can fall behind
keeps its own bounded queue. `close_feeds` tells them all the server is going.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .._spec.catalog import split_reference

DEFAULT_JOURNAL_SIZE = 10_000
#: Bytes of a request or response body the journal keeps; the rest is cut with a marker.
DEFAULT_BODY_LIMIT = 64 * 1024
#: Bytes of bodies the whole journal keeps; beyond, the oldest entries are dropped.
DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024

#: Called with every new entry, and with None when the feeds close (the server is stopping).
Subscriber = Callable[["Entry | None"], None]


class Outcome(StrEnum):
    """How one request ended, as the journal and the access log report it."""

    OK = "ok"  # the operation ran (its status may still be a 4xx the engine chose, e.g. 404 or 409)
    INVALID = "invalid"  # the request broke the spec: validation, malformed JSON, media type, size
    REFUSED = "refused"  # auth, a token's scope, or another problem the API answers with
    UNMATCHED = "unmatched"  # no operation has this method and path
    FORCED = "forced"  # a scenario rule or `Prefer: code=` chose the response
    DROPPED = "dropped"  # chaos cut the connection (reset or truncate)
    DISCONNECTED = "disconnected"  # the client went away before its body arrived
    ERROR = "error"  # a bug: answered 500 in the family's format and logged
    UPSTREAM = "upstream"  # `specmock proxy`: the provider gave no usable answer (502/504 in the family's format)


class ReceivedBody:
    """A request body as the journal keeps it: the bytes as they arrived, made data only when read.

    `refused`: the request was refused, so bytes that are not JSON are shown as text (what
    the client sent); otherwise they count as no body (a scenario rule read them leniently)."""

    __slots__ = ("raw", "refused")

    def __init__(self, raw: bytes, refused: bool) -> None:
        self.raw = raw
        self.refused = refused

    def data(self) -> Any:
        raw = self.raw
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw.decode("utf-8", "replace") if self.refused else None


class Entry:
    """One request and the mock's answer.

    It holds the pieces the request path had (bytes, numbers, the names it matched) and
    formats them when read: the request body (`ReceivedBody`), the response body and the
    time are parsed or printed only by a reader (the admin API, the dashboard, a test),
    never on the request path. Entries are not changed once added."""

    __slots__ = (
        "_request_body",
        "_time",
        "cost",
        "duration_ms",
        "family",
        "findings",
        "method",
        "operation_id",
        "outcome",
        "path",
        "query",
        "reason",
        "request_bytes",
        "response_bytes",
        "response_raw",
        "rule",
        "seq",
        "status",
        "timestamp",
    )

    def __init__(
        self,
        seq: int,
        timestamp: float,
        method: str,
        path: str,
        query: str,
        family: str,
        operation_id: str | None,
        status: int,
        request_body: Any,
        response_raw: bytes,
        duration_ms: float,
        rule: str | None,
        outcome: Outcome,
        response_bytes: int = -1,
        request_bytes: int = 0,
        reason: dict[str, Any] | None = None,
        findings: tuple[dict[str, Any], ...] = (),
    ) -> None:
        self.seq = seq
        self.timestamp = timestamp  # seconds since the epoch, on the wall clock
        self.method = method
        self.path = path
        self.query = query
        self.family = family
        self.operation_id = operation_id
        self.status = status
        #: JSON-ready data, or a ReceivedBody to parse when read.
        self._request_body = request_body
        self.response_raw = response_raw
        self.duration_ms = duration_ms
        self.rule = rule
        self.outcome = outcome
        #: The whole response body's size; more than len(response_raw) when it was cut.
        self.response_bytes = response_bytes
        #: The request body's size, as far as it is known (its Content-Length).
        self.request_bytes = request_bytes
        #: Why the mock refused the request (`Refusal.as_dict`), None when it did not.
        self.reason = reason
        #: `specmock proxy`: how the exchange differs from the spec (contract.check.Finding.as_dict()).
        self.findings = findings
        self._time: str | None = None
        #: What this entry counts against the journal's byte budget.
        self.cost = len(response_raw) + request_bytes

    def __repr__(self) -> str:
        return f"Entry(seq={self.seq}, {self.method} {self.path} -> {self.status}, {self.outcome})"

    @property
    def time(self) -> str:
        """When the request arrived, as ``2025-10-01T12:34:56.789Z``."""
        stamp = self._time
        if stamp is None:
            moment = datetime.fromtimestamp(self.timestamp, UTC)
            stamp = self._time = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        return stamp

    @property
    def request_body(self) -> Any:
        """The request body as JSON data (or, refused, the text sent), parsed when asked for."""
        body = self._request_body
        return body.data() if isinstance(body, ReceivedBody) else body

    @property
    def response_body(self) -> Any:
        """The response body as JSON data, parsed when asked for (most are never read; the
        journal keeps only the bytes, so its memory stays bounded by their size)."""
        if not self.response_raw:
            return None
        if self.response_bytes > len(self.response_raw):
            head = self.response_raw.decode("utf-8", "replace")
            return f"{head}...[truncated: {self.response_bytes} bytes in all]"
        try:
            return json.loads(self.response_raw)
        except ValueError:
            return self.response_raw.decode("utf-8", "replace")

    def fields(self) -> dict[str, Any]:
        """The constructor's arguments, as JSON-ready data but `response_raw` (how a shared
        journal ships an entry to the other processes: `Entry(**fields)` makes it again)."""
        return {
            "seq": self.seq,
            "timestamp": self.timestamp,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "family": self.family,
            "operation_id": self.operation_id,
            "status": self.status,
            "request_body": self.request_body,
            "response_raw": self.response_raw,
            "duration_ms": self.duration_ms,
            "rule": self.rule,
            "outcome": self.outcome,
            "response_bytes": self.response_bytes,
            "request_bytes": self.request_bytes,
            "reason": self.reason,
            "findings": self.findings,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "family": self.family,
            "operationId": self.operation_id,
            "status": self.status,
            "requestBody": self.request_body,
            "responseBody": self.response_body,
            "durationMs": round(self.duration_ms, 3),
            "rule": self.rule,
            "outcome": self.outcome,
            "reason": self.reason,
            **({"findings": list(self.findings)} if self.findings else {}),
        }


#: The check that raises each kind of problem, as the journal names it.
CHECKS: dict[str, str] = {
    "missing_credentials": "authentication",
    "invalid_credentials": "authentication",
    "forbidden": "authorization",
    "route_not_found": "routing",
    "method_not_allowed": "routing",
    "validation": "request validation",
    "malformed_json": "JSON parsing",
    "unsupported_media_type": "media type",
    "payload_too_large": "body size",
    "not_found": "state: unknown item",
    "conflict": "state: conflict",
    "insufficient_storage": "state: item limit",
    "unavailable": "state: unavailable",
    "internal": "internal error",
    "throttled": "rate limit",
}


def refusal(kind: str, message: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    """A refusal's reason as the journal keeps it: which check refused, why, and the failing fields."""
    return {
        "check": CHECKS.get(kind, kind or "refused"),
        "kind": kind,
        "message": message,
        "fields": [{"field": name, "message": why} for name, why in fields],
    }


class Journal:
    """A thread-safe ring buffer of Entries."""

    def __init__(
        self,
        size: int = DEFAULT_JOURNAL_SIZE,
        body_limit: int = DEFAULT_BODY_LIMIT,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
    ) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)  # next() on a count is atomic: no lock to number an entry
        self._subscribers: list[Subscriber] = []
        self.body_limit = body_limit
        self.max_bytes = max_bytes
        self._bytes = 0

    @property
    def bytes(self) -> int:
        """Bytes of bodies held now (at most `max_bytes`, unless one entry alone is larger)."""
        return self._bytes

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def next_seq(self) -> int:
        return next(self._seq)

    def add(self, entry: Entry) -> None:
        with self._lock:
            entries = self._entries
            if len(entries) == entries.maxlen and entries:
                self._bytes -= entries.popleft().cost
            entries.append(entry)
            self._bytes += entry.cost
            if self._bytes > self.max_bytes:
                while self._bytes > self.max_bytes and len(entries) > 1:
                    self._bytes -= entries.popleft().cost
        for subscriber in self._subscribers:
            subscriber(entry)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every entry added from now on; returns the unsubscribe."""
        with self._lock:
            self._subscribers = [*self._subscribers, subscriber]  # copy on write: add() iterates unlocked

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not subscriber]

        return unsubscribe

    def close_feeds(self) -> None:
        """Tell every subscriber no more entries will come (they end their streams)."""
        for subscriber in self._subscribers:
            subscriber(None)

    def find(self, seq: int) -> Entry | None:
        """The entry numbered `seq`, if the ring still holds it."""
        with self._lock:
            return next((e for e in reversed(self._entries) if e.seq == seq), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def entries(self, operation_id: str | None = None) -> list[Entry]:
        """Entries in order; only those of `operation_id` (plain or `family:Id`) if given."""
        with self._lock:
            items = list(self._entries)
        if operation_id is None:
            return items
        family, plain = split_reference(operation_id)
        return [e for e in items if e.operation_id == plain and (not family or e.family == family)]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
