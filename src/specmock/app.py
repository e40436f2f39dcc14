"""MockApp: the loaded specs, their state and the ASGI app that serves them.

One object is the mock, however it is used: served by uvicorn (`specmock
serve`), driven in-process by httpx, or controlled from a test. It is itself
an ASGI app.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .admin import admin_routes
from .bundled import bundled_specs
from .clock import MockClock
from .compiler import check_unique_families, load_family
from .dispatch import DEFAULT_MAX_BODY, Dispatcher
from .engine import Engine
from .errors import LoadError
from .lifecycle import compile_lifecycle, merge_lifecycle
from .model import Collection, Family, Operation
from .router import Router
from .store import Store


def load_specs(paths: Iterable[Path | str] | None = None) -> list[Family]:
    """Compile the given spec files, or the bundled ones."""
    files = [Path(p) for p in paths] if paths is not None else bundled_specs()
    families = [load_family(p) for p in files]
    check_unique_families(families)
    return families


class MockApp:
    """A stateful mock of every loaded API family, as an ASGI app."""

    def __init__(
        self,
        specs: Iterable[Path | str] | None = None,
        *,
        seed: int = 0,
        clock: MockClock | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        families: list[Family] | None = None,
    ) -> None:
        self.families = families if families is not None else load_specs(specs)
        try:
            self.router = Router(self.families)
        except ValueError as exc:
            raise LoadError(self.families[0].source, None, str(exc)) from None
        self.clock = clock or MockClock()
        self.store = Store()
        self.engine = Engine(self.families, self.store, self.clock, seed)
        self.dispatcher = Dispatcher(self.router, self.engine, max_body=max_body)
        self.engine.reset()
        self._asgi = Starlette(routes=[*admin_routes(self), Route("/{path:path}", self.dispatcher)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    @property
    def seed(self) -> int:
        return self.engine.seed

    @property
    def operations(self) -> list[Operation]:
        """Every served operation, by family."""
        return self.router.operations

    def reset(self, seed: int | None = None) -> None:
        """Back to the fixtures, as on a fresh start (optionally with another seed)."""
        self.engine.reset(seed)

    def collection(self, family: str, name: str) -> Collection:
        """A collection by family and name, or KeyError naming what exists."""
        for fam in self.families:
            if fam.name == family:
                if name not in fam.collections:
                    raise KeyError(f"{family} has no collection {name!r} (has: {', '.join(fam.collections)})")
                return fam.collections[name]
        raise KeyError(f"no family {family!r} (loaded: {', '.join(f.name for f in self.families)})")

    def override_lifecycle(self, family: str, collection: str, override: dict[str, Any] | None) -> None:
        """Lay `override` over the spec's lifecycle of a collection (None restores the spec's).

        Raises ValueError with the reason when the result is not a valid lifecycle.
        """
        coll = self.collection(family, collection)
        if coll.spec_lifecycle is None:
            raise ValueError(f"{family}.{collection} has no lifecycle to override")
        if override is None:
            coll.lifecycle = coll.spec_lifecycle
            return
        raw = merge_lifecycle(coll.spec_lifecycle.raw, override)
        enum = (coll.schema.get("properties", {}).get(raw.get("field")) or {}).get("enum")
        lifecycle, errors = compile_lifecycle(raw, enum, allow_unreachable=True)
        if errors:
            path, reason = errors[0]
            where = ".".join(map(str, path))
            raise ValueError(f"{family}.{collection} lifecycle{' at ' + where if where else ''}: {reason}")
        coll.lifecycle = lifecycle

    def state(self) -> dict[str, Any]:
        """Every collection's items, as JSON-ready data."""
        return self.store.export()
