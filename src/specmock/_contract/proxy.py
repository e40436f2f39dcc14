"""`specmock proxy`: forward every API request to the provider, check both ways, answer unchanged.

The mock's own app still serves `/__specmock` (admin API, dashboard, journal); every
other request goes to the provider. Per exchange: the request body is checked against
the operation's request schema, the answer against the declared responses (one
checker, contract.check), the findings go to the drift log and the journal entry,
and what the provider held is offered to the recorder.

Invariants: the client gets the provider's status, headers and body unchanged, except
when the provider gave no usable answer (unreachable, slower than the timeout, larger
than the cap, a body that is not what its content type says): then a 502 or 504 in the
family's error format, and a finding, never a 500 and never a hang. Nothing kept (the
journal, the recording, the reports) holds a header or a write-only field (redact.py).
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

from .._encoding import encode
from .._errors import Problem
from .._runtime.journal import Entry, Outcome
from .._server.admin import PREFIX as ADMIN_PREFIX
from .check import JSON_MEDIA, AnswerChecker, Finding, Kind, media_type
from .drift import DriftLog
from .redact import Redactor
from .upstream import Answer, Upstream, UpstreamFailure

if TYPE_CHECKING:
    from .._server.app import MockApp
    from .._spec.model import Family, Operation
    from .record import Recorder

#: The same logger, and the same line, as the mock's own access log (server.dispatch), plus the findings.
access_log = logging.getLogger("specmock.access")


class ProxyApp:
    """An ASGI app: the mock's admin under /__specmock, the provider for everything else."""

    def __init__(
        self,
        mock: MockApp,
        upstream: Upstream,
        drift: DriftLog,
        recorder: Recorder | None = None,
        max_body: int = 1024 * 1024,
    ) -> None:
        self.mock = mock
        self.upstream = upstream
        self.drift = drift
        self.recorder = recorder
        self.max_body = max_body
        self.checker = AnswerChecker(mock.router)
        self.redactor = Redactor()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.mock(scope, receive, send)
            return
        await self.forward(scope, receive, send)

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        match = self.mock.router.match(method, raw_path)
        family, op = match.family, match.operation
        body = await self._read_body(receive)
        if body is None:
            problem = Problem(413, family.errors.message("payload_too_large", limit=self.max_body))
            await self._send(send, 413, [("content-type", "application/json")], family.errors.render(problem))
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        request_data, findings = self._check_request(op, method, raw_path, headers, body)
        target = raw_path + (f"?{query}" if query else "")
        answer_data: Any = None
        outcome = Outcome.OK
        try:
            answer = await self.upstream.send(method, target, headers, body or None)
        except UpstreamFailure as failure:
            findings.append(self._finding(op, method, raw_path, None, Kind.UPSTREAM, failure.reason))
            answer = self._failure(family, failure.status, failure.reason)
            outcome = Outcome.UPSTREAM
        else:
            found, answer_data = self.checker.check_raw(
                op, method, raw_path, answer.status, answer.header_map(), answer.body
            )
            findings += found
            if any(f.kind is Kind.INVALID_BODY for f in found):
                answer = self._failure(family, 502, "the provider's answer is not what its content type says")
                outcome = Outcome.UPSTREAM
            elif self.recorder is not None and op is not None and 200 <= answer.status < 300:
                self.recorder.observe(op, match.path_values, self.redactor.body(op, answer_data))
        self.drift.add(findings)
        await self._send(send, answer.status, answer.headers, answer.body)
        self._journal(scope, family, op, query, request_data, answer, answer_data, findings, outcome, started)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The request body, or None when it is over the limit."""
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    def _check_request(
        self, op: Operation | None, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[Any, list[Finding]]:
        if op is None or not body:
            return None, []
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        if not JSON_MEDIA.match(media_type(content_type)):
            return None, []
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None, [self._finding(op, method, raw_path, None, Kind.REQUEST, "the request body is not valid JSON")]
        return data, self.checker.check_request(op, data)

    @staticmethod
    def _finding(
        op: Operation | None, method: str, raw_path: str, status: int | None, kind: Kind, detail: str
    ) -> Finding:
        if op is None:
            return Finding(None, method, raw_path, status, kind, "", detail)
        return Finding(op.operation_id, op.method, op.path, status, kind, "", detail)

    @staticmethod
    def _failure(family: Family, status: int, reason: str) -> Answer:
        body = family.errors.render(Problem(status, reason))
        return Answer(status, [("content-type", "application/json")], body)

    @staticmethod
    async def _send(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    def _journal(
        self,
        scope: Scope,
        family: Family,
        op: Operation | None,
        query: str,
        request_data: Any,
        answer: Answer,
        answer_data: Any,
        findings: list[Finding],
        outcome: Outcome,
        started: float,
    ) -> None:
        """The exchange in the journal, as the mock journals its own: no header, no write-only field."""
        journal = self.mock.journal
        duration_ms = (time.perf_counter() - started) * 1000
        if self.mock.dispatcher.access_log and access_log.isEnabledFor(logging.INFO):
            line = {
                "method": scope["method"],
                "path": scope["path"],
                "operationId": op.operation_id if op else None,
                "status": answer.status,
                "ms": round(duration_ms, 3),
                "outcome": outcome,
                "findings": [f"{f.kind} {f.pointer}".strip() for f in findings],
            }
            access_log.info(json.dumps(line, separators=(",", ":")))
        if answer_data is not None and not isinstance(answer_data, bytes):
            raw = encode(self.redactor.body(op, answer_data))
        else:
            raw = answer.body if outcome is Outcome.UPSTREAM else b""
        limit = journal.body_limit
        journal.add(
            Entry(
                seq=journal.next_seq(),
                timestamp=time.time(),
                method=scope["method"],
                path=scope["path"],
                query=self.redactor.query(family, query),
                family=family.name,
                operation_id=op.operation_id if op else None,
                status=answer.status,
                request_body=self.redactor.body(op, request_data),
                response_raw=raw[:limit],
                response_bytes=len(raw),
                duration_ms=duration_ms,
                rule=None,
                outcome=outcome,
                findings=tuple(f.as_dict() for f in findings),
            )
        )
