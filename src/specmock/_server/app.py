"""MockApp: the loaded specs, their state and the ASGI app that serves them.

One object is the mock, however it is used: served by uvicorn (`specmock
serve`), driven in-process by httpx, or controlled from a test. It is itself
an ASGI app. Every control the admin API offers is a method here first.

Its state (memory, a file or Redis: `state=`) is built once and handed to the
engine and the dispatcher; the mock reads the state's parts and never replaces
them. A scenario switch is told to the state, which shares it with the other
processes of a shared state; they follow it through `follow_scenario`.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .._clock import MockClock
from .._encoding import encode
from .._errors import LoadError
from .._runtime.engine import DEFAULT_MAX_ITEMS, Engine
from .._runtime.journal import DEFAULT_BODY_LIMIT, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal
from .._runtime.state import DEFAULT_MAX_STORE_BYTES, JournalLimits, State, open_state
from .._runtime.state.protocol import StoreOps
from .._scenario.loader import ScenarioText
from .._scenario.model import Scenario
from .._scenario.registry import ScenarioRegistry, ScenarioSource
from .._spec import spec_loader
from .._spec.bundled import bundled_specs
from .._spec.catalog import Catalog
from .._spec.compiler import scope_depth as _scope_depth
from .._spec.lifecycle import InvalidOverride, Lifecycle
from .._spec.model import Collection, Family, Operation
from .admin import PREFIX as ADMIN_PREFIX
from .admin import admin_routes
from .admin_guard import AdminSettings
from .dashboard import dashboard_routes
from .dispatch import DEFAULT_MAX_BODY, Dispatcher
from .router import Router
from .slash_redirect import RelativeSlashRedirect

log = logging.getLogger("specmock")

#: Response headers a browser may read cross-origin (retry logic needs Retry-After).
EXPOSED_HEADERS = ["Retry-After", "Location", "Preference-Applied", "WWW-Authenticate", "Allow"]


def load_specs(
    paths: Iterable[Path | str] | None = None,
    overlays: Iterable[Path | str] = (),
    *,
    strict: bool = False,
    ref_root: Path | str | None = None,
) -> list[Family]:
    """Compile the given spec files (with their overlays), or the bundled ones. Lenient unless
    `strict`: what a document gets wrong is a warning (kept in each Family's `warnings`).
    `ref_root`: where external `$ref`s may read (default: each document's folder tree)."""
    files = [Path(p) for p in paths] if paths is not None else bundled_specs()
    return [spec.family for spec in spec_loader.load_specs(files, overlays, strict=strict, ref_root=ref_root)]


class MockApp:
    """A stateful mock of every loaded API family, as an ASGI app."""

    def __init__(
        self,
        specs: Iterable[Path | str] | None = None,
        *,
        seed: int | None = None,
        clock: MockClock | None = None,
        scenarios: Iterable[ScenarioSource] = (),
        max_body: int = DEFAULT_MAX_BODY,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_body_limit: int = DEFAULT_BODY_LIMIT,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        max_items: int | None = DEFAULT_MAX_ITEMS,
        families: list[Family] | None = None,
        cors_origins: Sequence[str] | None = ("*",),
        admin: AdminSettings | None = None,
        access_log: bool = False,
        overlays: Iterable[Path | str] = (),
        strict: bool = False,
        ref_root: Path | str | None = None,
        state: State | Path | str | None = None,
        max_store_bytes: int | None = DEFAULT_MAX_STORE_BYTES,
    ) -> None:
        """`seed`: an explicit seed, which wins over a scenario's; None: the scenario's seed, else 0.
        `cors_origins`: origins browsers may call from ("*" for any, without credentials; named
        origins may send credentials; None: no CORS).
        `admin`: who may use /__specmock (default: open, as in-process nobody else can reach it).
        `access_log`: log one JSON line per request to the `specmock.access` logger.
        `overlays`: Overlay 1.0 (or plain x-specmock) files applied to the specs.
        `strict`: refuse a spec for what a lenient load only warns about (docs/loading.md).
        `ref_root`: where a spec's external `$ref`s may read (default: its folder tree).
        `state`: where the state lives: None (memory), a file path (kept across restarts), a Redis
        URL (shared by every worker and replica), or a State. `max_store_bytes`: the most the
        encoded items may take together (a create beyond is 507; None: no limit)."""
        self.families = (
            families if families is not None else load_specs(specs, overlays, strict=strict, ref_root=ref_root)
        )
        try:
            self.router = Router(self.families)
        except ValueError as exc:
            raise LoadError(self.families[0].source, None, str(exc)) from None
        self.catalog = Catalog(self.families)
        limits = JournalLimits(journal_size, journal_body_limit, journal_bytes)
        #: Where the state lives; its parts (store, clock, journal) are read from it, never replaced.
        self.backend: State = open_state(state, clock=clock, journal=limits, max_store_bytes=max_store_bytes)
        self.backend.connect(lambda: documents_identity(self.families))
        self._refresh = self.backend.refresh
        #: The seed someone chose (flag, environment, marker, admin reset): it wins over a scenario's.
        self.explicit_seed = seed
        rng = self.backend.random(seed or 0)
        self.engine = Engine(self.families, self.store, self.clock, seed or 0, rng=rng, max_items=max_items)
        self.chaos_rng = random.Random(f"{self.engine.seed}/chaos")
        self.scenarios = ScenarioRegistry(self.catalog)
        self.admin = admin or AdminSettings()
        self.dispatcher = Dispatcher(
            self.router,
            self.engine,
            self.scenarios,
            self.backend,
            chaos_rng=self.chaos_rng,
            max_body=max_body,
            access_log=access_log,
        )
        cors: dict[str, Any] | None = None
        if cors_origins:
            # Any origin is `*`, never an echo with credentials: otherwise any page on the web
            # could read what a browser's cookies or TLS credentials fetch from the mock. Named
            # origins (--cors-origin) are echoed and may send credentials.
            any_origin = "*" in cors_origins
            cors = {
                "allow_origins": ["*"] if any_origin else list(cors_origins),
                "allow_credentials": not any_origin,
                "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                "allow_headers": ["*"],
                "expose_headers": EXPOSED_HEADERS,
                "max_age": 600,
            }
        # API paths go straight to the dispatcher (no route table to walk); /__specmock to the admin app.
        self._api: ASGIApp = CORSMiddleware(self.dispatcher, **cors) if cors else self.dispatcher
        admin_cors = None
        if self.admin.cors_origins:
            # The admin API is cross-origin only for origins named for it (--admin-cors-origin).
            admin_cors = {**(cors or {}), "allow_origins": list(self.admin.cors_origins), "allow_origin_regex": None}
            admin_cors.update(allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"], allow_headers=["*"])
            admin_cors.update(allow_credentials=True, expose_headers=EXPOSED_HEADERS, max_age=600)
        starlette = Starlette(routes=[*admin_routes(self), *dashboard_routes(self)])
        starlette.router.redirect_slashes = False  # its redirect builds Location from the Host header
        admin_app: ASGIApp = RelativeSlashRedirect(starlette, starlette.router.routes)
        self._admin = CORSMiddleware(admin_app, **admin_cors) if admin_cors else admin_app
        scenario_list = list(scenarios)
        if scenario_list:
            self._activate(self._compiled(scenario_list))
        try:
            self.backend.initialise(self)  # the fixtures (fresh_start), or what the state kept
        except BaseException:
            self.backend.close()  # its background work (a journal sender) ends with the refused start
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._refresh()  # a shared state: the clock now, another process's scenario switch
            if not scope["path"].startswith(ADMIN_PREFIX):
                # Only browsers send Origin; everyone else skips the CORS layer.
                cross_origin = any(name == b"origin" for name, _ in scope["headers"])
                await (self._api if cross_origin else self.dispatcher)(scope, receive, send)
                return
        await self._admin(scope, receive, send)

    # -- what is served -----------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.engine.seed

    @property
    def scenario(self) -> Scenario | None:
        """The scenario in force, or None (the specs alone)."""
        return self.scenarios.active

    @property
    def store(self) -> StoreOps:
        """The state's items."""
        return self.backend.store

    @property
    def clock(self) -> MockClock:
        """The state's mock clock (shared by every process of a Redis state)."""
        return self.backend.clock

    @property
    def journal(self) -> Journal:
        """The state's journal of requests."""
        return self.backend.journal

    def close(self) -> None:
        """Make every acknowledged change durable and stop the state's background work."""
        self.backend.close()

    @property
    def operations(self) -> list[Operation]:
        """Every served operation, by family."""
        return list(self.catalog.operations)

    def collection(self, family: str, name: str) -> Collection:
        """A collection by family and name, or KeyError naming what exists."""
        return self.catalog.collection(family, name)

    def lifecycle(self, family: str, collection: str) -> Lifecycle | None:
        """The lifecycle in force for a collection: a scenario's override, else the spec's."""
        return self.engine.lifecycle_of(self.collection(family, collection))

    # -- state ------------------------------------------------------------------------

    def seed_rule(self) -> int:
        """The seed a fresh start uses: the explicit one, else the active scenario's, else 0."""
        if self.explicit_seed is not None:
            return self.explicit_seed
        if self.scenario is not None and self.scenario.seed is not None:
            return self.scenario.seed
        return 0

    def fresh_start(self) -> None:
        """Write the fixtures into an empty state (the state asks, when it holds nothing yet)."""
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Back to the fixtures (the specs', then the scenario's), as on a fresh start.

        `seed` is an explicit choice: it stays in force (over any scenario's) until changed.
        """
        if seed is not None:
            self.explicit_seed = seed
        self.engine.reset(self.seed_rule())
        self.chaos_rng.seed(f"{self.engine.seed}/chaos")
        if self.scenario is not None:
            for fam_name, coll_name, item, _ in self.scenario.fixtures:
                family = self.catalog.family(fam_name)
                with self.store.lock:
                    self.engine.add_fixture(family, family.collections[coll_name], item)
        self.scenarios.restart_counters()

    def state(self) -> dict[str, Any]:
        """Every collection's items, as JSON-ready data."""
        return self.store.export()

    def restore_seed(self, seed: int) -> None:
        """Continue a run that used `seed` (a state file's), unless a seed was chosen explicitly:
        generated data and chaos follow it, and the restored state is kept."""
        if self.explicit_seed is None:
            self.engine.reseed(seed)
            self.chaos_rng.seed(f"{seed}/chaos")

    def state_problems(self, store: dict[str, Any]) -> list[str]:
        """Why an exported store (a state file's, an import's) does not fit the loaded specs."""
        collections = {c.key: (f, c) for f in self.families for c in f.collections.values()}
        problems = [
            f"counter {name!r} names no collection" for name in store.get("counters", {}) if name not in collections
        ][:5]
        for name, entries in store.get("collections", {}).items():
            if name not in collections:
                problems.append(f"unknown collection {name!r} (known: {', '.join(sorted(collections))})")
                continue
            family, coll = collections[name]
            depth = _scope_depth(family, coll)
            for entry in entries:
                item, key = entry["item"], entry["key"]
                if len(entry["scope"]) != depth:
                    problems.append(f"{name} item {key!r}: scope {entry['scope']} should have {depth} part(s)")
                elif item.get(coll.key_field) != key:
                    problems.append(f"{name} item {key!r}: its {coll.key_field} is {item.get(coll.key_field)!r}")
                if len(problems) >= 20:
                    return [*problems, "(and maybe more)"]
        return problems

    # -- scenarios --------------------------------------------------------------------

    def load_scenario(self, *sources: ScenarioSource, reset: bool = True) -> Scenario:
        """Make `sources` (files, YAML text, dicts or bundled names; later ones win) the active scenario.

        Everything is checked before anything changes: a broken scenario raises
        LoadError and the previous one stays in force.
        """
        compiled = self._compiled(sources)
        self._activate(compiled)
        if reset:
            self.reset()
        if self.backend.shared:
            change = _portable(sources, reset)
            if change is not None:
                self.backend.share_scenario(change)
        return compiled[0]

    def _compiled(self, sources: Sequence[ScenarioSource]) -> tuple[Scenario, dict[str, Lifecycle]]:
        """The scenario `sources` make, and its lifecycles, checked (LoadError if broken)."""
        scenario = Scenario.combine([self.check_scenario(s) for s in sources]).fresh()
        lifecycles = {}
        for (family, name), override in scenario.lifecycles.items():
            coll = self.collection(family, name)
            try:
                lifecycles[coll.key] = coll.overridden_lifecycle(override)
            except ValueError as exc:
                raise LoadError(scenario.source, None, str(exc)) from None
        return scenario, lifecycles

    def _activate(self, compiled: tuple[Scenario, dict[str, Lifecycle]]) -> None:
        """Make a checked scenario the active one."""
        scenario, lifecycles = compiled
        self.scenarios.active = scenario
        self.engine.use_lifecycles(lifecycles)

    def clear_scenario(self, reset: bool = True) -> None:
        """Back to the specs alone: no rules, any token, the specs' lifecycles."""
        self.scenarios.active = None
        self.engine.use_lifecycles({})
        if reset:
            self.reset()
        if self.backend.shared:
            self.backend.share_scenario(None)

    def follow_scenario(self, change: dict[str, Any] | None) -> None:
        """Another process of a shared state switched the scenario: switch alike, without a
        reset (that process reset the shared state already)."""
        try:
            if change is None:
                self.scenarios.active = None
                self.engine.use_lifecycles({})
            else:
                self._activate(self._compiled([_source_of(s) for s in change["sources"]]))
        except (LoadError, ValueError, KeyError, TypeError) as exc:
            log.error("cannot follow the scenario another process switched to: %s", exc)

    def check_scenario(self, source: ScenarioSource) -> Scenario:
        """Check a scenario against the loaded specs without applying it (LoadError, file:line, if broken)."""
        return self.scenarios.resolve(source, seed=self.seed)

    def override_lifecycle(self, family: str, collection: str, override: dict[str, Any] | None) -> None:
        """Lay `override` over the spec's lifecycle of a collection (None restores the spec's).

        Raises ValueError with the reason when the result is not a valid lifecycle.
        """
        coll = self.collection(family, collection)
        if override is None:
            self.engine.override_lifecycle(coll.key, None)
            return
        try:
            self.engine.override_lifecycle(coll.key, coll.overridden_lifecycle(override))
        except InvalidOverride as exc:
            where = " at " + ".".join(map(str, exc.path)) if exc.path else ""
            raise ValueError(f"{family}.{collection} lifecycle{where}: {exc.reason}") from None


def documents_identity(families: Sequence[Family]) -> str:
    """A hash of the served documents (after overlays): the mocks of the same documents share it."""
    digest = hashlib.sha256()
    for family in families:
        digest.update(encode([family.name, family.document]))
    return digest.hexdigest()


def _portable(sources: Sequence[ScenarioSource], reset: bool) -> dict[str, Any] | None:
    """`sources` as data another process can load again; None for a compiled Scenario (which
    only this process holds: other processes keep theirs, with a warning)."""
    portable: list[dict[str, Any]] = []
    for source in sources:
        if isinstance(source, Scenario):
            log.warning("a compiled Scenario is not shared with the other processes: pass its file or text")
            return None
        if isinstance(source, ScenarioText):
            portable.append({"text": source.text, "name": source.name})
        elif isinstance(source, Path):
            portable.append({"file": str(source)})
        elif isinstance(source, str):
            portable.append({"name": source})
        else:
            portable.append({"data": source})
    return {"sources": portable, "reset": reset}


def _source_of(portable: dict[str, Any]) -> ScenarioSource:
    if "text" in portable:
        return ScenarioText(portable["text"], name=portable["name"])
    if "file" in portable:
        return Path(portable["file"])
    if "name" in portable:
        return str(portable["name"])
    data: dict[str, Any] = portable["data"]
    return data
