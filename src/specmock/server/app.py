"""MockApp: the loaded specs, their state and the ASGI app that serves them.

One object is the mock, however it is used: served by uvicorn (`specmock
serve`), driven in-process by httpx, or controlled from a test. It is itself
an ASGI app. Every control the admin API offers is a method here first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ..clock import MockClock
from ..errors import LoadError
from ..runtime.engine import DEFAULT_MAX_ITEMS, Engine
from ..runtime.journal import DEFAULT_BODY_LIMIT, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal
from ..runtime.store import Store
from ..scenario.loader import Scenario
from ..scenario.registry import ScenarioRegistry, ScenarioSource
from ..spec import loader
from ..spec.bundled import bundled_specs
from ..spec.catalog import Catalog
from ..spec.compiler import scope_depth as _scope_depth
from ..spec.lifecycle import InvalidOverride, Lifecycle
from ..spec.model import Collection, Family, Operation
from .admin import PREFIX as ADMIN_PREFIX
from .admin import SharedStatus, admin_routes
from .admin_guard import AdminSettings
from .dashboard import dashboard_routes
from .dispatch import DEFAULT_MAX_BODY, Dispatcher
from .router import Router
from .slash_redirect import RelativeSlashRedirect

if TYPE_CHECKING:
    from ..runtime.persistence import StatePersister


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
    return [spec.family for spec in loader.load_specs(files, overlays, strict=strict, ref_root=ref_root)]


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
    ) -> None:
        """`seed`: an explicit seed, which wins over a scenario's; None: the scenario's seed, else 0.
        `cors_origins`: origins browsers may call from ("*" for any, with credentials; None: no CORS).
        `admin`: who may use /__specmock (default: open, as in-process nobody else can reach it).
        `access_log`: log one JSON line per request to the `specmock.access` logger.
        `overlays`: Overlay 1.0 (or plain x-specmock) files applied to the specs.
        `strict`: refuse a spec for what a lenient load only warns about (docs/loading.md).
        `ref_root`: where a spec's external `$ref`s may read (default: its folder tree)."""
        self.families = (
            families if families is not None else load_specs(specs, overlays, strict=strict, ref_root=ref_root)
        )
        try:
            self.router = Router(self.families)
        except ValueError as exc:
            raise LoadError(self.families[0].source, None, str(exc)) from None
        self.catalog = Catalog(self.families)
        self.clock = clock or MockClock()
        self.store = Store()
        #: The seed someone chose (flag, environment, marker, admin reset): it wins over a scenario's.
        self.explicit_seed = seed
        self.engine = Engine(self.families, self.store, self.clock, seed or 0)
        self.journal = Journal(journal_size, journal_body_limit, journal_bytes)
        self.engine.max_items = max_items
        self.chaos_rng = random.Random(f"{self.engine.seed}/chaos")
        self.scenarios = ScenarioRegistry(self.catalog)
        self.admin = admin or AdminSettings()
        #: Set when the state lives in Redis (`specmock serve --state redis://...`).
        self.shared_state: SharedStatus | None = None
        self.dispatcher = Dispatcher(
            self.router,
            self.engine,
            self.scenarios,
            self.journal,
            clock=self.clock,
            chaos_rng=self.chaos_rng,
            max_body=max_body,
            access_log=access_log,
        )
        cors: dict[str, Any] | None = None
        if cors_origins:
            any_origin = "*" in cors_origins
            cors = {
                "allow_origins": [] if any_origin else list(cors_origins),
                "allow_origin_regex": ".*" if any_origin else None,
                "allow_credentials": True,
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
            self.load_scenario(*scenario_list)
        else:
            self.reset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(ADMIN_PREFIX):
            # Only browsers send Origin; everyone else skips the CORS layer.
            cross_origin = any(name == b"origin" for name, _ in scope["headers"])
            await (self._api if cross_origin else self.dispatcher)(scope, receive, send)
        else:
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
    def persister(self) -> StatePersister | None:
        """The state file's writer, when the state is saved (`specmock serve --state-file`)."""
        return self.dispatcher.persister

    @persister.setter
    def persister(self, persister: StatePersister | None) -> None:
        self.dispatcher.persister = persister

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
        scenario = Scenario.combine([self.check_scenario(s) for s in sources]).fresh()
        lifecycles = {}
        for (family, name), override in scenario.lifecycles.items():
            coll = self.collection(family, name)
            try:
                lifecycles[coll.key] = coll.overridden_lifecycle(override)
            except ValueError as exc:
                raise LoadError(scenario.source, None, str(exc)) from None
        # Everything is checked: only now does anything change.
        self.engine.lifecycles = lifecycles
        self.scenarios.active = scenario
        if reset:
            self.reset()
        return scenario

    def clear_scenario(self, reset: bool = True) -> None:
        """Back to the specs alone: no rules, any token, the specs' lifecycles."""
        self.scenarios.active = None
        self.engine.lifecycles = {}
        if reset:
            self.reset()

    def check_scenario(self, source: ScenarioSource) -> Scenario:
        """Check a scenario against the loaded specs without applying it (LoadError, file:line, if broken)."""
        return self.scenarios.resolve(source, seed=self.seed)

    def override_lifecycle(self, family: str, collection: str, override: dict[str, Any] | None) -> None:
        """Lay `override` over the spec's lifecycle of a collection (None restores the spec's).

        Raises ValueError with the reason when the result is not a valid lifecycle.
        """
        coll = self.collection(family, collection)
        if override is None:
            self.engine.lifecycles.pop(coll.key, None)
            return
        try:
            self.engine.lifecycles[coll.key] = coll.overridden_lifecycle(override)
        except InvalidOverride as exc:
            where = " at " + ".".join(map(str, exc.path)) if exc.path else ""
            raise ValueError(f"{family}.{collection} lifecycle{where}: {exc.reason}") from None
