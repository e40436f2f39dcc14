"""The dashboard: a page at `/__specmock/ui` and the admin endpoints only it needed.

The page is static (HTML, CSS and plain ES modules in `dashboard_static/`, shipped
in the wheel; no build step, no CDN) and talks to the admin API like any client.
What it adds here:

- `GET /__specmock/events` (dashboard_events.py): the journal as Server-Sent Events. Each client gets a
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

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._errors import Problem
from .._runtime.coverage import Tally, coverage_report
from .._scenario.registry import bundled_scenario_files
from .._spec.lifecycle import META
from .._spec.model import Action, Collection, Family
from .._spec.validation import compile_validator, format_path
from .admin import PREFIX, AdminError, Controls, JSONResponse, guard, parse_json, read_body, settled
from .admin_guard import admin_refusal, host_refusal
from .body import API_MAX_DEPTH
from .dashboard_events import journal_events

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
    """The dashboard page, its files and its endpoints, for `mock`, one small table per view."""
    tally = Tally()
    mock.journal.subscribe(tally)
    return [
        *_page_routes(mock),
        *_journal_routes(mock),
        *_collection_routes(mock, _example_paths(mock.families)),
        *_item_routes(mock),
        *_scenario_routes(mock),
        *_coverage_routes(mock, tally),
    ]


def _page_routes(mock: DashboardControls) -> list[BaseRoute]:
    """The page: its entry (which takes a token into the tab) and its static files."""
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

    return [
        Route(f"{PREFIX}/ui", ui_entry, methods=["GET"]),
        Route(f"{PREFIX}/ui/", ui_file, methods=["GET"]),
        Route(f"{PREFIX}/ui/{{name}}", ui_file, methods=["GET"]),
    ]


def _journal_routes(mock: DashboardControls) -> list[BaseRoute]:
    """The journal, live (Server-Sent Events), and one entry at a time."""

    async def events(request: Request) -> Response:
        return journal_events(mock.journal, request)

    async def journal_entry(request: Request) -> Response:
        entry = mock.journal.find(request.path_params["seq"])
        if entry is None:
            raise NotFound(f"entry {request.path_params['seq']} is not in the journal (any more)")
        return JSONResponse(entry.as_dict())

    return [
        Route(f"{PREFIX}/events", _guarded(mock, events, token_param=True), methods=["GET"]),
        Route(f"{PREFIX}/journal/{{seq:int}}", _guarded(mock, journal_entry), methods=["GET"]),
    ]


def _collection_routes(mock: DashboardControls, examples: dict[tuple[str, str], dict[str, str]]) -> list[BaseRoute]:
    """The collections with their counts, and each one's items where their lifecycles stand."""

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

    return [
        Route(f"{PREFIX}/collections", _guarded(mock, collections), methods=["GET"]),
        Route(f"{PREFIX}/collections/{{family}}/{{collection}}", _guarded(mock, collection_items), methods=["GET"]),
    ]


def _item_routes(mock: DashboardControls) -> list[BaseRoute]:
    """One item: replace (checked against its schema), add (as a fixture), delete."""
    items = f"{PREFIX}/collections/{{family}}/{{collection}}/items"

    async def replace_item(request: Request) -> Response:
        family, coll = _find_collection(mock, request)
        body = await _json_body(request, mock.admin.max_body)
        with mock.store.lock:
            scope, key, old = _stored(mock, coll, request)
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
            scope, key, _ = _stored(mock, coll, request)
            mock.store.remove(coll.key, scope, key)
        await settled(mock)
        return Response(status_code=204)

    return [
        Route(items, _guarded(mock, add_item), methods=["POST"]),
        Route(f"{items}/{{key}}", _guarded(mock, replace_item), methods=["PUT"]),
        Route(f"{items}/{{key}}", _guarded(mock, delete_item), methods=["DELETE"]),
    ]


def _scenario_routes(mock: DashboardControls) -> list[BaseRoute]:
    """The bundled scenarios, and switching a rule of the active one on and off."""

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

    return [
        Route(f"{PREFIX}/scenarios", _guarded(mock, scenarios), methods=["GET"]),
        Route(f"{PREFIX}/scenario/rules/{{index:int}}", _guarded(mock, toggle_rule), methods=["PUT"]),
    ]


def _coverage_routes(mock: DashboardControls, tally: Tally) -> list[BaseRoute]:
    """Contract coverage, counted from the journal since the start or the last clear."""

    async def coverage(request: Request) -> Response:
        return JSONResponse(coverage_report(mock.families, tally.covered()))

    async def clear_coverage(request: Request) -> Response:
        tally.clear()
        return Response(status_code=204)

    return [
        Route(f"{PREFIX}/coverage", _guarded(mock, coverage), methods=["GET"]),
        Route(f"{PREFIX}/coverage", _guarded(mock, clear_coverage), methods=["DELETE"]),
    ]


def _stored(mock: DashboardControls, coll: Collection, request: Request) -> tuple[tuple[Any, ...], Any, dict[str, Any]]:
    """The item of `coll` a request names (`{key}`, `?scope=`), with its scope and key; NotFound if none."""
    scope, wanted = _scope_param(request), request.path_params["key"]
    for item in mock.store.items(coll.key, scope):
        if str(item[coll.key_field]) == wanted:
            return scope, item[coll.key_field], item
    raise NotFound(f"{coll.family}.{coll.name} has no item {wanted!r} in scope {list(scope)}")


def _guarded(mock: DashboardControls, handler: Any, token_param: bool = False) -> Any:
    """`handler` behind the admin gate (`guard`), with the dashboard's own refusals: 422 for an
    item its schema refuses (each error listed), 404 for what is not there."""
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


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    """An item edit's body, through the one reader: the admin size limit, and the API's nesting
    limit (an item nested deeper than the API would accept would be one no API call could write)."""
    raw = await read_body(request, limit)
    data = parse_json(raw, API_MAX_DEPTH) if raw.strip() else None
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data
