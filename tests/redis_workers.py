"""Helpers for the tests of shared state on a real Redis: servers on their own key namespace,
worker discovery, resets and requests released together."""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from conftest import Served, start_server
from redis_server import wait_ready

_namespaces = itertools.count()


def namespace() -> str:
    return f"t{os.getpid()}-{next(_namespaces)}"


def serve_shared(redis_url: str, ns: str, *args: str) -> Served:
    served = start_server("--state", redis_url, "--state-namespace", ns, "--no-access-log", *args)
    wait_ready(served.url)
    return served


def worker_pids(url: str, wanted: int, tries: int = 200) -> set[int]:
    """The worker processes answering on `url`, learnt from health checks on fresh connections."""
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(httpx.get(f"{url}/__specmock/health", timeout=5).json()["state"]["worker"])
        if len(seen) >= wanted:
            break
    return seen


def reset(url: str) -> None:
    assert httpx.post(f"{url}/__specmock/reset", json={}, timeout=10).status_code == 200


def at_once(count: int, work: Any) -> list[Any]:
    """`work(i)` for i in range(count), all released together, each on its own connection."""
    start = threading.Barrier(count)

    def run(i: int) -> Any:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
