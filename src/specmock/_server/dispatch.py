"""The request path: one function from an HTTP request to the API's response.

Order matters and is the same for every operation: route match, auth,
validation (path, query, headers, body), the generic handler, response
shaping. Every failure along the way is a Problem, rendered in the family's
own error format; nothing escapes as a bare 500.

It runs on plain ASGI messages (wire.py): no Starlette Request or Response is built
for an API request, and the steps that do not wait are plain calls in one coroutine.
"""

from __future__ import annotations

import asyncio
import logging
import random
from time import perf_counter
from typing import Any
from urllib.parse import quote

from starlette.datastructures import URL
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from .._encoding import encode
from .._errors import FieldError, Problem
from .._runtime.engine import Call, Engine, Result
from .._runtime.journal import Outcome, refusal
from .._runtime.state import State, StateUnavailable
from .._scenario.chaos import IN_PROCESS, Sleep, deliver
from .._scenario.model import AuthPolicy, Scenario
from .._scenario.registry import ScenarioRegistry
from .._scenario.rules import Decision, decide, needs_body
from .._scenario.tokens import check_token
from .._spec.model import Family, Operation
from .._spec.validation import field_error, format_path
from .body import API_MAX_DEPTH, BodyRefused, BodyTooLarge, parse_lenient, parse_strict
from .journaling import record
from .refusals import forced_response, preferred, problem_response, unrouted
from .router import Router
from .wire import Incoming, Reply, empty_reply, json_reply

log = logging.getLogger("specmock")

JSON = "application/json"
DEFAULT_MAX_BODY = 1024 * 1024
#: A request header that picks a bundled scenario for that one request.
SCENARIO_HEADER = "x-specmock-scenario"

_INVALID_KINDS = {"validation", "malformed_json", "unsupported_media_type", "payload_too_large"}


#: No API here nests deeper; deeper bodies are refused before validation recurses into them.
MAX_DEPTH = API_MAX_DEPTH


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


class Dispatcher:
    """The ASGI app behind every API path.

    It is handed the few objects a request touches: the router, the engine (with
    its store), the scenarios, the state (its clock, journal, rule counts, and
    whether a write waits to be durable) and chaos's random source. It owns none of them.
    """

    def __init__(
        self,
        router: Router,
        engine: Engine,
        scenarios: ScenarioRegistry,
        state: State,
        *,
        chaos_rng: random.Random,
        max_body: int = DEFAULT_MAX_BODY,
        access_log: bool = False,
    ) -> None:
        self.router = router
        self.engine = engine
        self.state = state
        self.clock = state.clock
        self.scenarios = scenarios
        self.journal = state.journal
        self.chaos_rng = chaos_rng
        self.max_body = max_body
        self.access_log = access_log
        #: Rule counts shared by several processes (a Redis state), else None.
        self.rule_counter = state.rules

    def _sleep_for(self, scope: Scope) -> Sleep:
        """How chaos waits: on the mock clock in-process when it is frozen (no wall time
        passes, the mock's time moves on), in real time on a socket."""
        clock = self.clock
        if IN_PROCESS not in scope.get("extensions", {}) or not clock.frozen:
            return asyncio.sleep

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        return advance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request: route, checks, engine, response, journal entry; then send the
        response as the chaos that fired says (one coroutine: the request path's steps that
        do not wait are plain calls)."""
        started = perf_counter()
        request = Incoming(scope, receive)
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        method = request.method
        match = self.router.match(method, path)
        family = match.family
        op = match.operation
        decision: Decision | None = None
        received: bytes | None  # the body's bytes for the journal (None: not read)
        refused = False
        outcome = Outcome.OK
        reason: dict[str, Any] | None = None
        try:
            headers = request.headers
            query = request.query_params
            chosen = headers.get(SCENARIO_HEADER)
            scenario = self._picked(chosen) if chosen else self.scenarios.active
            if op is None:
                outcome = Outcome.UNMATCHED
                raise unrouted(family, method, URL(scope=scope).path, match.allowed)
            if scenario is not None and scenario.rules:
                body = None
                if needs_body(scenario, op):
                    body = parse_lenient(await self._raw_body(request, family), MAX_DEPTH)
                decision = decide(
                    scenario,
                    op,
                    match.path_values,
                    query,
                    headers,
                    body,
                    self.chaos_rng,
                    self.rule_counter,
                )
            forced = decision.forced if decision is not None else None
            if forced is None and "prefer" in headers:
                forced = preferred(headers["prefer"], op)
            if forced is not None:
                outcome = Outcome.FORCED
                reply = forced_response(family, op, forced)
            else:
                credential = op.authenticator.authenticate(
                    headers,
                    query,
                    request.cookies,
                    family.errors.message,
                )
                policy = self._auth_policy(scenario, family)
                caller = None
                if policy is not None and credential is not None:
                    check_token(policy, op, credential, self.clock.now())
                    caller = policy.subject(credential.token)
                path_values = self._path_values(op, match.path_values) if op.path_params.params else {}
                body = await self._body(request, op) if op.body_validator is not None else _ABSENT
                call = self._call(request, op, path_values, body, caller)
                result = await self._handle(call) if self.state.durable else self.engine.handle(call)
                reply = self._response(result, method, op.media_type)
            received = request.kept_body
        except Problem as problem:
            if outcome == Outcome.OK:
                outcome = Outcome.INVALID if problem.kind in _INVALID_KINDS else Outcome.REFUSED
            reply = problem_response(family, op, problem)
            reason = refusal(problem.kind, problem.message, [(f.field, f.message) for f in problem.fields])
            refused = True  # the body as the client sent it: its JSON, else its text
            received = request.kept_body
            if received is None and problem.kind != "payload_too_large":
                received = await request.received(self.journal.body_limit)
        except StateUnavailable as exc:  # a shared state that cannot be reached
            outcome = Outcome.REFUSED
            reason = refusal("unavailable", str(exc), [])
            headers = {"Retry-After": str(exc.retry_after)}
            unavailable = Problem(503, family.errors.message("unavailable"), kind="unavailable", headers=headers)
            reply = problem_response(family, op, unavailable)
            received = request.kept_body
        except ClientDisconnect:
            outcome = Outcome.DISCONNECTED
            reply = empty_reply(499)
            received = None
        except Exception:
            log.exception("internal error answering %s %s", method, path)
            outcome = Outcome.ERROR
            reason = refusal("internal", "an error in the mock (logged)", [])
            reply = problem_response(family, op, Problem(500, family.errors.message("internal"), kind="internal"))
            received = request.kept_body
        if decision is not None and (decision.reset or decision.truncate):
            outcome = Outcome.DROPPED
        seconds = perf_counter() - started
        record(
            self.journal,
            request,
            family,
            op,
            reply,
            received,
            refused,
            seconds,
            decision,
            outcome,
            reason,
            self.access_log,
        )
        if decision is not None and decision.reshapes_delivery:
            await deliver(reply, decision, scope, receive, send, self._sleep_for(scope))
            return
        await send({"type": "http.response.start", "status": reply.status_code, "headers": reply.raw_headers})
        await send({"type": "http.response.body", "body": reply.body})

    async def _handle(self, call: Call) -> Result:
        """Run the operation; on a durable state (a file), answer only once its change is kept.

        While the state cannot be kept, operations that write are refused (503 with
        Retry-After) before they change anything; reads keep working. A change the
        state could not keep is taken back before its 503. (A state in memory is not
        durable: the engine is called directly.)
        """
        state = self.state
        try:
            if call.operation.action.writes:
                state.check_writable()
            version = self.engine.store.version
            result = self.engine.handle(call)
            if self.engine.store.version != version:
                await state.settled()
        except StateUnavailable as exc:
            errors = call.operation.family.errors
            headers = {"Retry-After": str(exc.retry_after)}
            raise Problem(503, errors.message("unavailable"), kind="unavailable", headers=headers) from None
        return result

    def _picked(self, chosen: str) -> Scenario:
        """The bundled scenario a request picked with X-Specmock-Scenario (400 if unknown)."""
        try:
            return self.scenarios.bundled(chosen)
        except KeyError as exc:
            # Never fall back to "no scenario": that would switch off the active tokens and chaos.
            raise Problem(400, f"{SCENARIO_HEADER}: {exc.args[0]}", kind="validation") from None

    def _auth_policy(self, chosen: Scenario | None, family: Family) -> AuthPolicy | None:
        """The token policy for `family`: the server's active scenario's, whatever scenario a
        request picked with X-Specmock-Scenario (a header must not switch tokens off); the
        picked scenario's only where the active one has none (it can only add checks)."""
        active = self.scenarios.active
        policy = active.auth.get(family.name) if active is not None else None
        if policy is None and chosen is not None:
            policy = chosen.auth.get(family.name)
        return policy

    # -- steps ------------------------------------------------------------------

    @staticmethod
    def _path_values(op: Operation, raw_path_values: dict[str, str]) -> dict[str, Any]:
        """The path's values, coerced and checked: a bad one answers before anything is read
        (called only for an operation that declares path parameters)."""
        errors = op.family.errors
        path_values = op.path_params.read(raw_path_values, None)
        path_errors = op.path_params.errors(path_values, errors.field_messages)
        if path_errors:
            status = errors.invalid_path_status
            if status == 404:
                raise Problem(404, errors.message("not_found", label=op.collection.label), kind="not_found")
            raise Problem(status, errors.message("validation"), kind="validation", fields=path_errors)
        return path_values

    @staticmethod
    def _call(
        request: Incoming, op: Operation, path_values: dict[str, Any], body: Any, caller: str | None = None
    ) -> Call:
        """The checked call: query and header parameters and the (read) body's schema, every
        failing field in one 400. `body`: the parsed body, or _ABSENT (none, or none expected)."""
        errors = op.family.errors
        query_values = op.query_params.read(
            request.query_params, _multi(request) if op.query_params.has_arrays else None
        )
        field_errors = op.query_params.errors(query_values, errors.field_messages)
        if op.header_params.params:
            header_values = op.header_params.read(request.headers, None)
            field_errors += op.header_params.errors(header_values, errors.field_messages)
        if op.body_validator is not None and body is not _ABSENT:
            found = [field_error(e, errors.field_messages) for e in op.body_validator.iter_errors(body)]
            if found:
                field_errors += sorted(found, key=lambda f: f.field)
        if field_errors:
            unique = list(dict.fromkeys(field_errors))  # one message per field and wording
            raise Problem(400, errors.message("validation"), kind="validation", fields=unique)
        return Call(
            op,
            path_values,
            op.query_params.with_defaults(query_values),
            None if body is _ABSENT else body,
            request,
            caller,
        )

    async def _raw_body(self, request: Incoming, family: Family) -> bytes:
        """The body's bytes through the one reader, up to max_body (413 beyond), read once: a
        scenario rule may have read them already, and a refusal's journal entry shows them."""
        try:
            return await request.body(self.max_body)
        except BodyTooLarge:
            message = family.errors.message("payload_too_large", limit=self.max_body)
            raise Problem(413, message, kind="payload_too_large") from None

    async def _body(self, request: Incoming, op: Operation) -> Any:
        errors = op.family.errors
        raw = request.kept_body
        if raw is None:
            raw = await self._raw_body(request, op.family)
        if not raw.strip():
            if op.body_required:
                raise Problem(
                    400,
                    errors.message("validation"),
                    kind="validation",
                    fields=[FieldError("body", errors.field_messages.get("required", "a JSON body is required"))],
                )
            return _ABSENT
        content_type = request.headers.get("content-type")
        if content_type and content_type != JSON and not is_json_media_type(content_type):
            media = content_type.split(";", 1)[0].strip()
            raise Problem(
                415, errors.message("unsupported_media_type", media_type=media), kind="unsupported_media_type"
            )
        try:
            return parse_strict(raw, MAX_DEPTH)
        except BodyRefused as exc:
            if exc.where is None:
                raise Problem(400, errors.message("malformed_json", detail=exc.reason), kind="malformed_json") from None
            fields = [FieldError(format_path(exc.where) or "body", exc.reason)]
            raise Problem(400, errors.message("validation"), kind="validation", fields=fields) from None

    # -- responses ----------------------------------------------------------------

    def _response(self, result: Result, method: str, media_type: str) -> Reply:
        """The answer, in `media_type` (the operation's, compiled: application/json unless its
        success response declares another)."""
        if (result.body is None and result.encoded is None) or result.status == 204:
            return empty_reply(result.status, result.headers)
        content = result.encoded if result.encoded is not None else encode(result.body)
        headers = result.headers if media_type == JSON else {**result.headers, "content-type": media_type}
        reply = json_reply(content, result.status, headers)
        if method == "HEAD":
            reply.body = b""
        return reply


class _Absent:
    pass


_ABSENT: Any = _Absent()


def _multi(request: Incoming) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out
