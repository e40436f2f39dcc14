"""One contract, three backends: memory, a file and Redis answer every request alike.

Each test drives a MockApp in-process with `state=` set to each backend (Redis is a
real redis-server on a free port, skipped where it is not installed) and checks
what a client sees: list order, id counters, lifecycles, scenario switches,
resets, the item-count and byte budgets. The script test replays one sequence of
requests on every backend and compares every answer with memory's.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from redis_server import RedisServer
from specmock import MockApp
from specmock._runtime.state.file import FileState
from specmock._runtime.state.redis import RedisState
from specmock._testing.transport import SyncASGITransport

BEARER = {"Authorization": "Bearer contract"}
START = "2025-06-01T09:00:00Z"
BACKENDS = ["memory", "file", "redis"]
#: The default scenario's AppSec+ connectors.
FIXTURES = ["conn-001", "conn-002", "conn-003"]
_namespaces = itertools.count()

SCENARIO = """
name: one-more-connector
fixtures:
  appsecplus:
    connectors:
      - {id: conn-100, type: jira, name: From the scenario, config: {project: P}}
"""


class Backends:
    """Builds a mock on each backend, and closes every one it built."""

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.tmp_path = tmp_path
        self.request = request
        self.apps: list[MockApp] = []

    def state(self, kind: str, max_store_bytes: int | None) -> Any:
        if kind == "memory":
            return None
        if kind == "file":
            return self.tmp_path / f"state-{len(self.apps)}.json"
        server: RedisServer = self.request.getfixturevalue("redis_server")
        namespace = f"contract-{os.getpid()}-{next(_namespaces)}"
        return RedisState(server.url, namespace, max_store_bytes=max_store_bytes)

    def mock(self, kind: str, max_store_bytes: int | None = 10**8, **options: Any) -> tuple[MockApp, httpx.Client]:
        """A mock on `kind`, its clock frozen at START and its fixtures made then."""
        options.setdefault("scenarios", ["default"])
        state = self.state(kind, max_store_bytes)
        app = MockApp(seed=7, state=state, max_store_bytes=max_store_bytes, **options)
        self.apps.append(app)
        client = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock", headers=BEARER)
        assert client.put("/__specmock/clock", json={"now": START, "frozen": True}).status_code == 200
        assert client.post("/__specmock/reset", json={}).status_code == 200
        return app, client

    def close(self) -> None:
        for app in self.apps:
            app.close()


@pytest.fixture
def backends(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backends]:
    built = Backends(tmp_path, request)
    try:
        yield built
    finally:
        built.close()


def ids(client: httpx.Client, path: str = "/connectors") -> list[str]:
    listed = client.get(path)
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()]


def connector(name: str, padding: int = 0) -> dict[str, Any]:
    config = {"project": "P", **({"notes": "x" * padding} if padding else {})}
    return {"type": "jira", "name": name, "config": config}


@pytest.mark.parametrize("kind", BACKENDS)
def test_lists_come_in_the_order_items_were_first_stored(backends: Backends, kind: str) -> None:
    _, client = backends.mock(kind)
    fixtures = ids(client)
    assert fixtures == FIXTURES, "the fixtures, in the order the scenario lists them"
    made = [client.post("/connectors", json=connector(f"c{i}")).json()["id"] for i in range(3)]
    assert ids(client) == [*fixtures, *made]
    assert client.put(f"/connectors/{made[0]}", json={"name": "renamed"}).status_code == 200
    assert ids(client) == [*fixtures, *made], "a change keeps the item's place"
    assert client.delete("/connectors/conn-002").status_code == 204
    again = client.post("/connectors", json=connector("again")).json()["id"]
    assert ids(client) == [fixtures[0], *fixtures[2:], *made, again]


@pytest.mark.parametrize("kind", BACKENDS)
def test_id_counters_go_on_after_deletes_and_start_again_on_reset(backends: Backends, kind: str) -> None:
    _, client = backends.mock(kind)
    first = client.post("/connectors", json=connector("a")).json()["id"]
    assert first == "conn-004"
    client.delete(f"/connectors/{first}")
    assert client.post("/connectors", json=connector("b")).json()["id"] == "conn-005", "a deleted id is not reused"
    assert client.post("/__specmock/reset", json={}).status_code == 200
    assert ids(client) == FIXTURES
    assert client.post("/connectors", json=connector("c")).json()["id"] == "conn-004"


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_lifecycle_moves_on_the_mock_clock_alike(backends: Backends, kind: str) -> None:
    _, client = backends.mock(kind)
    scan = client.post("/scans", json={"applicationId": "app-12345", "scanType": "sast"}).json()
    seen = [client.get(f"/scans/{scan['id']}").json()["status"]]
    for _ in range(3):
        client.post("/__specmock/clock/advance", json={"seconds": 2})
        seen.append(client.get(f"/scans/{scan['id']}").json()["status"])
    assert seen[:2] == ["queued", "running"] and seen[-1] in ("completed", "failed"), seen


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_scenario_switch_and_its_clearing_apply_alike(backends: Backends, kind: str) -> None:
    app, client = backends.mock(kind)
    switched = client.put("/__specmock/scenario", content=SCENARIO, headers={"Content-Type": "application/yaml"})
    assert switched.status_code == 200, switched.text
    assert ids(client) == ["conn-100"]
    assert app.scenario is not None and app.scenario.name == "one-more-connector"
    assert client.delete("/__specmock/scenario").status_code == 204
    assert ids(client) == []
    assert app.scenario is None


@pytest.mark.parametrize("kind", BACKENDS)
def test_max_items_is_507_on_every_backend(backends: Backends, kind: str) -> None:
    _, client = backends.mock(kind, max_items=5)
    assert [client.post("/connectors", json=connector(f"c{i}")).status_code for i in range(3)] == [201, 201, 507]
    assert len(ids(client)) == 5


@pytest.mark.parametrize("kind", BACKENDS)
def test_max_store_bytes_is_507_on_every_backend_counted_on_the_encoded_items(backends: Backends, kind: str) -> None:
    app, client = backends.mock(kind, max_store_bytes=40_000)
    stored = client.get("/__specmock/health").json()["state"]
    assert stored["ok"] is True
    statuses = [client.post("/connectors", json=connector(f"big{i}", padding=4000)).status_code for i in range(12)]
    assert 201 in statuses and statuses[-1] == 507, statuses
    assert statuses == sorted(statuses), "once full, every create is refused"
    refused = client.post("/connectors", json=connector("big", padding=4000))
    assert refused.status_code == 507 and "40000 bytes" in refused.text
    assert app.store.stored_bytes() <= 40_000
    assert client.post("/connectors", json=connector("small")).status_code == 201, "what fits still fits"
    assert client.delete(f"/connectors/{ids(client)[-2]}").status_code == 204
    assert client.post("/connectors", json=connector("big again", padding=3000)).status_code == 201, "a delete frees"


def script(client: httpx.Client) -> list[tuple[int, Any]]:
    """One sequence of requests touching every action; every answer, with random ids masked."""
    answers: list[tuple[int, Any]] = []

    def record(response: httpx.Response) -> None:
        body = response.json() if response.content else None
        answers.append((response.status_code, body))

    record(client.get("/connectors"))
    record(client.post("/connectors", json=connector("alpha")))
    record(client.post("/connectors", json=connector("alpha")))  # the name is taken: 409
    record(client.put("/connectors/conn-004", json={"name": "beta"}))
    record(client.get("/connectors/conn-004"))
    record(client.delete("/connectors/conn-003"))
    record(client.get("/connectors/conn-003"))
    record(client.post("/scans", json={"applicationId": "app-12345", "scanType": "sast"}))
    client.post("/__specmock/clock/advance", json={"seconds": 10})
    record(client.get("/scans"))
    record(client.get("/connectors"))
    exported = client.get("/__specmock/state").json()["store"]
    # Versori's ids are random: drawn per process on Redis, where several workers draw at once.
    answers.append((200, {k: v for k, v in exported["collections"].items() if not k.startswith("versori.")}))
    return answers


@pytest.mark.parametrize("kind", BACKENDS)
def test_no_caller_changes_a_stored_item_through_what_it_gave_or_got(backends: Backends, kind: str) -> None:
    """Every backend keeps its own copy: of what `put` was given, and under what a read returns."""
    app, client = backends.mock(kind)
    store, key = app.store, "appsecplus.connectors"
    given = {"id": "conn-900", "type": "jira", "name": "Kept", "status": "active", "config": {"project": "P"}}
    given |= {"createdAt": START, "updatedAt": START}
    with store.lock:
        store.put(key, (), "conn-900", given)
        given["config"]["project"] = "changed after the put"
        got = store.get(key, (), "conn-900")
        assert got is not None and got["config"] == {"project": "P"}
        got["config"]["project"] = "changed through get"
        for item in store.items(key, ()):
            item["name"] = "changed through items"
        assert store.get(key, (), "conn-900") == {**given, "config": {"project": "P"}}
    shown = client.get("/connectors/conn-900").json()
    assert (shown["name"], shown["config"]) == ("Kept", {"project": "P"})
    assert [item["name"] for item in client.get("/connectors").json()][-1] == "Kept"


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_polled_list_changes_as_soon_as_the_store_does(backends: Backends, kind: str) -> None:
    """A list whose answer depends on the items alone is answered from the bytes of the last
    identical list while nothing changed (in memory, one bytes object for every poll and its
    journal entry), and never after any change: through the API, or into the store directly."""
    app, client = backends.mock(kind)
    first, again = client.get("/connectors"), client.get("/connectors")
    assert first.content == again.content
    if kind != "redis":
        polls = app.backend.journal.entries("ListConnectors")[-2:]
        assert polls[0].response_raw is polls[1].response_raw
    assert client.post("/connectors", json=connector("Polled")).status_code == 201
    assert ids(client)[-1] == "conn-004"
    with app.store.lock:
        item = app.store.get("appsecplus.connectors", (), "conn-004")
        assert item is not None
        app.store.put("appsecplus.connectors", (), "conn-004", {**item, "name": "Renamed"})
    assert client.get("/connectors").json()[-1]["name"] == "Renamed"
    assert client.get("/connectors?limit=1").json() == client.get("/connectors").json()  # no paging here
    assert client.delete("/connectors/conn-004").status_code == 204
    assert ids(client) == FIXTURES


def test_every_backend_answers_a_script_of_requests_as_memory_does(backends: Backends) -> None:
    expected = script(backends.mock("memory")[1])
    for kind in ("file", "redis"):
        assert script(backends.mock(kind)[1]) == expected, kind


# -- what only a backend that can lose its data must show ----------------------------------------


def test_a_redis_that_lost_its_data_gets_the_fixtures_back(backends: Backends, redis_server: RedisServer) -> None:
    app, client = backends.mock("redis")
    client.post("/connectors", json=connector("gone with the flush"))
    state = app.backend
    assert isinstance(state, RedisState)
    state.client.flushdb()
    health = client.get("/__specmock/health")
    assert health.status_code == 200 and health.json()["state"]["ok"] is True, health.json()
    assert ids(client) == FIXTURES, "the fixtures are back, not an empty state"
    assert client.post("/connectors", json=connector("after")).json()["id"] == "conn-004"


def test_health_is_degraded_while_a_redis_namespace_holds_no_state(
    backends: Backends, redis_server: RedisServer
) -> None:
    app, client = backends.mock("redis")
    state = app.backend
    assert isinstance(state, RedisState)
    state.client.delete(f"{state.namespace}:ready")
    status = state.status()
    assert status["ok"] is False and "holds no state" in status["error"]
    assert client.get("/__specmock/health").json()["status"] == "ok", "the next request restored it"


def test_a_namespace_of_another_documents_mock_is_refused(redis_server: RedisServer, tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    first = MockApp(state=RedisState(redis_server.url, "shared-by-mistake"))
    try:
        with pytest.raises(RuntimeError, match="holds the state of a mock of other documents"):
            MockApp([spec], state=RedisState(redis_server.url, "shared-by-mistake"))
        assert first.store.size("appsecplus.connectors") >= 0  # the first mock's data is untouched
    finally:
        first.close()


def test_by_default_each_set_of_documents_gets_its_own_namespace(redis_server: RedisServer, tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    bundled = MockApp(state=redis_server.url, scenarios=["default"])
    tiny = MockApp([spec], state=redis_server.url)
    try:
        assert isinstance(bundled.backend, RedisState) and isinstance(tiny.backend, RedisState)
        assert bundled.backend.namespace != tiny.backend.namespace
        assert bundled.backend.namespace is not None and bundled.backend.namespace.startswith("specmock-")
        before = bundled.state()
        tiny.reset()
        assert bundled.state() == before, "a reset touches only its own namespace"
    finally:
        bundled.close()
        tiny.close()


def test_deleted_items_leave_no_redis_keys_behind(redis_server: RedisServer) -> None:
    from specmock._runtime.state.redis_shared import connect
    from specmock._runtime.state.redis_store import RedisStore
    from specmock._runtime.state.store import UniqueIndex

    client = connect(redis_server.url)
    store = RedisStore(client, f"keys-{os.getpid()}")
    store.add_index(UniqueIndex("things", ("name",)))
    with store.lock:
        store.put("things", (), "kept", {"id": "kept", "name": "kept"})
    before = set(client.keys(f"{store.ns}:*"))
    for scope in [(), ("org-1",), ("org-1", "sub")]:
        for key in ("a", "b"):
            with store.lock:
                store.put("things", scope, key, {"id": key, "name": f"{key}{len(scope)}"})
    for scope in [(), ("org-1",), ("org-1", "sub")]:
        with store.lock:
            store.remove("things", scope, "a")
        with store.lock:
            store.remove_scope("things", scope) if scope else store.remove("things", scope, "b")
    counters = {f"{store.ns}:{name}".encode() for name in ("seq", "count", "bytes", "order")}
    assert set(client.keys(f"{store.ns}:*")) - counters == before - counters
    assert [item["id"] for item in store.items("things", ())] == ["kept"]
    assert store.scopes("things") == [()]


TINY = """
openapi: 3.0.3
info: {title: Tiny, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}}}
    post:
      operationId: createThing
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
"""


# -- what reaches the state is encoded where it enters -------------------------------------------

DATE_OBJECT_SCENARIO = """
name: scans-start-with-a-date-object
lifecycles:
  appsecplus:
    scans:
      states:
        running:
          onEnter:
            startedAt: {$faker: PROVIDER}
"""


@pytest.mark.parametrize("provider", ["date_object", "date_time", "time_object", "pydecimal", "binary", "pyset"])
def test_a_scenario_that_could_store_a_value_json_cannot_hold_fails_at_load_with_its_line(
    provider: str, tmp_path: Path
) -> None:
    from specmock._errors import LoadError

    app = MockApp()
    scenario = tmp_path / "dates.yaml"
    scenario.write_text(DATE_OBJECT_SCENARIO.replace("PROVIDER", provider))
    with pytest.raises(LoadError) as refused:
        app.load_scenario(scenario)
    assert f"{scenario}:9: " in str(refused.value) and provider in str(refused.value), str(refused.value)
    assert app.scenario is None, "the previous scenario stays"


@pytest.mark.parametrize("provider", ["date", "iso8601", "user_name", "pyint", "pyfloat"])
def test_providers_that_give_json_values_are_accepted(provider: str) -> None:
    from specmock._scenario.loader import ScenarioText

    app = MockApp()
    app.load_scenario(ScenarioText(DATE_OBJECT_SCENARIO.replace("PROVIDER", provider), name="ok.yaml"))
    assert app.scenario is not None


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("value", [datetime(2025, 1, 1, tzinfo=UTC), {1, 2}, b"bytes", Decimal("1.5"), object()])
def test_a_value_json_cannot_hold_is_refused_where_it_is_written_on_every_backend(
    backends: Backends, kind: str, value: Any
) -> None:
    from specmock._runtime.state.codec import UnstorableValue

    app, client = backends.mock(kind)
    before = app.state()
    with pytest.raises(UnstorableValue), app.store.lock:
        app.store.put("appsecplus.connectors", (), "conn-bad", {"id": "conn-bad", "name": value})
    assert app.state() == before
    assert client.get("/connectors").status_code == 200
    assert client.get("/__specmock/health").json()["status"] == "ok"


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_state_import_with_a_lone_surrogate_is_a_clean_400_on_every_backend(backends: Backends, kind: str) -> None:
    app, client = backends.mock(kind)
    exported = client.get("/__specmock/state").json()
    entry = {"scope": [], "key": "conn-009", "item": {"id": "conn-009", "type": "jira", "name": "lone \ud800"}}
    exported["store"]["collections"]["appsecplus.connectors"].append(entry)
    before = app.state()
    refused = client.put(
        "/__specmock/state",
        content=json.dumps(exported, ensure_ascii=True),
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 400 and "surrogate" in refused.json()["error"]
    assert app.state() == before


def test_the_state_writer_survives_an_error_it_did_not_expect(
    backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    import specmock._runtime.state.persister as persister_module

    _, client = backends.mock("file")
    real = persister_module.snapshot_line
    broken = {"on": True}

    def snapshot_line(seed: int, store: Any) -> bytes:
        if broken["on"]:
            raise RuntimeError("something nobody expected")
        return real(seed, store)

    monkeypatch.setattr(persister_module, "snapshot_line", snapshot_line)
    refused = client.post("/__specmock/reset", json={})  # a reset rewrites the whole file
    assert refused.status_code == 503
    health = client.get("/__specmock/health")
    assert health.status_code == 503 and "nobody expected" in health.json()["state"]["error"]
    assert client.post("/connectors", json=connector("while broken")).status_code == 503
    broken["on"] = False
    deadline = time.monotonic() + 10
    while client.get("/__specmock/health").status_code != 200:
        assert time.monotonic() < deadline, "the writer thread did not come back"
        time.sleep(0.05)
    assert client.post("/connectors", json=connector("after")).status_code == 201
    assert "while broken" not in {c["name"] for c in client.get("/connectors").json()}


def test_a_write_the_disk_is_too_slow_for_is_503_and_not_applied(
    backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    import specmock._runtime.state.persister as persister_module

    app, client = backends.mock("file")
    monkeypatch.setattr(persister_module, "SETTLE_TIMEOUT", 0.3)
    real_fsync = os.fsync
    slow = {"on": True}

    def fsync(fd: int) -> None:
        if slow["on"]:
            slow["on"] = False
            time.sleep(1.0)
        real_fsync(fd)

    monkeypatch.setattr(persister_module.os, "fsync", fsync)
    refused = client.post("/connectors", json=connector("too slow"))
    assert refused.status_code == 503
    assert "too slow" not in {c["name"] for c in client.get("/connectors").json()}, "a 503 means not applied"
    deadline = time.monotonic() + 10
    while client.get("/__specmock/health").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert client.post("/connectors", json=connector("after")).status_code == 201
    state = app.backend
    app.close()
    assert isinstance(state, FileState)
    restored = MockApp(state=state.path)
    try:
        assert {e["item"]["name"] for e in restored.state()["collections"]["appsecplus.connectors"]} >= {"after"}
        assert "too slow" not in {e["item"]["name"] for e in restored.state()["collections"]["appsecplus.connectors"]}
    finally:
        restored.close()


def test_a_state_file_over_the_byte_budget_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    from specmock._errors import LoadError

    path = tmp_path / "state.json"
    MockApp(state=path, scenarios=["default"]).close()
    with pytest.raises(LoadError, match=f"{path}: its items take more than --max-store-bytes 100"):
        MockApp(state=path, max_store_bytes=100)
