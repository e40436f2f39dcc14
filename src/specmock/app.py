"""MockApp: the loaded specs, their state and the ASGI app that serves them.

One object is the mock, however it is used: served by uvicorn (`specmock
serve`), driven in-process by httpx, or controlled from a test. It is itself
an ASGI app. Every control the admin API offers is a method here first.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .admin import PREFIX as ADMIN_PREFIX
from .admin import admin_routes
from .bundled import bundled_dir, bundled_specs
from .clock import MockClock
from .compiler import scope_depth as _scope_depth
from .dispatch import DEFAULT_MAX_BODY, Dispatcher
from .engine import Engine
from .errors import LoadError
from .journal import DEFAULT_JOURNAL_SIZE, Entry, Journal
from .lifecycle import Lifecycle, compile_lifecycle, merge_lifecycle
from .model import Collection, Family, Operation
from .router import Router
from .rules import Decision
from .scenario import Scenario, ScenarioText, load_scenario
from .spec import loader
from .store import Store

if TYPE_CHECKING:
    from .persistence import StatePersister

access_log = logging.getLogger("specmock.access")

ScenarioSource = Path | str | dict[str, Any] | Scenario | ScenarioText


@dataclass
class AdminSettings:
    """Who may use the admin API: everyone who can reach it (`open`), or holders of `token`."""

    open: bool = True
    token: str | None = None


#: Response headers a browser may read cross-origin (retry logic needs Retry-After).
EXPOSED_HEADERS = ["Retry-After", "Location", "Preference-Applied", "WWW-Authenticate", "Allow"]


def load_specs(paths: Iterable[Path | str] | None = None, overlays: Iterable[Path | str] = ()) -> list[Family]:
    """Compile the given spec files (with their overlays), or the bundled ones."""
    files = [Path(p) for p in paths] if paths is not None else bundled_specs()
    return [spec.family for spec in loader.load_specs(files, overlays)]


def bundled_scenario_files() -> dict[str, Path]:
    """The scenarios that ship with specmock, by name."""
    folder = bundled_dir("scenarios")
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


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
        families: list[Family] | None = None,
        cors_origins: Sequence[str] | None = ("*",),
        admin: AdminSettings | None = None,
        access_log: bool = False,
        overlays: Iterable[Path | str] = (),
    ) -> None:
        """`seed`: an explicit seed, which wins over a scenario's; None: the scenario's seed, else 0.
        `cors_origins`: origins browsers may call from ("*" for any, with credentials; None: no CORS).
        `admin`: who may use /__specmock (default: open, as in-process nobody else can reach it).
        `access_log`: log one JSON line per request to the `specmock.access` logger.
        `overlays`: Overlay 1.0 (or plain x-specmock) files applied to the specs."""
        self.families = families if families is not None else load_specs(specs, overlays)
        try:
            self.router = Router(self.families)
        except ValueError as exc:
            raise LoadError(self.families[0].source, None, str(exc)) from None
        self.clock = clock or MockClock()
        self.store = Store()
        #: The seed someone chose (flag, environment, marker, admin reset): it wins over a scenario's.
        self.explicit_seed = seed
        self.engine = Engine(self.families, self.store, self.clock, seed or 0)
        self.journal = Journal(journal_size)
        self.chaos_rng = random.Random(f"{self.engine.seed}/chaos")
        self.scenario: Scenario | None = None
        self._bundled: dict[str, Scenario] = {}
        self.admin = admin or AdminSettings()
        self.access_log = access_log
        self.persister: StatePersister | None = None
        self.dispatcher = Dispatcher(self, self.router, self.engine, max_body=max_body)
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
        self._admin = Starlette(
            routes=admin_routes(self), middleware=[Middleware(CORSMiddleware, **cors)] if cors else []
        )
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
    def operations(self) -> list[Operation]:
        """Every served operation, by family."""
        return self.router.operations

    def collection(self, family: str, name: str) -> Collection:
        """A collection by family and name, or KeyError naming what exists."""
        for fam in self.families:
            if fam.name == family:
                if name not in fam.collections:
                    raise KeyError(f"{family} has no collection {name!r} (has: {', '.join(fam.collections)})")
                return fam.collections[name]
        raise KeyError(f"no family {family!r} (loaded: {', '.join(f.name for f in self.families)})")

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
                family = next(f for f in self.families if f.name == fam_name)
                with self.store.lock:
                    self.engine.add_fixture(family, family.collections[coll_name], item)
            self.scenario = self.scenario.fresh()
        self._bundled = {name: scenario.fresh() for name, scenario in self._bundled.items()}

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
        problems = []
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
        compiled = [self.compile_scenario(s) for s in sources]
        scenario = Scenario.combine(compiled).fresh()
        lifecycles = {}
        for (fam, coll_name), override in scenario.lifecycles.items():
            try:
                lifecycles[(fam, coll_name)] = self._lifecycle_override(fam, coll_name, override)
            except ValueError as exc:
                raise LoadError(scenario.source, None, str(exc)) from None
        # Everything is checked: only now does anything change.
        for fam_obj in self.families:
            for coll in fam_obj.collections.values():
                coll.lifecycle = lifecycles.get((fam_obj.name, coll.name), coll.spec_lifecycle)
        self.scenario = scenario
        if reset:
            self.reset()
        return scenario

    def clear_scenario(self, reset: bool = True) -> None:
        """Back to the specs alone: no rules, any token, the specs' lifecycles."""
        self.scenario = None
        for coll in (c for f in self.families for c in f.collections.values()):
            coll.lifecycle = coll.spec_lifecycle
        if reset:
            self.reset()

    def bundled_scenario(self, name: str) -> Scenario:
        """A bundled scenario by name (for the X-Specmock-Scenario header), compiled once;
        KeyError naming the bundled ones if there is none by that name."""
        if name not in self._bundled:
            files = bundled_scenario_files()
            if name not in files:
                raise KeyError(f"no bundled scenario {name!r} (bundled: {', '.join(files)})")
            self._bundled[name] = load_scenario(files[name], self)
        return self._bundled[name]

    def compile_scenario(self, source: ScenarioSource) -> Scenario:
        """Check a scenario against the loaded specs without applying it."""
        if isinstance(source, Scenario):
            return source
        if isinstance(source, str) and "\n" not in source and not Path(source).exists():
            files = bundled_scenario_files()
            if source in files:
                return load_scenario(files[source], self)
            if "/" not in source and not source.endswith((".yaml", ".yml", ".json")):
                raise LoadError(source, None, f"no such scenario (bundled: {', '.join(files)})")
        return load_scenario(source, self)

    def override_lifecycle(self, family: str, collection: str, override: dict[str, Any] | None) -> None:
        """Lay `override` over the spec's lifecycle of a collection (None restores the spec's).

        Raises ValueError with the reason when the result is not a valid lifecycle.
        """
        coll = self.collection(family, collection)
        coll.lifecycle = self._lifecycle_override(family, collection, override)

    def _lifecycle_override(self, family: str, collection: str, override: dict[str, Any] | None) -> Lifecycle:
        coll = self.collection(family, collection)
        if coll.spec_lifecycle is None:
            raise ValueError(f"{family}.{collection} has no lifecycle to override")
        if override is None:
            return coll.spec_lifecycle
        raw = merge_lifecycle(coll.spec_lifecycle.raw, override)
        enum = (coll.schema.get("properties", {}).get(raw.get("field")) or {}).get("enum")
        lifecycle, errors = compile_lifecycle(raw, enum, allow_unreachable=True)
        if errors:
            path, reason = errors[0]
            where = ".".join(map(str, path))
            raise ValueError(f"{family}.{collection} lifecycle{' at ' + where if where else ''}: {reason}")
        assert lifecycle is not None
        return lifecycle

    # -- journal ----------------------------------------------------------------------

    def record(
        self,
        request: Request,
        family: Family,
        op: Operation | None,
        response: Response,
        body: Any,
        seconds: float,
        decision: Decision | None,
        outcome: str,
    ) -> None:
        """Add one exchange to the journal."""
        if self.access_log:
            access_log.info(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.scope["path"],
                        "operationId": op.operation_id if op else None,
                        "status": response.status_code,
                        "ms": round(seconds * 1000, 3),
                        "rule": decision.label if decision else None,
                        "outcome": outcome,
                    },
                    separators=(",", ":"),
                )
            )
        self.journal.add(
            Entry(
                seq=self.journal.next_seq(),
                timestamp=time.time(),
                method=request.method,
                path=request.scope["path"],
                query=request.scope.get("query_string", b"").decode("latin-1"),
                family=family.name,
                operation_id=op.operation_id if op else None,
                status=response.status_code,
                request_body=body,
                response_raw=bytes(response.body),
                duration_ms=seconds * 1000,
                rule=decision.label if decision else None,
                outcome=outcome,
            )
        )
