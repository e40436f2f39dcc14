"""The request path: one function from an HTTP request to the API's response.

Order matters and is the same for every operation: route match, auth,
validation (path, query, headers, body), the generic handler, response
shaping. Every failure along the way is a Problem, rendered in the family's
own error format; nothing escapes as a bare 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from time import perf_counter
from typing import Any
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
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
from .body import API_MAX_DEPTH, BodyRefused, BodyTooLarge, parse_lenient, parse_strict, read_limited
from .journaling import record
from .refusals import forced_response, preferred, problem_response, unrouted
from .router import Router
from .wire import ApiRequest, JsonResponse

log = logging.getLogger("specmock")

JSON = "application/json"
DEFAULT_MAX_BODY = 1024 * 1024
#: A request header that picks a bundled scenario for that one request.
SCENARIO_HEADER = "x-specmock-scenario"

_INVALID_KINDS = {"validation", "malformed_json", "unsupported_media_type", "payload_too_large"}


#: No API here nests deeper; deeper bodies are refused before validation recurses into them.
MAX_DEPTH = API_MAX_DEPTH


def _as_received(raw: bytes | None) -> Any:
    """A refused body for the journal: its JSON when it parses, else its text; None when empty."""
    if not raw or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = ApiRequest(scope, receive)
        response, decision = await self.respond(request)
        if decision is not None and decision.reshapes_delivery:
            await deliver(response, decision, scope, receive, send, self._sleep_for(scope))
        else:
            await response(scope, receive, send)

    def _sleep_for(self, scope: Scope) -> Sleep:
        """How chaos waits: on the mock clock in-process when it is frozen (no wall time
        passes, the mock's time moves on), in real time on a socket."""
        clock = self.clock
        if IN_PROCESS not in scope.get("extensions", {}) or not clock.frozen:
            return asyncio.sleep

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        return advance

    async def respond(self, request: Request) -> tuple[Response, Decision | None]:
        """The response to `request`, and the chaos to deliver it with."""
        started = perf_counter()
        raw_path = request.scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(request.scope["path"])
        match = self.router.match(request.method, path)
        family = match.family
        op = match.operation
        decision: Decision | None = None
        body: Any = None
        outcome = Outcome.OK
        reason: dict[str, Any] | None = None
        try:
            scenario = self._scenario(request, family)
            if op is None:
                outcome = Outcome.UNMATCHED
                raise unrouted(family, request.method, request.url.path, match.allowed)
            if scenario is not None and scenario.rules:
                if needs_body(scenario, op):
                    body = parse_lenient(await self._raw_body(request, family), MAX_DEPTH)
                decision = decide(
                    scenario,
                    op,
                    match.path_values,
                    request.query_params,
                    request.headers,
                    body,
                    self.chaos_rng,
                    self.rule_counter,
                )
            forced = decision.forced if decision is not None else None
            forced = forced or preferred(request.headers.get("prefer"), op)
            if forced is not None:
                outcome = Outcome.FORCED
                response = forced_response(family, op, forced)
            else:
                credential = op.authenticator.authenticate(
                    request.headers,
                    request.query_params,
                    request.cookies,
                    family.errors.message,
                )
                policy = self._auth_policy(scenario, family)
                caller = None
                if policy is not None and credential is not None:
                    check_token(policy, op, credential, self.clock.now())
                    caller = policy.subject(credential.token)
                call = await self._call(request, op, match.path_values, caller)
                body = call.body
                response = self._response(await self._handle(call), request.method, op.media_type)
        except Problem as problem:
            if outcome == Outcome.OK:
                outcome = Outcome.INVALID if problem.kind in _INVALID_KINDS else Outcome.REFUSED
            response = problem_response(family, op, problem)
            reason = refusal(problem.kind, problem.message, [(f.field, f.message) for f in problem.fields])
            if body is None and problem.kind != "payload_too_large" and isinstance(request, ApiRequest):
                body = _as_received(await request.received(self.journal.body_limit))  # as the client sent it
        except StateUnavailable as exc:  # a shared state that cannot be reached
            outcome = Outcome.REFUSED
            reason = refusal("unavailable", str(exc), [])
            headers = {"Retry-After": str(exc.retry_after)}
            unavailable = Problem(503, family.errors.message("unavailable"), kind="unavailable", headers=headers)
            response = problem_response(family, op, unavailable)
        except ClientDisconnect:
            outcome = Outcome.DISCONNECTED
            response = Response(status_code=499)
        except Exception:
            log.exception("internal error answering %s %s", request.method, path)
            outcome = Outcome.ERROR
            reason = refusal("internal", "an error in the mock (logged)", [])
            response = problem_response(family, op, Problem(500, family.errors.message("internal"), kind="internal"))
        if decision is not None and (decision.reset or decision.truncate):
            outcome = Outcome.DROPPED
        record(
            self.journal,
            request,
            family,
            op,
            response,
            body=body,
            seconds=perf_counter() - started,
            decision=decision,
            outcome=outcome,
            reason=reason,
            log_access=self.access_log,
        )
        return response, decision

    async def _handle(self, call: Call) -> Result:
        """Run the operation; on a durable state (a file), answer only once its change is kept.

        While the state cannot be kept, operations that write are refused (503 with
        Retry-After) before they change anything; reads keep working. A change the
        state could not keep is taken back before its 503.
        """
        state = self.state
        if not state.durable:
            return self.engine.handle(call)
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

    def _scenario(self, request: Request, family: Family) -> Scenario | None:
        chosen = request.headers.get(SCENARIO_HEADER)
        if not chosen:
            return self.scenarios.active
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

    async def _call(
        self, request: Request, op: Operation, raw_path_values: dict[str, str], caller: str | None = None
    ) -> Call:
        errors = op.family.errors
        path_values = op.path_params.read(raw_path_values, None)
        path_errors = op.path_params.errors(path_values, errors.field_messages)
        if path_errors:
            status = errors.invalid_path_status
            if status == 404:
                raise Problem(404, errors.message("not_found", label=op.collection.label), kind="not_found")
            raise Problem(status, errors.message("validation"), kind="validation", fields=path_errors)
        query_values = op.query_params.read(
            request.query_params, _multi(request) if op.query_params.has_arrays else None
        )
        header_values = op.header_params.read(request.headers, None)
        field_errors = op.query_params.errors(query_values, errors.field_messages)
        field_errors += op.header_params.errors(header_values, errors.field_messages)
        body = await self._body(request, op) if op.body_validator is not None else None
        if op.body_validator is not None and body is not _ABSENT:
            field_errors += sorted(
                (field_error(e, errors.field_messages) for e in op.body_validator.iter_errors(body)),
                key=lambda f: f.field,
            )
        if field_errors:
            unique = list(dict.fromkeys(field_errors))  # one message per field and wording
            raise Problem(400, errors.message("validation"), kind="validation", fields=unique)
        return Call(
            operation=op,
            path=path_values,
            query=op.query_params.with_defaults(query_values),
            body=None if body is _ABSENT else body,
            request=request,
            caller=caller,
        )

    async def _raw_body(self, request: Request, family: Family) -> bytes:
        """The body's bytes through the one reader, up to max_body (413 beyond), read once: a
        scenario rule may have read them already, and a refusal's journal entry shows them."""
        kept = request.kept_body if isinstance(request, ApiRequest) else None
        if kept is not None:
            return kept
        try:
            raw = await read_limited(request, self.max_body)
        except BodyTooLarge:
            message = family.errors.message("payload_too_large", limit=self.max_body)
            raise Problem(413, message, kind="payload_too_large") from None
        if isinstance(request, ApiRequest):
            request.keep_body(raw)
        return raw

    async def _body(self, request: Request, op: Operation) -> Any:
        errors = op.family.errors
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
        if content_type and not is_json_media_type(content_type):
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

    def _response(self, result: Result, method: str, media_type: str) -> Response:
        """The answer, in `media_type` (the operation's, compiled: application/json unless its
        success response declares another)."""
        if (result.body is None and result.encoded is None) or result.status == 204:
            return Response(status_code=result.status, headers=result.headers or None)
        content = result.encoded if result.encoded is not None else encode(result.body)
        headers = result.headers if media_type == JSON else {**result.headers, "content-type": media_type}
        response = JsonResponse(content, result.status, headers)
        if method == "HEAD":
            response.body = b""
        return response


class _Absent:
    pass


_ABSENT: Any = _Absent()


def _multi(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out
