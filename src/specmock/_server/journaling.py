"""The last step of every request: its journal entry and, when asked for, its access log line.

Bodies over the journal's body limit keep their head only (and their size). A
refused request's body is kept as received (its JSON, else its text) with the
reason it was refused, so a person can see what was sent and which check said no.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._runtime.journal import Entry, Journal, Outcome
from .._scenario.rules import Decision
from .._spec.model import Family, Operation

access_log = logging.getLogger("specmock.access")


def record(
    journal: Journal,
    request: Request,
    family: Family,
    op: Operation | None,
    response: Response,
    *,
    body: Any,
    seconds: float,
    decision: Decision | None,
    outcome: Outcome,
    reason: dict[str, Any] | None,
    log_access: bool,
) -> Entry:
    """Journal one exchange (and log it when `log_access`); the entry added."""
    limit = journal.body_limit
    raw = response.body
    declared = request.headers.get("content-length", "")
    request_bytes = min(int(declared), limit) if declared.isdigit() else 0
    if declared.isdigit() and int(declared) > limit:
        body = f"[request body of {declared} bytes: over the journal's body limit of {limit}]"
    entry = Entry(
        seq=journal.next_seq(),
        timestamp=time.time(),
        method=request.method,
        path=request.scope["path"],
        query=request.scope.get("query_string", b"").decode("latin-1"),
        family=family.name,
        operation_id=op.operation_id if op else None,
        status=response.status_code,
        request_body=body,
        response_raw=bytes(raw[:limit]) if len(raw) > limit else bytes(raw),
        response_bytes=len(raw),
        request_bytes=request_bytes,
        duration_ms=seconds * 1000,
        rule=decision.label if decision else None,
        outcome=outcome,
        reason=reason,
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
