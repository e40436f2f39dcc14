"""Shared state on a real Redis: several workers and replicas of one mock behave as one.

Every test runs `specmock serve --state redis://...` processes against a redis-server
the tests start (skipped when it is not installed). Each server gets its own key
namespace, so they can share one Redis without seeing each other.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import BEARER, Served, run_cli, stop_server
from redis_server import RedisServer
from redis_workers import at_once, namespace, reset, serve_shared, worker_pids

CLIENTS = 64

THIRD_CALL_FAILS = """
name: third-call-fails
rules:
  - name: third-get-fails
    match: {operationId: GetConnector, pathParams: {id: conn-third}}
    after: 3
    times: 1
    respond: {status: 500, message: The third call fails.}
"""


@pytest.fixture(scope="module")
def workers4(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Four worker processes on one port, one shared state, a rule that fails the third call."""
    scenario = tmp_path_factory.mktemp("scenario") / "third-call-fails.yaml"
    scenario.write_text(THIRD_CALL_FAILS)
    served = serve_shared(redis_server.url, namespace(), "--workers", "4", "--scenario", str(scenario))
    try:
        yield served
    finally:
        stop_server(served)


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    """Two separate servers (replicas) on one namespace: requests can pick which one answers."""
    ns = namespace()
    first = serve_shared(redis_server.url, ns)
    second = serve_shared(redis_server.url, ns)
    try:
        yield first.url, second.url
    finally:
        stop_server(first)
        stop_server(second)


# -- the command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--workers", "2"], "--workers 2 needs a shared state (--state redis://HOST:PORT/DB)"),
        (["--workers", "0"], "--workers must be 1 or more"),
        (["--state", "redis://127.0.0.1:1/0", "--state-file", "x.json"], "--state-file and --state cannot be used"),
        (["--state", "postgres://db/x"], "--state takes a Redis URL (redis://HOST:PORT/DB)"),
        (
            ["--state", "redis://127.0.0.1:1/0?namespace=a", "--state-namespace", "b"],
            "--state names namespace 'a' and --state-namespace 'b': give one",
        ),
        (["--state", "redis://127.0.0.1:1/0?namespace="], "a Redis state URL names one non-empty namespace"),
    ],
)
def test_state_options_that_cannot_work_are_refused_with_the_reason(args: list[str], reason: str) -> None:
    result = run_cli("serve", "--port", "0", *args)
    assert result.returncode == 2
    assert reason in result.stderr


def test_an_unreachable_redis_stops_the_start_with_the_reason() -> None:
    from redis_server import free_port

    env_url = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    result = run_cli("serve", "--port", "0", "--state", env_url, timeout=60)
    assert result.returncode == 1, "the command line is right; the machine refused (as a port in use)"
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"specmock: cannot reach the shared state at {env_url}"), lines
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 50


def test_a_namespace_another_mock_owns_is_a_usage_error(redis_server: RedisServer) -> None:
    import redis as redis_client

    ns = namespace()
    redis_client.Redis.from_url(redis_server.url).set(f"{ns}:owner", "the documents of another mock")
    result = run_cli("serve", "--port", "0", "--state", redis_server.url, "--state-namespace", ns, timeout=60)
    assert result.returncode == 2, "a name to change, not a machine that refused"
    assert result.stderr.strip().splitlines()[-1].startswith(f"specmock: the Redis namespace '{ns}' holds")


# -- the store's transactions ------------------------------------------------------------


def test_a_request_that_read_what_another_process_changed_runs_again(redis_server: RedisServer) -> None:
    from specmock._runtime.state.redis_shared import connect
    from specmock._runtime.state.redis_store import RedisStore
    from specmock._runtime.state.store import UniqueIndex

    ns = namespace()
    mine, theirs = RedisStore(connect(redis_server.url), ns), RedisStore(connect(redis_server.url), ns)
    index = UniqueIndex("things", ("name",))
    mine.add_index(index)
    theirs.add_index(index)
    attempts: list[int] = []

    def create() -> str:
        attempts.append(1)
        if mine.owner(index, (), ("x",)) is not None:
            return "conflict"
        if len(attempts) == 1:  # another process takes the name between our check and our write
            theirs.put("things", (), "theirs", {"name": "x"})
        mine.put("things", (), "mine", {"name": "x"})
        return "created"

    assert mine.transaction(create) == "conflict"
    assert len(attempts) == 2
    assert mine.get("things", (), "mine") is None
    assert mine.owner(index, (), ("x",)) == "theirs"


def test_a_refused_request_writes_nothing(redis_server: RedisServer) -> None:
    from specmock._runtime.state.redis_shared import connect
    from specmock._runtime.state.redis_store import RedisStore

    store = RedisStore(connect(redis_server.url), namespace())

    def refused() -> None:
        store.put("things", ("org",), 1, {"id": 1})
        store.note_number("things", 1)
        raise ValueError("refused after writing")

    with pytest.raises(ValueError, match="refused"):
        store.transaction(refused)
    assert store.export() == {"collections": {}, "counters": {}}


# -- several workers, one state -----------------------------------------------------------


def test_colliding_names_across_four_workers_are_created_exactly_once(workers4: Served) -> None:
    url = workers4.url
    reset(url)
    assert len(worker_pids(url, 2)) >= 2, "the requests should spread over several workers"
    names = [f"collide-{i % 8}" for i in range(CLIENTS)]

    def create(i: int) -> httpx.Response:
        body = {"type": "jira", "name": names[i], "config": {"project": f"p{i}"}}
        with httpx.Client(base_url=url, headers=BEARER, timeout=60) as api:
            return api.post("/connectors", json=body)

    responses = at_once(CLIENTS, create)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 8, 409: CLIENTS - 8}, statuses
    created = [r.json() for r in responses if r.status_code == 201]
    assert sorted(c["name"] for c in created) == sorted(set(names))
    assert len({c["id"] for c in created}) == 8
    listed = httpx.get(f"{url}/connectors", headers=BEARER).json()
    assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in created)


def test_a_trigger_scan_race_across_workers_accepts_exactly_one(workers4: Served) -> None:
    url = workers4.url
    reset(url)

    def trigger(i: int) -> int:
        with httpx.Client(base_url=url, headers=BEARER, timeout=60) as api:
            return api.post("/scans", json={"applicationId": "app-12345", "scanType": "dast"}).status_code

    # Frozen: on a busy machine the race outlasts a scan's few seconds of real time.
    assert httpx.put(f"{url}/__specmock/clock", json={"frozen": True}).status_code == 200
    try:
        statuses = Counter(at_once(CLIENTS, trigger))
    finally:
        httpx.put(f"{url}/__specmock/clock", json={"frozen": False})
    assert statuses == {201: 1, 409: CLIENTS - 1}, statuses


def test_fail_the_third_call_fires_once_across_workers(workers4: Served) -> None:
    url = workers4.url
    reset(url)

    def get(i: int) -> int:
        with httpx.Client(base_url=url, headers=BEARER, timeout=60) as api:
            return api.get("/connectors/conn-third").status_code

    statuses = Counter(at_once(24, get))
    assert statuses == {500: 1, 404: 23}, statuses


def test_ids_follow_one_sequence_across_workers(workers4: Served) -> None:
    url = workers4.url
    reset(url)

    def create(i: int) -> str:
        with httpx.Client(base_url=url, headers=BEARER, timeout=60) as api:
            body = {"type": "github", "name": f"seq-{i}", "config": {"apiUrl": "https://git.example.com"}}
            response = api.post("/connectors", json=body)
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

    ids = at_once(16, create)
    numbers = sorted(int(i.rpartition("-")[2]) for i in ids)
    assert numbers == list(range(numbers[0], numbers[0] + 16))  # no gaps, no repeats


# -- replicas -----------------------------------------------------------------------------


def test_an_item_made_on_one_replica_is_read_changed_and_deleted_on_another(replicas: tuple[str, str]) -> None:
    first, second = (httpx.Client(base_url=u, headers=BEARER, timeout=30) for u in replicas)
    with first, second:
        created = first.post("/connectors", json={"type": "jira", "name": "Shared", "config": {"project": "S"}})
        assert created.status_code == 201, created.text
        path = f"/connectors/{created.json()['id']}"
        assert second.get(path).json() == created.json()
        updated = second.put(path, json={"name": "Shared, renamed", "status": "error"})
        assert updated.status_code == 200, updated.text
        assert first.get(path).json()["name"] == "Shared, renamed"
        again = first.post("/connectors", json={"type": "jira", "name": "Shared, renamed", "config": {"project": "T"}})
        assert again.status_code == 409  # the unique index moved with the rename, on both
        assert first.delete(path).status_code == 204
        assert second.get(path).status_code == 404
        assert (
            second.post(
                "/connectors", json={"type": "jira", "name": "Shared, renamed", "config": {"project": "T"}}
            ).status_code
            == 201
        )
        wanted = {"RegisterConnector", "UpdateConnector", "DeleteConnector"}
        for _ in range(50):  # each process sends its journal entries within a moment
            journal = httpx.get(f"{replicas[1]}/__specmock/journal").json()["entries"]
            if {e["operationId"] for e in journal} >= wanted:
                break
            time.sleep(0.1)
        assert {e["operationId"] for e in journal} >= wanted


def test_the_clock_advanced_on_one_replica_moves_lifecycles_on_another(replicas: tuple[str, str]) -> None:
    first, second = replicas
    assert httpx.put(f"{first}/__specmock/clock", json={"frozen": True}).status_code == 200
    try:
        scan = httpx.post(
            f"{first}/scans", headers=BEARER, json={"applicationId": "app-12345", "scanType": "container"}
        )
        assert scan.status_code == 201, scan.text
        path = f"/scans/{scan.json()['id']}"
        assert httpx.get(f"{second}{path}", headers=BEARER).json()["status"] == "queued"
        assert httpx.get(f"{second}/__specmock/clock").json()["frozen"] is True
        assert httpx.post(f"{second}/__specmock/clock/advance", json={"seconds": 600}).status_code == 200
        assert httpx.get(f"{first}{path}", headers=BEARER).json()["status"] in {"completed", "failed"}
    finally:
        httpx.put(f"{first}/__specmock/clock", json={"frozen": False})


def test_a_scenario_switched_on_one_replica_is_active_on_the_other(replicas: tuple[str, str]) -> None:
    first, second = replicas
    scenario = """
name: switched
rules:
  - match: {operationId: GetConnector, pathParams: {id: conn-switch}}
    respond: {status: 500}
"""
    yaml_type = {"Content-Type": "application/yaml"}
    assert httpx.put(f"{first}/__specmock/scenario", content=scenario, headers=yaml_type).status_code == 200
    try:
        assert httpx.get(f"{second}/connectors/conn-switch", headers=BEARER).status_code == 500
        assert httpx.get(f"{second}/__specmock/scenario").json()["active"] == "switched"
    finally:
        assert httpx.delete(f"{second}/__specmock/scenario").status_code == 204
    assert httpx.get(f"{first}/connectors/conn-switch", headers=BEARER).status_code == 404
    assert httpx.get(f"{first}/__specmock/scenario").json()["active"] is None


# -- the pytest plugin ----------------------------------------------------------------------


def test_a_pytest_session_may_keep_the_mock_state_in_redis(
    pytester: pytest.Pytester, redis_server: RedisServer
) -> None:
    from specmock._runtime.state.redis_shared import connect
    from specmock._runtime.state.redis_store import RedisStore

    pytester.makepyfile(
        """
        def test_create(specmock):
            made = specmock.client.post(
                "/connectors",
                headers={"Authorization": "Bearer t"},
                json={"type": "jira", "name": "From pytest", "config": {"project": "P"}},
            )
            assert made.status_code == 201
            assert specmock.app.backend.kind == "redis"
        """
    )
    ns = namespace()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--specmock-state", redis_server.url, "--specmock-state-namespace", ns
    )
    result.assert_outcomes(passed=1)
    stored = RedisStore(connect(redis_server.url), ns).export()["collections"]["appsecplus.connectors"]
    assert "From pytest" in {entry["item"]["name"] for entry in stored}


@pytest.mark.parametrize("query", ["?namespace={ns}", "?socket_keepalive=true&namespace={ns}"])
def test_the_state_url_may_name_the_namespace(redis_server: RedisServer, query: str) -> None:
    from specmock import MockApp, SyncASGITransport
    from specmock._runtime.state.redis_shared import connect
    from specmock._runtime.state.redis_store import RedisStore

    ns = namespace()
    app = MockApp(state=redis_server.url + query.format(ns=ns))
    try:
        assert app.backend.status()["namespace"] == ns
        assert "namespace" not in app.backend.status()["url"]
        with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as api:
            made = api.post(
                "/connectors", headers=BEARER, json={"type": "jira", "name": "Named", "config": {"project": "N"}}
            )
            assert made.status_code == 201, made.text
    finally:
        app.close()
    stored = RedisStore(connect(redis_server.url), ns).export()["collections"]["appsecplus.connectors"]
    assert "Named" in {entry["item"]["name"] for entry in stored}


def test_a_namespace_given_twice_must_agree(redis_server: RedisServer) -> None:
    from specmock._runtime.state.redis import RedisState

    assert RedisState(f"{redis_server.url}?namespace=a", namespace="a").namespace == "a"
    with pytest.raises(ValueError, match="two namespaces"):
        RedisState(f"{redis_server.url}?namespace=a", namespace="b")


def test_the_pytest_plugin_keeps_state_in_memory_by_default(specmock: Any) -> None:
    assert specmock.app.backend.kind == "memory"
    assert type(specmock.app.store).__name__ == "Store"
