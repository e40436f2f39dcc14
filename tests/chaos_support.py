"""What the scenario tests share: a MockApp on the bundled specs compiled once, an in-process client
that checks every response, and for a served mock: load a scenario, read the journal and its
decisions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import requests

from conftest import Served, conformance_hook
from specmock import MockApp, MockClock, load_specs
from specmock._testing.transport import SyncASGITransport

SCAN = {"applicationId": "app-12345", "scanType": "sast", "triggeredBy": "ci-pipeline"}
SDE = "/api/v2/connectors/alm/"
ADMIN = "/__specmock"

_SPECS = load_specs()


def mock(**kwargs: Any) -> MockApp:
    """A fresh MockApp on the bundled specs, compiled once per module (compiled specs are never changed)."""
    return MockApp(families=_SPECS, **kwargs)


def frozen() -> MockClock:
    """A clock that moves only when told: scenario latency moves it instead of sleeping."""
    return MockClock(frozen=True, start=datetime(2025, 11, 1, tzinfo=UTC))


def in_process(app: MockApp, check: bool = True, **kwargs: Any) -> httpx.Client:
    """An in-process client; `check` makes every response be checked against its spec."""
    hooks = {"response": [conformance_hook(app)]} if check else {}
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://mock", event_hooks=hooks, **kwargs)


#: Admin writes carry their media type (the admin API refuses the others: no cross-site form can send it).
YAML = {"Content-Type": "application/yaml"}


def use(server: Served, scenario: str | dict[str, Any]) -> None:
    """Make `scenario` (YAML text or a dict) the server's active scenario, from fresh data and an empty journal."""
    url = f"{server.url}{ADMIN}/scenario"
    if isinstance(scenario, dict):
        loaded = requests.put(url, json=scenario, timeout=10)
    else:
        loaded = requests.put(url, data=scenario.encode(), headers=YAML, timeout=10)
    assert loaded.status_code == 200, loaded.text
    assert requests.delete(f"{server.url}{ADMIN}/journal", timeout=10).status_code == 204


def rule(name: str, operation_id: str, **what: Any) -> dict[str, Any]:
    """A scenario of one named rule for one operation."""
    return {"rules": [{"name": name, "match": {"operationId": operation_id}, **what}]}


def journal(server: Served, operation_id: str | None = None) -> list[dict[str, Any]]:
    params = {"operationId": operation_id} if operation_id else None
    entries: list[dict[str, Any]] = requests.get(f"{server.url}{ADMIN}/journal", params=params, timeout=10).json()[
        "entries"
    ]
    return entries


def decisions(entries: list[dict[str, Any]]) -> list[tuple[int, str | None, str]]:
    return [(e["status"], e["rule"], e["outcome"]) for e in entries]
