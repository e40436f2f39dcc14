"""The last step of every request: its journal entry and, when asked for, its access log line.

The entry is recorded as the request path had it, bytes and all: the request body's
bytes as received (`ReceivedBody`: JSON data or, refused, its text, made only when
someone reads the entry), the response's bytes, the status, the names matched.
Nothing is decoded, parsed or formatted here.

Bodies over the journal's body limit are not kept: a marker says their size (or,
refused, their head is kept as text). A refused request's body is kept as received
with the reason it was refused, so a person can see what was sent and which check said no.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from .._runtime.journal import Entry, Journal, Outcome, ReceivedBody
from .._scenario.rules import Decision
from .._spec.model import Family, Operation
from .wire import Incoming, Reply

access_log = logging.getLogger("specmock.access")


def _over_limit(size: int | str, limit: int) -> str:
    return f"[request body of {size} bytes: over the journal's body limit of {limit}]"


def _request_body(declared: str | None, received: bytes | None, refused: bool, limit: int) -> tuple[Any, int]:
    """The request body as the entry keeps it (a ReceivedBody, a marker, or None) and the
    bytes it counts against the journal's budget (its Content-Length, at most `limit`)."""
    body: Any = None
    request_bytes = 0
    if declared is not None and declared.isdigit():
        request_bytes = int(declared)
        if request_bytes > limit:
            return _over_limit(declared, limit), limit
    if received is not None:
        if len(received) <= limit:
            body = ReceivedBody(received, refused)
        elif refused:
            body = ReceivedBody(received[:limit], refused)  # its head, as text
        else:
            body = _over_limit(len(received), limit)
        if not request_bytes:  # no Content-Length (chunked): what is kept is what counts
            request_bytes = min(len(received), limit)
    return body, request_bytes


def record(
    journal: Journal,
    request: Incoming,
    family: Family,
    op: Operation | None,
    reply: Reply,
    received: bytes | None,
    refused: bool,
    seconds: float,
    decision: Decision | None,
    outcome: Outcome,
    reason: dict[str, Any] | None,
    log_access: bool,
) -> Entry:
    """Journal one exchange (and log it when `log_access`); the entry added. `received`: the
    request body's bytes as read (None: not read); `refused`: the request was refused."""
    limit = journal.body_limit
    raw = reply.body
    declared = request.headers.get("content-length")
    if received is None and declared is None:  # no body (a GET): nothing to keep or count
        body: Any = None
        request_bytes = 0
    else:
        body, request_bytes = _request_body(declared, received, refused, limit)
    scope = request.scope
    query = scope.get("query_string")
    entry = Entry(
        journal.next_seq(),
        time.time(),
        request.method,
        scope["path"],
        query.decode("latin-1") if query else "",
        family.name,
        op.operation_id if op else None,
        reply.status_code,
        body,
        raw[:limit] if len(raw) > limit else raw,
        seconds * 1000,
        decision.label if decision else None,
        outcome,
        len(raw),
        request_bytes,
        reason,
    )
    journal.add(entry)
    if log_access and access_log.isEnabledFor(logging.INFO):  # no line built for a logger that is off
        line = {
            "method": entry.method,
            "path": entry.path,
            "operationId": entry.operation_id,
            "status": entry.status,
            "ms": round(entry.duration_ms, 3),
            "rule": entry.rule,
            "outcome": entry.outcome,
        }
        access_log.info(json.dumps(line, separators=(",", ":")))
    return entry
