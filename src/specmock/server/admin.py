"""The admin API under `/__specmock/`: control the mock over HTTP.

Routes are thin: each calls the same MockApp method a Python user would, so
the HTTP and Python controls never drift apart.
"""

from __future__ import annotations

import gc
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..clock import isoformat
from ..encoding import encode
from ..errors import LoadError
from ..runtime.persistence import StateUnavailable, shape_problem, snapshot
from ..scenario.loader import ScenarioText

if TYPE_CHECKING:
    from ..clock import MockClock
    from ..runtime.journal import Journal
    from ..runtime.persistence import StatePersister
    from ..runtime.store import Store
    from ..scenario.loader import Scenario
    from ..scenario.registry import ScenarioSource
    from ..spec.model import Family, Operation

PREFIX = "/__specmock"


@dataclass
class AdminSettings:
    """Who may use the admin API: everyone who can reach it (`open`), or holders of `token`."""

    open: bool = True
    token: str | None = None


class SharedStatus(Protocol):
    """A state shared by several processes, as health reports it."""

    def status(self) -> dict[str, Any]: ...


class Controls(Protocol):
    """What the admin API drives: the controls a Python user has on `MockApp`, and no more.

    The admin API depends on this shape, not on the app, so the app can build it.
    """

    admin: AdminSettings
    clock: MockClock
    families: list[Family]
    journal: Journal
    store: Store

    @property
    def shared_state(self) -> SharedStatus | None: ...

    @property
    def seed(self) -> int: ...
    @property
    def scenario(self) -> Scenario | None: ...
    @property
    def persister(self) -> StatePersister | None: ...
    @property
    def operations(self) -> list[Operation]: ...
    def reset(self, seed: int | None = None) -> None: ...
    def state_problems(self, store: dict[str, Any]) -> list[str]: ...
    def load_scenario(self, *sources: ScenarioSource, reset: bool = True) -> Scenario: ...
    def clear_scenario(self, reset: bool = True) -> None: ...


class JSONResponse(_StarletteJSONResponse):
    """Admin JSON through specmock's one encoder, which no stored string can make fail."""

    def render(self, content: Any) -> bytes:
        return encode(content)

ADMIN_SPEC = Path(__file__).with_name("admin-openapi.yaml")


def _rss_bytes() -> int | None:
    """This process's resident memory, where /proc tells it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


#: The cookie the dashboard keeps the admin token in (browsers cannot put headers on a page load
#: or an EventSource): set by `/__specmock/ui?token=...`, HttpOnly, SameSite=Strict, path /__specmock.
TOKEN_COOKIE = "specmock_admin_token"


def _same_origin(request: Request) -> bool:
    """Whether a browser sent this from a page of this server (a cookie is honoured only then:
    another origin's page must not ride on it)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def presented_token(request: Request) -> str | None:
    """The admin token this request carries: `Authorization: Bearer`, or the dashboard's cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    cookie = request.cookies.get(TOKEN_COOKIE)
    return cookie if cookie and _same_origin(request) else None


def token_matches(mock: Controls, given: str | None) -> bool:
    token = mock.admin.token
    # Bytes: compare_digest refuses str holding non-ASCII, which a header or a token may.
    return bool(token) and given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), (token or "").encode("utf-8", "surrogateescape")
    )


def refusal(mock: Controls, request: Request) -> Response | None:
    """Why this admin request is refused, if it is.

    With an admin token, every admin call must carry it. Without one, the admin
    API is on only when the server listens on loopback (then only this machine
    can reach it), and off otherwise.
    """
    if mock.admin.token:
        if not token_matches(mock, presented_token(request)):
            return JSONResponse(
                {"error": "the admin API needs Authorization: Bearer <admin token>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="specmock-admin"'},
            )
        return None
    if not mock.admin.open:
        return _error(403, "the admin API is off: the server is not on loopback; start it with --admin-token")
    return None


class AdminError(Exception):
    """A bad admin request: answered 400 with the reason."""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AdminError(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data


async def settled(mock: Controls) -> None:
    """With a state file, wait until what an admin call changed is on disk (StateUnavailable if
    it cannot be): an acknowledged reset or import survives a crash like any API write."""
    if mock.persister is not None:
        await mock.persister.settled(mock.store.version)


def scenario_sources(raw: str, name: str = "PUT /__specmock/scenario") -> list[Any]:
    """What a PUT /__specmock/scenario body asks for: scenario text (its errors cite `name`), JSON,
    or bundled names."""
    source: Any = ScenarioText(raw, name=name)
    stripped = raw.strip()
    if not stripped:
        raise AdminError('send a scenario (YAML or JSON), or {"name": "<bundled scenario>"}')
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise AdminError(f"malformed JSON: {exc}") from None
        names = data.get("use") if isinstance(data, dict) and set(data) == {"use"} else None
        source = names if names is not None else data
    return source if isinstance(source, list) else [source]


def guard(mock: Controls, handler: Any, open_always: bool = False) -> Any:
    """`handler` as an admin endpoint: refused as `refusal` says, AdminError answered 400, a state
    file that cannot be written answered 503."""

    async def endpoint(request: Request) -> Response:
        if not open_always:
            refused = refusal(mock, request)
            if refused is not None:
                return refused
        try:
            response: Response = await handler(request)
        except AdminError as exc:
            return _error(400, str(exc))
        except StateUnavailable as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            return JSONResponse({"error": exc.reason}, status_code=503, headers=retry)
        return response

    return endpoint


def admin_routes(mock: Controls) -> list[BaseRoute]:
    """The admin endpoints of `mock`."""

    def clock_state() -> dict[str, Any]:
        return {"now": isoformat(mock.clock.now()), "frozen": mock.clock.frozen}

    async def health(request: Request) -> Response:
        body: dict[str, Any] = {
            "status": "ok",
            "families": [f.name for f in mock.families],
            "operations": len(mock.operations),
            "seed": mock.seed,
        }
        status = 200
        if mock.persister is not None:
            body["persisted"] = mock.persister.up_to_date
            body["persistence"] = mock.persister.status()
            if mock.persister.error is not None:
                body["status"] = "degraded"  # writes are refused until the state file can be written
                status = 503
        if mock.shared_state is not None:
            body["state"] = mock.shared_state.status()
            if not body["state"]["reachable"]:
                body["status"] = "degraded"  # requests are answered 503 until Redis is back
                status = 503
        if request.query_params.get("memory") == "true":
            # For soak tests: live objects say whether memory is flat; RSS also moves with
            # allocator fragmentation. Collecting first costs milliseconds: ask only when needed.
            gc.collect()
            body["memory"] = {"pythonObjects": len(gc.get_objects()), "rssBytes": _rss_bytes()}
        return JSONResponse(body, status_code=status)

    async def get_state(request: Request) -> Response:
        with mock.store.lock:
            return JSONResponse(snapshot(mock.seed, mock.store))

    async def put_state(request: Request) -> Response:
        data = await _json_object(request)
        problem = shape_problem(data)
        if problem:
            raise AdminError(f"not a state export: {problem}")
        problems = mock.state_problems(data["store"])
        if problems:
            raise AdminError("the state does not fit the loaded specs: " + "; ".join(problems))
        mock.store.load(data["store"])
        await settled(mock)
        return JSONResponse({"status": "imported", "collections": len(data["store"]["collections"])})

    async def list_specs(request: Request) -> Response:
        return JSONResponse(
            {
                "specs": [
                    {
                        "family": f.name,
                        "title": f.title,
                        "prefix": f.prefix or "/",
                        "operations": len(f.operations),
                        "url": f"{PREFIX}/specs/{f.name}",
                    }
                    for f in mock.families
                ]
            }
        )

    async def get_spec(request: Request) -> Response:
        name = request.path_params["family"]
        family = next((f for f in mock.families if f.name == name), None)
        if family is None:
            return _error(404, f"no spec {name!r} (loaded: {', '.join(f.name for f in mock.families)})")
        if request.query_params.get("format") == "yaml" or "yaml" in request.headers.get("accept", ""):
            return Response(family.source.read_text(encoding="utf-8"), media_type="application/yaml")
        return JSONResponse(family.document)

    async def admin_openapi(request: Request) -> Response:
        return Response(ADMIN_SPEC.read_text(encoding="utf-8"), media_type="application/yaml")

    async def reset(request: Request) -> Response:
        body = await _json_object(request)
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise AdminError("seed must be an integer")
        mock.reset(seed)
        await settled(mock)
        return JSONResponse({"status": "reset", "seed": mock.seed})

    async def get_clock(request: Request) -> Response:
        return JSONResponse(clock_state())

    async def put_clock(request: Request) -> Response:
        body = await _json_object(request)
        unknown = set(body) - {"now", "frozen"}
        if unknown:
            raise AdminError(f"unknown field {sorted(unknown)[0]!r} (known: now, frozen)")
        if "frozen" in body and not isinstance(body["frozen"], bool):
            raise AdminError("frozen must be true or false")
        if body.get("frozen") is True:
            mock.clock.freeze()
        if "now" in body:
            if not isinstance(body["now"], str):
                raise AdminError("now must be an ISO 8601 date-time string")
            try:
                mock.clock.set(body["now"])
            except ValueError:
                raise AdminError("now must be an ISO 8601 date-time") from None
        if body.get("frozen") is False:
            mock.clock.unfreeze()
        return JSONResponse(clock_state())

    async def advance_clock(request: Request) -> Response:
        body = await _json_object(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise AdminError("seconds must be a number >= 0")
        mock.clock.advance(float(seconds))
        return JSONResponse(clock_state())

    async def get_journal(request: Request) -> Response:
        operation = request.query_params.get("operationId")
        entries = [e.as_dict() for e in mock.journal.entries(operation)]
        return JSONResponse({"size": mock.journal.size, "count": len(entries), "entries": entries})

    async def clear_journal(request: Request) -> Response:
        mock.journal.clear()
        return Response(status_code=204)

    def scenario_state() -> dict[str, Any]:
        scenario = mock.scenario
        if scenario is None:
            return {"active": None}
        return {
            "active": scenario.name,
            "source": scenario.source,
            "description": scenario.description,
            "rules": [
                {
                    "name": r.label,
                    "matched": r.matched,
                    "fired": r.fired,
                    "enabled": r.enabled,
                    "chaos": r.chaos is not None,
                }
                for r in scenario.rules
            ],
        }

    async def get_scenario(request: Request) -> Response:
        return JSONResponse(scenario_state())

    async def put_scenario(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        reset = request.query_params.get("reset", "true").lower() != "false"
        # `?name=` (the uploaded file's name) is what its errors cite: "broken.yaml:4: ...".
        name = request.query_params.get("name", "").strip()[:200] or "PUT /__specmock/scenario"
        sources = scenario_sources(raw, name)
        try:
            mock.load_scenario(*sources, reset=reset)
        except (LoadError, ValueError) as exc:
            raise AdminError(f"scenario refused, the previous one stays: {exc}") from None
        await settled(mock)
        return JSONResponse(scenario_state())

    async def delete_scenario(request: Request) -> Response:
        mock.clear_scenario(reset=request.query_params.get("reset", "true").lower() != "false")
        await settled(mock)
        return Response(status_code=204)

    def guarded(handler: Any, open_always: bool = False) -> Any:
        return guard(mock, handler, open_always)

    return [
        Route(f"{PREFIX}/health", guarded(health, open_always=True), methods=["GET"]),
        Route(f"{PREFIX}/openapi.yaml", guarded(admin_openapi, open_always=True), methods=["GET"]),
        Route(f"{PREFIX}/state", guarded(get_state), methods=["GET"]),
        Route(f"{PREFIX}/state", guarded(put_state), methods=["PUT"]),
        Route(f"{PREFIX}/specs", guarded(list_specs), methods=["GET"]),
        Route(f"{PREFIX}/specs/{{family}}", guarded(get_spec), methods=["GET"]),
        Route(f"{PREFIX}/reset", guarded(reset), methods=["POST"]),
        Route(f"{PREFIX}/clock", guarded(get_clock), methods=["GET"]),
        Route(f"{PREFIX}/clock", guarded(put_clock), methods=["PUT"]),
        Route(f"{PREFIX}/clock/advance", guarded(advance_clock), methods=["POST"]),
        Route(f"{PREFIX}/journal", guarded(get_journal), methods=["GET"]),
        Route(f"{PREFIX}/journal", guarded(clear_journal), methods=["DELETE"]),
        Route(f"{PREFIX}/scenario", guarded(get_scenario), methods=["GET"]),
        Route(f"{PREFIX}/scenario", guarded(put_scenario), methods=["PUT"]),
        Route(f"{PREFIX}/scenario", guarded(delete_scenario), methods=["DELETE"]),
    ]
