"""Refusals as responses: the problems the request path raises, in the document's shapes.

The dispatcher raises a Problem wherever a request fails; here it becomes a
response, in the body the operation documents for that status (compiled at
start-up by spec/error_bodies.py), with the media type the document declares.
A forced status (a scenario rule, Prism's `Prefer: code=`) goes the same way, so
a forced 401 looks like a real one.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.responses import Response

from .._encoding import encode
from .._errors import FieldError, Problem
from .._scenario.model import Forced
from .._spec.model import Family, Operation
from .wire import JsonResponse

log = logging.getLogger("specmock")
JSON = "application/json"

#: The kind of problem a forced status stands for: its wording and enum values are that kind's.
KIND_BY_STATUS = {
    400: "validation",
    401: "invalid_credentials",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "throttled",
    500: "internal",
    503: "unavailable",
}


def problem_response(family: Family, op: Operation | None, problem: Problem) -> Response:
    """`problem` in the body the document declares for its status (spec/error_bodies.py)."""
    bodies = (op.error_bodies if op is not None else None) or family.error_bodies
    if bodies is None:
        return JsonResponse(family.errors.render(problem), problem.status, problem.headers)
    try:
        content, media = bodies.render(problem)
    except Exception:  # a refusal is never a 500: the family's own template, which always renders
        log.exception("could not shape the %s of %s in its documented schema", problem.status, family.name)
        return JsonResponse(family.errors.render(problem), problem.status, problem.headers)
    if media is None:
        return Response(status_code=problem.status, headers=problem.headers or None)
    if media == JSON:
        return JsonResponse(content, problem.status, problem.headers)
    return JsonResponse(content, problem.status, {**problem.headers, "content-type": media})


def preferred(prefer: str | None, op: Operation) -> Forced | None:
    """Prism's `Prefer: code=409`: a documented status for this one request.

    The operation's own success status means "answer normally". A code the
    operation does not document, or one that is not a number, is a 400 naming the
    documented codes: a silent 200 would pass a test that meant to see an error.
    Other preferences (`return=minimal`, ...) are ignored, as RFC 7240 allows.
    """
    if not prefer or "code" not in prefer.lower():
        return None
    for part in prefer.split(","):
        name, _, value = part.split(";", 1)[0].strip().partition("=")
        if name.strip().lower() != "code":
            continue
        value = value.strip().strip('"')
        documented = sorted(code for code in op.responses if code.isdigit())
        if not (value.isascii() and value.isdigit() and value in op.responses):
            errors = op.family.errors
            codes = ", ".join(documented)
            reason = f"code={value[:20]} is not a status {op.operation_id} documents (documented: {codes})"
            raise Problem(400, errors.message("validation"), kind="validation", fields=[FieldError("Prefer", reason)])
        status = int(value)
        if status == op.success_status:
            return None
        return Forced(status=status, headers={"Preference-Applied": f"code={status}"})
    return None


def forced_response(family: Family, op: Operation, forced: Forced) -> Response:
    """The response a scenario rule or `Prefer: code=` chose: its body if it gives one, else
    the documented shape for that status, worded as the problem that status stands for."""
    headers = dict(forced.headers)
    if forced.body is not None:
        return JsonResponse(encode(forced.body), forced.status, headers)
    if forced.status < 400:
        content = (op.responses.get(str(forced.status)) or {}).get("content")
        if not content:
            return Response(status_code=forced.status, headers=headers)
    kind = KIND_BY_STATUS.get(forced.status, "internal")
    message = forced.message or family.errors.message(kind, label=op.collection.label, method=op.method)
    if "{" in message:  # the wording needs details a forced response does not have
        message = HTTPStatus(forced.status).phrase + "."
    kind = kind if forced.status in KIND_BY_STATUS else "forced"
    return problem_response(family, op, Problem(forced.status, message, kind=kind, headers=headers))


def unrouted(family: Family, method: str, path: str, allowed: tuple[str, ...]) -> Problem:
    """The problem of a request no operation matches: 405 naming the allowed methods, else 404."""
    if allowed:
        return Problem(
            405,
            family.errors.message("method_not_allowed", method=method),
            kind="method_not_allowed",
            headers={"Allow": ", ".join(allowed)},
        )
    return Problem(
        404,
        family.errors.message("route_not_found", method=method, path=path, label="Resource"),
        kind="route_not_found",
    )


__all__ = ["KIND_BY_STATUS", "forced_response", "preferred", "problem_response", "unrouted"]
