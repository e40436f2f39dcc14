"""The dashboard: a page at `/__specmock/ui` and the admin endpoints only it needed.

The page is static (HTML, CSS and plain ES modules in `dashboard_static/`, shipped
in the wheel; no build step, no CDN) and talks to the admin API like any client.
What it adds here:

- `GET /__specmock/events`: the journal as Server-Sent Events. Each client gets a
  bounded queue; one that falls behind is disconnected rather than buffered for,
  and its EventSource reconnects with Last-Event-ID and catches up from the journal.
- the state per collection, and one item at a time: read, replace (checked against
  the collection's schema), add, delete;
- the bundled scenarios, switching a rule on and off, and contract coverage.

Invariants: every endpoint here is refused exactly as the admin API is (loopback,
or the admin token). The page's static files hold no data and need only the Host
check. The page keeps the token in its tab's sessionStorage (per origin, port
included: no cookie, which every port of the host would receive) and sends it as
`Authorization: Bearer`; `/ui?token=T` hands it over in the address's fragment,
which is never sent to a server. A refused edit changes nothing. The page's
Content-Security-Policy lets it reach its own origin and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from .._encoding import encode
from .._errors import Problem
from .._runtime.coverage import Tally, coverage_report
from .._runtime.journal import Entry
from .._scenario.registry import bundled_scenario_files
from .._spec.lifecycle import META
from .._spec.model import Action, Collection, Family
from .._spec.validation import compile_validator, format_path
from .admin import PREFIX, AdminError, Controls, JSONResponse, guard, parse_json, read_body, settled
from .admin_guard import admin_refusal, host_refusal
from .body import API_MAX_DEPTH

if TYPE_CHECKING:
    from .._runtime.engine import Engine
    from .._scenario.registry import ScenarioRegistry


class DashboardControls(Controls, Protocol):
    """What the dashboard drives beyond the admin API: the engine (to show lifecycles where
    they stand, to add items as fixtures), the collections, and the bundled scenarios."""

    engine: Engine
    scenarios: ScenarioRegistry

    def collection(self, family: str, name: str) -> Collection: ...


STATIC = Path(__file__).with_name("dashboard_static")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
#: The page may load and call its own origin only: no CDN, no beacon, no font service.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Events a client may have queued before it counts as too slow and is disconnected.
FEED_QUEUE = 512
#: Journal entries replayed to a client that connects (or reconnects) at most.
BACKLOG = 500
#: Seconds between keep-alive comments on an idle stream (proxies close silent connections).
KEEPALIVE = 15.0


def summary(entry: Entry) -> dict[str, Any]:
    """What the live traffic list shows of an entry (bodies are fetched when opened)."""
    data: dict[str, Any] = {
        "seq": entry.seq,
        "time": entry.time,
        "timestamp": entry.timestamp,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "family": entry.family,
        "operationId": entry.operation_id,
        "status": entry.status,
        "durationMs": round(entry.duration_ms, 3),
        "rule": entry.rule,
        "outcome": entry.outcome,
    }
    if entry.outcome in ("invalid", "unmatched", "refused", "error"):
        data["problem"] = entry.response_body  # the family's error document: small, and the point of the row
    return data


class Feed:
    """One event-stream client: a bounded queue filled from any thread, drained by its stream."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int = FEED_QUEUE) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def __call__(self, entry: Entry | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the stream is gone anyway
            self.loop.call_soon_threadsafe(self._put, entry)

    def _put(self, entry: Entry | None) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.overflowed = True  # the stream ends; the client reconnects and catches up from the journal
            if entry is None:
                self.queue.get_nowait()
                self.queue.put_nowait(None)


def _sse(entry: Entry) -> bytes:
    return b"id: %d\nevent: request\ndata: %s\n\n" % (entry.seq, encode(summary(entry)))


def _strip_meta(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != META}


def _find_collection(mock: DashboardControls, request: Request) -> tuple[Family, Collection]:
    family_name, name = request.path_params["family"], request.path_params["collection"]
    try:
        coll = mock.collection(family_name, name)
    except KeyError as exc:
        raise NotFound(str(exc.args[0])) from None
    family = next(f for f in mock.families if f.name == family_name)
    return family, coll


class NotFound(Exception):
    """An admin request for something that does not exist: answered 404."""


class Invalid(Exception):
    """An item that breaks its collection's schema: answered 422 with every error."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("the item does not fit the collection's schema")
        self.errors = errors


def _schema_errors(family: Family, coll: Collection, item: Any, partial: bool = False) -> list[dict[str, str]]:
    """Why `item` breaks the collection's schema (`partial`: required fields may be missing,
    as in an item to add, whose id and defaults are filled in)."""
    schema = coll.schema
    if partial:
        schema = {k: v for k, v in schema.items() if k != "required"}
    validator = compile_validator(schema, family.document)
    return [
        {"path": format_path(e.absolute_path) or "<root>", "message": e.message}
        for e in sorted(validator.iter_errors(item), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _example_paths(families: list[Family]) -> dict[tuple[str, str], dict[str, str]]:
    """Per collection, the path of its list and of its create operation (`listPath`, `createPath`):
    what the page's empty views put in a curl line to show what to do next. Computed once."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for family in families:
        for op in family.operations:
            key = {Action.LIST: "listPath", Action.CREATE: "createPath"}.get(op.action)
            if key is not None:
                found.setdefault((family.name, op.collection.name), {}).setdefault(key, op.path)
    return found


def _scope_param(request: Request) -> tuple[Any, ...]:
    """`?scope=a&scope=b`: the parent path values of a nested item."""
    return tuple(request.query_params.getlist("scope"))


def dashboard_routes(mock: DashboardControls) -> list[BaseRoute]:
    """The dashboard page, its files and its endpoints, for `mock`."""
    tally = Tally()
    mock.journal.subscribe(tally)
    examples = _example_paths(mock.families)
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in MEDIA_TYPES} if STATIC.is_dir() else {}

    def static(name: str) -> Response:
        path = files.get(name)
        if path is None:
            return JSONResponse({"error": f"no dashboard file {name!r}"}, status_code=404)
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        return Response(path.read_bytes(), media_type=MEDIA_TYPES[path.suffix], headers=headers)

    async def ui_entry(request: Request) -> Response:
        """`/__specmock/ui[?token=T]`: a valid token moves to the address's fragment, where the page
        takes it into its tab's storage (a fragment is never sent to a server, nor logged)."""
        given = request.query_params.get("token")
        refused = admin_refusal(mock.admin, request, presented=given)  # the Host, then the token
        if refused is not None:
            return refused
        fragment = f"#token={quote(given, safe='')}" if given is not None and mock.admin.token else ""
        return RedirectResponse(f"{PREFIX}/ui/{fragment}", status_code=303)

    async def ui_file(request: Request) -> Response:
        """The page's files: the same for everyone (no data), so behind the Host check only."""
        return host_refusal(mock.admin, request) or static(request.path_params.get("name") or "index.html")

    async def events(request: Request) -> Response:
        last = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
        try:
            after = int(last)
        except ValueError:
            raise AdminError("Last-Event-ID must be a journal sequence number") from None
        feed = Feed(asyncio.get_running_loop())
        unsubscribe = mock.journal.subscribe(feed)
        backlog = [e for e in mock.journal.entries() if e.seq > after][-BACKLOG:]

        async def stream() -> AsyncIterator[bytes]:
            sent = after
            try:
                yield b"retry: 1000\n\n"
                for entry in backlog:
                    sent = entry.seq
                    yield _sse(entry)
                while not feed.overflowed:
                    try:
                        fresh: Entry | None = await asyncio.wait_for(feed.queue.get(), KEEPALIVE)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if fresh is None:  # the server is stopping
                        yield b"event: bye\ndata: {}\n\n"
                        return
                    if fresh.seq > sent:  # the backlog may have held it already
                        sent = fresh.seq
                        yield _sse(fresh)
            finally:
                unsubscribe()

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def journal_entry(request: Request) -> Response:
        entry = mock.journal.find(request.path_params["seq"])
        if entry is None:
            raise NotFound(f"entry {request.path_params['seq']} is not in the journal (any more)")
        return JSONResponse(entry.as_dict())

    async def collections(request: Request) -> Response:
        listed = []
        for family in mock.families:
            for coll in family.collections.values():
                with mock.store.lock:  # a test thread may be writing while the page looks
                    count = sum(len(mock.store.keys(coll.key, s)) for s in mock.store.scopes(coll.key))
                listed.append(
                    {
                        "family": family.name,
                        "name": coll.name,
                        "label": coll.label,
                        "keyField": coll.key_field,
                        "scope": list(coll.scope),
                        "lifecycle": lifecycle.field if (lifecycle := mock.engine.lifecycle_of(coll)) else None,
                        "count": count,
                        **examples.get((family.name, coll.name), {}),
                    }
                )
        return JSONResponse({"collections": listed})

    async def collection_items(request: Request) -> Response:
        _, coll = _find_collection(mock, request)
        with mock.store.lock:
            items = [
                {"scope": list(scope), "key": item[coll.key_field], "item": _strip_meta(item)}
                for scope in mock.store.scopes(coll.key)
                for item in mock.engine.settled_items(coll, scope)
            ]
        return JSONResponse({"family": coll.family, "name": coll.name, "keyField": coll.key_field, "items": items})

    def stored(coll: Collection, request: Request) -> tuple[tuple[Any, ...], Any, dict[str, Any]]:
        scope, wanted = _scope_param(request), request.path_params["key"]
        for item in mock.store.items(coll.key, scope):
            if str(item[coll.key_field]) == wanted:
                return scope, item[coll.key_field], item
        raise NotFound(f"{coll.family}.{coll.name} has no item {wanted!r} in scope {list(scope)}")

    async def replace_item(request: Request) -> Response:
        family, coll = _find_collection(mock, request)
        body = await _json_body(request, mock.admin.max_body)
        with mock.store.lock:
            scope, key, old = stored(coll, request)
            if body.get(coll.key_field, key) != key:
                raise Invalid([{"path": coll.key_field, "message": f"the key cannot change (it is {key!r})"}])
            new = {coll.key_field: key, **body}
            errors = _schema_errors(family, coll, new)
            if errors:
                raise Invalid(errors)
            if META in old:
                new[META] = copy.deepcopy(old[META])  # the lifecycle's clock keeps running
            mock.store.put(coll.key, scope, key, new)
        await settled(mock)
        return JSONResponse({"scope": list(scope), "key": key, "item": _strip_meta(new)})

    async def add_item(request: Request) -> Response:
        family, coll = _find_collection(mock, request)
        body = await _json_body(request, mock.admin.max_body)
        fields = {k: v for k, v in body.items() if k != "_scope"}
        errors = _schema_errors(family, coll, fields, partial=True)
        if errors:
            raise Invalid(errors)
        with mock.store.lock:
            try:
                item = mock.engine.add_fixture(family, coll, body)
            except Problem as exc:  # a duplicate, a dangling reference: as the API would refuse it
                return JSONResponse({"error": f"cannot add this {coll.label}: {exc.message}"}, status_code=exc.status)
            except (ValueError, KeyError, TypeError) as exc:
                raise AdminError(f"cannot add this {coll.label}: {exc}") from None
        await settled(mock)
        scope = [item[f] for f in coll.scope] if coll.scope else body.get("_scope", [])
        created = {"scope": scope, "key": item[coll.key_field], "item": _strip_meta(item)}
        return JSONResponse(created, status_code=201)

    async def delete_item(request: Request) -> Response:
        _, coll = _find_collection(mock, request)
        with mock.store.lock:
            scope, key, _ = stored(coll, request)
            mock.store.remove(coll.key, scope, key)
        await settled(mock)
        return Response(status_code=204)

    async def scenarios(request: Request) -> Response:
        listed = []
        for name in bundled_scenario_files():
            try:
                description = mock.scenarios.bundled(name).description
            except Exception as exc:  # a bundled file that does not fit the loaded specs
                description = f"(not usable with these specs: {str(exc).splitlines()[0]})"
            listed.append({"name": name, "description": description})
        return JSONResponse({"scenarios": listed})

    async def toggle_rule(request: Request) -> Response:
        body = await _json_body(request, mock.admin.max_body)
        if set(body) != {"enabled"} or not isinstance(body["enabled"], bool):
            raise AdminError('send {"enabled": true} or {"enabled": false}')
        rules = mock.scenario.rules if mock.scenario is not None else []
        index = request.path_params["index"]
        if index >= len(rules):
            raise NotFound(f"no rule {index} (the active scenario has {len(rules)})")
        rules[index].enabled = body["enabled"]
        return JSONResponse({"index": index, "name": rules[index].label, "enabled": rules[index].enabled})

    async def coverage(request: Request) -> Response:
        return JSONResponse(coverage_report(mock.families, tally.covered()))

    async def clear_coverage(request: Request) -> Response:
        tally.clear()
        return Response(status_code=204)

    def guarded(handler: Any, token_param: bool = False) -> Any:
        endpoint = guard(mock, handler, token_param=token_param)

        async def answer(request: Request) -> Response:
            try:
                response: Response = await endpoint(request)
            except Invalid as exc:
                return JSONResponse({"error": str(exc), "errors": exc.errors}, status_code=422)
            except NotFound as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
            return response

        return answer

    items = f"{PREFIX}/collections/{{family}}/{{collection}}/items"
    return [
        Route(f"{PREFIX}/ui", ui_entry, methods=["GET"]),
        Route(f"{PREFIX}/ui/", ui_file, methods=["GET"]),
        Route(f"{PREFIX}/ui/{{name}}", ui_file, methods=["GET"]),
        Route(f"{PREFIX}/events", guarded(events, token_param=True), methods=["GET"]),
        Route(f"{PREFIX}/journal/{{seq:int}}", guarded(journal_entry), methods=["GET"]),
        Route(f"{PREFIX}/collections", guarded(collections), methods=["GET"]),
        Route(f"{PREFIX}/collections/{{family}}/{{collection}}", guarded(collection_items), methods=["GET"]),
        Route(items, guarded(add_item), methods=["POST"]),
        Route(f"{items}/{{key}}", guarded(replace_item), methods=["PUT"]),
        Route(f"{items}/{{key}}", guarded(delete_item), methods=["DELETE"]),
        Route(f"{PREFIX}/scenarios", guarded(scenarios), methods=["GET"]),
        Route(f"{PREFIX}/scenario/rules/{{index:int}}", guarded(toggle_rule), methods=["PUT"]),
        Route(f"{PREFIX}/coverage", guarded(coverage), methods=["GET"]),
        Route(f"{PREFIX}/coverage", guarded(clear_coverage), methods=["DELETE"]),
    ]


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    """An item edit's body, through the one reader: the admin size limit, and the API's nesting
    limit (an item nested deeper than the API would accept would be one no API call could write)."""
    raw = await read_body(request, limit)
    data = parse_json(raw, API_MAX_DEPTH) if raw.strip() else None
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data
