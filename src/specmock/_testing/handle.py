"""The test-facing handle on an in-process mock: clients, controls, journal assertions.

The pytest plugin hands one of these to each test; it is usable without
pytest too (``Handle(MockApp())``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx

from .._clock import MockClock
from .._runtime.journal import Entry, Outcome
from .._scenario.registry import ScenarioSource
from .._server.app import MockApp
from .transport import AsyncASGITransport, SyncASGITransport

BASE_URL = "http://specmock"
#: Journal outcomes that mean the client sent something the contract does not allow.
UNEXPECTED = {Outcome.UNMATCHED: "no operation matches", Outcome.INVALID: "the request breaks the spec"}


class JournalView:
    """The journal as a test reads it: iterable, sized, and callable to filter by operationId."""

    def __init__(self, app: MockApp) -> None:
        self._app = app

    def __call__(self, operation_id: str | None = None) -> list[Entry]:
        return self._app.journal.entries(operation_id)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self())

    def __len__(self) -> int:
        return len(self._app.journal)

    def __getitem__(self, index: int) -> Entry:
        return self()[index]

    def clear(self) -> None:
        self._app.journal.clear()


def describe(entry: Entry) -> str:
    """One journal entry as a line a person reads in a failure report."""
    target = entry.path + (f"?{entry.query}" if entry.query else "")
    op = entry.operation_id or UNEXPECTED.get(entry.outcome, "?")
    line = f"{entry.method} {target} -> {entry.status} ({entry.family}:{op})"
    if entry.rule:
        line += f" [rule {entry.rule}]"
    body = entry.response_body
    if entry.status >= 400 and isinstance(body, dict):
        line += f": {body}"
    return line


class Handle:
    """An in-process mock with its clients and every control a test needs."""

    def __init__(self, app: MockApp, url: str | None = None) -> None:
        self.app = app
        self.url = url
        self.client = httpx.Client(transport=SyncASGITransport(app), base_url=BASE_URL, trust_env=False)
        self.async_client = httpx.AsyncClient(transport=AsyncASGITransport(app), base_url=BASE_URL, trust_env=False)
        self.journal = JournalView(app)
        self.allow_unmatched = False
        self.allow_invalid = False

    # -- controls ----------------------------------------------------------------------

    @property
    def clock(self) -> MockClock:
        return self.app.clock

    @property
    def state(self) -> dict[str, Any]:
        """Every item the mock holds, as ``state["family.collection"]``, and as ``state["collection"]``
        where only one family has a collection of that name."""
        exported = self.app.state()["collections"]
        out: dict[str, Any] = {}
        names: dict[str, list[str]] = {}
        for fam in self.app.families:
            for coll in fam.collections.values():
                out[coll.key] = [e["item"] for e in exported.get(coll.key, [])]
                names.setdefault(coll.name, []).append(coll.key)
        for name, keys in names.items():
            if len(keys) == 1:
                out[name] = out[keys[0]]
        return out

    def reset(self, seed: int | None = None) -> None:
        """Back to the fixtures; forget the journal."""
        self.app.reset(seed)
        self.app.journal.clear()

    def load_scenario(self, *sources: ScenarioSource, reset: bool = True) -> None:
        self.app.load_scenario(*sources, reset=reset)

    def insert(
        self, family: str, collection: str, items: dict[str, Any] | list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Store items now, as a scenario's fixtures would be; returns them as stored."""
        coll = self.app.collection(family, collection)
        fam = self.app.catalog.family(family)
        stored = []
        with self.app.store.lock:
            for item in items if isinstance(items, list) else [items]:
                stored.append(self.app.engine.add_fixture(fam, coll, item))
        return stored

    def expect_unmatched(self) -> None:
        """This test sends requests no operation matches, on purpose."""
        self.allow_unmatched = True

    def expect_invalid(self) -> None:
        """This test sends requests that break the spec, on purpose."""
        self.allow_invalid = True

    # -- assertions --------------------------------------------------------------------------

    def calls(self, operation_id: str) -> list[Entry]:
        return self.journal(operation_id)

    def assert_called(self, operation_id: str, times: int | None = None) -> None:
        """Fail with the journal shown unless `operation_id` was called (exactly `times` times)."""
        calls = self.calls(operation_id)
        if (times is None and calls) or (times is not None and len(calls) == times):
            return
        wanted = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
        raise AssertionError(
            f"expected {operation_id} to be called {wanted}, it was called {len(calls)} time(s)\n"
            + self._report(calls, operation_id)
        )

    def assert_not_called(self, operation_id: str) -> None:
        calls = self.calls(operation_id)
        if calls:
            raise AssertionError(
                f"expected {operation_id} not to be called, it was called {len(calls)} time(s)\n"
                + self._report(calls, operation_id)
            )

    def unexpected(self) -> list[Entry]:
        """Requests the test did not say it expected: unmatched paths and invalid requests."""
        allowed = {Outcome.UNMATCHED: self.allow_unmatched, Outcome.INVALID: self.allow_invalid}
        return [e for e in self.journal if e.outcome in UNEXPECTED and not allowed[e.outcome]]

    def _report(self, calls: list[Entry], operation_id: str) -> str:
        everything = list(self.journal)
        lines = [f"  {describe(e)}" for e in calls] or ["  (none)"]
        lines.append(f"every request this test made ({len(everything)}):")
        lines += [f"  {describe(e)}" for e in everything[-20:]] or ["  (none)"]
        return "\n".join(lines)

    def close(self) -> None:
        """Close both clients. Inside a running event loop the async one is left to `aclose()`."""
        self.client.close()
        if self.async_client.is_closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.async_client.aclose())

    async def aclose(self) -> None:
        """Close both clients, from async code."""
        self.client.close()
        await self.async_client.aclose()
