"""The dashboard and its live events on several workers sharing one Redis state: whole, every
worker's requests included, and serving the fixtures again after Redis lost the state."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import BEARER, Served, stop_server
from redis_server import RedisServer
from redis_workers import namespace, serve_shared, worker_pids

# -- the dashboard on several workers ---------------------------------------------------------


WORKERS2_NAMESPACE = namespace()


@pytest.fixture(scope="module")
def workers2(redis_server: RedisServer) -> Iterator[Served]:
    served = serve_shared(redis_server.url, WORKERS2_NAMESPACE, "--workers", "2")
    try:
        yield served
    finally:
        stop_server(served)


def fresh_get(url: str) -> httpx.Response:
    """On a connection of its own: with several workers, any of them may answer."""
    return httpx.get(url, headers=BEARER, timeout=10)


def test_the_dashboard_is_whole_on_two_workers(workers2: Served) -> None:
    url = workers2.url
    assert len(worker_pids(url, 2)) == 2
    for _ in range(6):
        collections = fresh_get(f"{url}/__specmock/collections")
        assert collections.status_code == 200, collections.text
        counted = {(c["family"], c["name"]): c["count"] for c in collections.json()["collections"]}
        assert counted[("appsecplus", "connectors")] >= 0
    bodies = [{"type": "jira", "name": f"dash {i}", "config": {"project": "D"}} for i in range(8)]
    made = [httpx.post(f"{url}/connectors", headers=BEARER, json=body) for body in bodies]
    assert all(m.status_code == 201 for m in made)
    seqs: list[int] = []
    deadline = time.monotonic() + 5
    while len(seqs) < 8 and time.monotonic() < deadline:  # each worker sends its entries every 50 ms
        entries = fresh_get(f"{url}/__specmock/journal").json()["entries"]
        seqs = [e["seq"] for e in entries if e["method"] == "POST" and e["path"] == "/connectors"]
    assert len(seqs) == 8, seqs
    for seq in seqs:  # whichever worker recorded it, whichever answers
        found = fresh_get(f"{url}/__specmock/journal/{seq}")
        assert found.status_code == 200 and found.json()["seq"] == seq
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        report = [fresh_get(f"{url}/__specmock/coverage").json() for _ in range(4)]
        if all(r["appsecplus"]["operations"]["RegisterConnector"]["called"] for r in report):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("coverage does not count the other worker's requests")


def test_live_events_carry_every_workers_requests(workers2: Served) -> None:
    url = workers2.url
    wanted = {f"/connectors/live-{i}" for i in range(12)}
    seen: set[str] = set()
    with httpx.stream("GET", f"{url}/__specmock/events", timeout=15) as stream:
        assert stream.status_code == 200

        def requests() -> None:
            time.sleep(0.3)
            for path in sorted(wanted):
                fresh_get(f"{url}{path}")  # 404s, journaled by whichever worker answers

        sender = threading.Thread(target=requests)
        sender.start()
        deadline = time.monotonic() + 12
        for line in stream.iter_lines():
            if line.startswith("data:"):
                seen.add(json.loads(line[5:])["path"])
            if wanted <= seen or time.monotonic() > deadline:
                break
        sender.join()
    assert wanted <= seen, sorted(wanted - seen)


def test_running_workers_whose_redis_lost_the_state_serve_the_fixtures_again(
    workers2: Served, redis_server: RedisServer
) -> None:
    import redis as redis_client

    url = workers2.url
    made = httpx.post(
        f"{url}/connectors", headers=BEARER, json={"type": "jira", "name": "lost", "config": {"project": "L"}}
    )
    assert made.status_code == 201
    client = redis_client.Redis.from_url(redis_server.url)
    client.delete(*client.keys(f"{WORKERS2_NAMESPACE}:*"))  # as a Redis restarted without persistence would
    for _ in range(6):  # both workers, each on connections of their own
        health = fresh_get(f"{url}/__specmock/health")
        assert health.status_code == 200 and health.json()["state"]["ok"] is True, health.json()
        collections = fresh_get(f"{url}/__specmock/state").json()["store"]["collections"]
        applications = [entry["key"] for entry in collections.get("appsecplus.applications", [])]
        assert "app-12345" in applications, "the specs' fixtures are back, not an empty state"
        assert "lost" not in {c["name"] for c in fresh_get(f"{url}/connectors").json()}
