"""The admin API under `/__specmock/`: control the mock over HTTP.

Routes are thin: each calls the same MockApp method a Python user would, so
the HTTP and Python controls never drift apart.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._clock import isoformat
from .._encoding import encode
from .._errors import LoadError
from .._runtime.state import StateUnavailable, StoreFull
from .._runtime.state.codec import UnstorableValue
from .._runtime.state.protocol import StateParts
from .._runtime.state.snapshot import shape_problem, snapshot
from .._scenario.loader import ScenarioText
from .._scenario.registry import bundled_scenario_files
from .._spec.validation import format_path
from .admin_guard import JSON_TYPES, YAML_TYPES, AdminSettings, admin_refusal
from .body import BodyRefused, BodyTooLarge, parse_strict, read_limited
from .scenario_files import ScenarioFileRefused, read_scenario_file, resolve_use

if TYPE_CHECKING:
    from .._runtime.state import State
    from .._scenario.model import Scenario
    from .._scenario.registry import ScenarioSource
    from .._spec.model import Family, Operation


PREFIX = "/__specmock"
#: Admin JSON (a state import: envelope + item nesting) deeper than this is refused.
ADMIN_MAX_DEPTH = 64


class Controls(StateParts, Protocol):
    """What the admin API drives: the controls a Python user has on `MockApp`, and no more:
    the state's parts (StateParts: store, clock, journal), the scenario and resets.

    The admin API depends on this shape, not on the app, so the app can build it.
    """

    admin: AdminSettings
    families: list[Family]
    backend: State

    @property
    def seed(self) -> int: ...
    @property
    def scenario(self) -> Scenario | None: ...
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


class AdminError(Exception):
    """A bad admin request: answered `status` (400 unless said) with the reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_body(request: Request, limit: int) -> bytes:
    """The request body through the one reader (413 as soon as its bytes pass `limit`)."""
    try:
        return await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise AdminError(f"the admin request body is over the limit of {limit} bytes", status=413) from exc


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def parse_json(raw: bytes | str, max_depth: int = ADMIN_MAX_DEPTH) -> Any:
    """Strict JSON (the one reader's rules), nested at most `max_depth` levels: AdminError otherwise."""
    try:
        return parse_strict(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw, max_depth)
    except BodyRefused as exc:
        where = f" (at {format_path(exc.where) or 'the body'})" if exc.where is not None else ""
        raise AdminError(f"malformed JSON: {exc.reason}{where}") from None


async def json_object(request: Request, limit: int, max_depth: int = ADMIN_MAX_DEPTH) -> dict[str, Any]:
    """The body as a JSON object (empty: {}), read and parsed by the one reader."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    data = parse_json(raw, max_depth)
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data


async def settled(mock: Controls) -> None:
    """On a durable state (a file), wait until what an admin call changed is kept (StateUnavailable,
    and taken back, if it cannot be): an acknowledged reset or import survives a crash like any API write."""
    if mock.backend.durable:
        await mock.backend.settled()


def scenario_sources(raw: str, name: str = "PUT /__specmock/scenario") -> list[Any]:
    """What a PUT /__specmock/scenario body asks for: scenario text (its errors cite `name`), JSON,
    or bundled names."""
    source: Any = ScenarioText(raw, name=name)
    stripped = raw.strip()
    if not stripped:
        raise AdminError('send a scenario (YAML or JSON), or {"name": "<bundled scenario>"}')
    if stripped.startswith("{"):
        data = parse_json(stripped)
        names = data.get("use") if isinstance(data, dict) and set(data) == {"use"} else None
        source = names if names is not None else data
    return source if isinstance(source, list) else [source]


def guard(
    mock: Controls,
    handler: Any,
    open_always: bool = False,
    write_types: frozenset[str] = JSON_TYPES,
    token_param: bool = False,
) -> Any:
    """`handler` as an admin endpoint: behind the one gate (`admin_refusal`), AdminError answered
    in JSON with its status, a state that cannot be written answered 503 with Retry-After, and a
    client gone before its body arrived left quietly (nothing was applied, no one is listening).
    `token_param`: the token may come as `?token=` (an EventSource cannot send a header)."""

    async def endpoint(request: Request) -> Response:
        presented = request.query_params.get("token") if token_param else None
        refused = admin_refusal(mock.admin, request, write_types=write_types, public=open_always, presented=presented)
        if refused is not None:
            return refused
        try:
            response: Response = await handler(request)
        except AdminError as exc:
            return _error(exc.status, str(exc))
        except StateUnavailable as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            return JSONResponse({"error": exc.reason}, status_code=503, headers=retry)
        except ClientDisconnect:
            return Response(status_code=499)  # never sent: the connection is gone
        except StoreFull as exc:
            return _error(507, str(exc))
        except UnstorableValue as exc:
            return _error(400, str(exc))
        return response

    return endpoint


def admin_routes(mock: Controls) -> list[BaseRoute]:
    """The admin endpoints of `mock`, one small table per thing they control."""
    return [
        *_service_routes(mock),
        *_state_routes(mock),
        *_clock_routes(mock),
        *_journal_routes(mock),
        *_scenario_routes(mock),
    ]


def _service_routes(mock: Controls) -> list[BaseRoute]:
    """Health (open to all), the admin API's own document, and the loaded specs."""

    async def health(request: Request) -> Response:
        body: dict[str, Any] = {
            "status": "ok",
            "families": [f.name for f in mock.families],
            "operations": len(mock.operations),
            "seed": mock.seed,
        }
        status = 200
        body["state"] = mock.backend.status()
        if not body["state"]["ok"]:
            # a file that cannot be written, Redis away or emptied: writes are refused or not kept
            body["status"] = "degraded"
            status = 503
        if request.query_params.get("memory") == "true":
            # For soak tests: live objects say whether memory is flat; RSS also moves with
            # allocator fragmentation. Collecting first costs milliseconds: ask only when needed.
            gc.collect()
            # Objects `specmock serve` froze out of the collector's passes count too (server/memory.py).
            objects = len(gc.get_objects()) + gc.get_freeze_count()
            body["memory"] = {"pythonObjects": objects, "rssBytes": _rss_bytes()}
        return JSONResponse(body, status_code=status)

    async def admin_openapi(request: Request) -> Response:
        return Response(ADMIN_SPEC.read_text(encoding="utf-8"), media_type="application/yaml")

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

    return [
        Route(f"{PREFIX}/health", guard(mock, health, open_always=True), methods=["GET"]),
        Route(f"{PREFIX}/openapi.yaml", guard(mock, admin_openapi, open_always=True), methods=["GET"]),
        Route(f"{PREFIX}/specs", guard(mock, list_specs), methods=["GET"]),
        Route(f"{PREFIX}/specs/{{family}}", guard(mock, get_spec), methods=["GET"]),
    ]


def _state_routes(mock: Controls) -> list[BaseRoute]:
    """The items: export, import, and reset to the fixtures."""

    async def get_state(request: Request) -> Response:
        with mock.store.lock:
            return JSONResponse(snapshot(mock.seed, mock.store))

    async def put_state(request: Request) -> Response:
        data = await json_object(request, mock.admin.max_body)
        problem = shape_problem(data)
        if problem:
            raise AdminError(f"not a state export: {problem}")
        problems = mock.state_problems(data["store"])
        if problems:
            raise AdminError("the state does not fit the loaded specs: " + "; ".join(problems))
        mock.store.load(data["store"])
        await settled(mock)
        return JSONResponse({"status": "imported", "collections": len(data["store"]["collections"])})

    async def reset(request: Request) -> Response:
        body = await json_object(request, mock.admin.max_body)
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise AdminError("seed must be an integer")
        mock.reset(seed)
        await settled(mock)
        return JSONResponse({"status": "reset", "seed": mock.seed})

    return [
        Route(f"{PREFIX}/state", guard(mock, get_state), methods=["GET"]),
        Route(f"{PREFIX}/state", guard(mock, put_state), methods=["PUT"]),
        Route(f"{PREFIX}/reset", guard(mock, reset), methods=["POST"]),
    ]


def _clock_routes(mock: Controls) -> list[BaseRoute]:
    """The mock's clock: read, set or freeze, advance."""

    def clock_state() -> dict[str, Any]:
        return {"now": isoformat(mock.clock.now()), "frozen": mock.clock.frozen}

    async def get_clock(request: Request) -> Response:
        return JSONResponse(clock_state())

    async def put_clock(request: Request) -> Response:
        body = await json_object(request, mock.admin.max_body)
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
        body = await json_object(request, mock.admin.max_body)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
            raise AdminError("seconds must be a number >= 0")
        try:
            mock.clock.advance(float(seconds))
        except (ValueError, OverflowError) as exc:
            raise AdminError(f"seconds: {exc}") from None
        return JSONResponse(clock_state())

    return [
        Route(f"{PREFIX}/clock", guard(mock, get_clock), methods=["GET"]),
        Route(f"{PREFIX}/clock", guard(mock, put_clock), methods=["PUT"]),
        Route(f"{PREFIX}/clock/advance", guard(mock, advance_clock), methods=["POST"]),
    ]


def _journal_routes(mock: Controls) -> list[BaseRoute]:
    """The journal of exchanges: read, clear."""

    async def get_journal(request: Request) -> Response:
        operation = request.query_params.get("operationId")
        entries = [e.as_dict() for e in mock.journal.entries(operation)]
        return JSONResponse({"size": mock.journal.size, "count": len(entries), "entries": entries})

    async def clear_journal(request: Request) -> Response:
        mock.journal.clear()
        return Response(status_code=204)

    return [
        Route(f"{PREFIX}/journal", guard(mock, get_journal), methods=["GET"]),
        Route(f"{PREFIX}/journal", guard(mock, clear_journal), methods=["DELETE"]),
    ]


def _scenario_routes(mock: Controls) -> list[BaseRoute]:
    """The active scenario: read, load (text or names), clear."""

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
        raw = (await read_body(request, mock.admin.max_body)).decode("utf-8", "replace")
        reset = request.query_params.get("reset", "true").lower() != "false"
        # `?name=` (the uploaded file's name) is what its errors cite: "broken.yaml:4: ...".
        name = request.query_params.get("name", "").strip()[:200] or "PUT /__specmock/scenario"
        stripped = raw.strip()
        data = parse_json(stripped) if stripped.startswith("{") else None
        names = data["use"] if isinstance(data, dict) and set(data) == {"use"} else None
        sources = (
            await used_scenario_files(names, mock.admin.scenario_dirs)
            if names is not None
            else scenario_sources(raw, name)
        )
        try:
            mock.load_scenario(*sources, reset=reset)
        except (LoadError, ValueError) as exc:
            if names is not None and isinstance(exc, LoadError):
                # A file's problems by place only: its content (values, lines) is never echoed.
                places = "; ".join(f"{p.path}:{p.line}" if p.line else p.path for p in exc.problems)
                raise AdminError(f"scenario refused, the previous one stays: invalid at {places}") from None
            raise AdminError(f"scenario refused, the previous one stays: {exc}") from None
        await settled(mock)
        return JSONResponse(scenario_state())

    async def delete_scenario(request: Request) -> Response:
        mock.clear_scenario(reset=request.query_params.get("reset", "true").lower() != "false")
        await settled(mock)
        return Response(status_code=204)

    return [
        Route(f"{PREFIX}/scenario", guard(mock, get_scenario), methods=["GET"]),
        Route(f"{PREFIX}/scenario", guard(mock, put_scenario, write_types=JSON_TYPES | YAML_TYPES), methods=["PUT"]),
        Route(f"{PREFIX}/scenario", guard(mock, delete_scenario), methods=["DELETE"]),
    ]


async def used_scenario_files(names: Any, scenario_dirs: tuple[Path, ...]) -> list[Any]:
    """`{"use": ...}`: bundled names, or the text of files inside --scenario-dir folders."""
    wanted = names if isinstance(names, list) else [names]
    if not wanted or not all(isinstance(n, str) for n in wanted):
        raise AdminError("use: a scenario name or a list of them")
    bundled = list(bundled_scenario_files())
    sources: list[Any] = []
    try:
        for name in wanted:
            found = resolve_use(name, bundled, scenario_dirs)
            if isinstance(found, Path):
                text = await asyncio.to_thread(read_scenario_file, found)
                sources.append(ScenarioText(text, name=str(found)))
            else:
                sources.append(found)
    except ScenarioFileRefused as exc:
        raise AdminError(f"scenario refused, the previous one stays: {exc}") from None
    return sources
