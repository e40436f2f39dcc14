"""Shared state on a real Redis when things fail: a worker killed mid-burst, Redis stopped mid-run.

Acknowledged writes are never lost (each server on its own key namespace)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from conftest import BEARER, stop_server
from redis_server import RedisServer
from redis_workers import namespace, serve_shared, worker_pids

# -- failures -----------------------------------------------------------------------------


def write_burst(url: str, stop: threading.Event, prefix: str, acknowledged: list[str], seen: Counter[Any]) -> None:
    """POST connectors until `stop`; keep the ids of those acknowledged (201)."""
    n = 0
    while not stop.is_set():
        n += 1
        body = {"type": "github", "name": f"{prefix}-{n}", "config": {"apiUrl": "https://git.example.com"}}
        try:
            with httpx.Client(base_url=url, headers=BEARER, timeout=10) as api:
                response = api.post("/connectors", json=body)
        except httpx.HTTPError as exc:
            seen[type(exc).__name__] += 1
            continue
        seen[response.status_code] += 1
        if response.status_code == 201:
            acknowledged.append(response.json()["id"])
        elif response.status_code == 503:
            seen["retry-after"] += "retry-after" in response.headers
            time.sleep(0.05)


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored_ids(url: str) -> set[str]:
    state = httpx.get(f"{url}/__specmock/state", timeout=30).json()
    return {entry["key"] for entry in state["store"]["collections"].get("appsecplus.connectors", [])}


def test_kill_9_of_a_worker_mid_burst_loses_no_acknowledged_write(redis_server: RedisServer) -> None:
    served = serve_shared(redis_server.url, namespace(), "--workers", "2")
    try:
        pids = worker_pids(served.url, 2)
        assert len(pids) == 2
        stop = threading.Event()
        acknowledged: list[str] = []
        seen: Counter[Any] = Counter()
        writers = [
            threading.Thread(target=write_burst, args=(served.url, stop, f"w{i}", acknowledged, seen)) for i in range(6)
        ]
        for writer in writers:
            writer.start()
        wait_for(lambda: len(acknowledged) >= 5)  # mid-burst: on a busy machine, by count, not by time
        os.kill(min(pids), signal.SIGKILL)
        before = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= before + 5)  # the other worker (and a restarted one) go on
        stop.set()
        for writer in writers:
            writer.join(30)
        assert len(acknowledged) >= 10, seen
        assert not set(acknowledged) - stored_ids(served.url)
        assert len(set(acknowledged)) == len(acknowledged)
        assert seen[500] == 0, seen
    finally:
        stop_server(served)


def test_redis_stopped_mid_run_answers_503_then_recovers_losing_nothing(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    served = serve_shared(redis.url, namespace())
    stop = threading.Event()
    acknowledged: list[str] = []
    seen: Counter[Any] = Counter()
    writer = threading.Thread(target=write_burst, args=(served.url, stop, "r", acknowledged, seen))
    try:
        writer.start()
        time.sleep(1.0)
        redis.stop()
        time.sleep(0.5)
        down = httpx.post(
            f"{served.url}/connectors", headers=BEARER, json={"type": "jira", "name": "x", "config": {"project": "X"}}
        )
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "1"
        assert down.json()["error"]["code"]  # the family's own error format
        health = httpx.get(f"{served.url}/__specmock/health")
        assert health.status_code == 503
        assert health.json()["state"]["reachable"] is False
        time.sleep(2.0)
        redis.start()
        before = len(acknowledged)
        deadline = time.monotonic() + 30
        while len(acknowledged) <= before + 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        writer.join(30)
        assert len(acknowledged) > before + 5, seen  # it recovered by itself
        assert seen[503] > 0 and seen["retry-after"] == seen[503], seen
        assert seen[500] == 0, seen
        assert httpx.get(f"{served.url}/__specmock/health").status_code == 200
        assert not set(acknowledged) - stored_ids(served.url)
    finally:
        stop.set()
        stop_server(served)
        redis.stop()
