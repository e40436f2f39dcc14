"""Shared-state benchmark: what Redis costs, and what a second worker buys back.

Measures requests per second and p50/p99 for GET /connectors (a list of 10) and
POST /connectors (a create with validation and a unique name) with:

- in-memory state, one worker (the default),
- Redis state, one worker (`--state redis://...`),
- Redis state, two workers (`--state redis://... --workers 2`).

A redis-server is started on a free loopback port (append-only file, fsync every
second: Redis's usual production setting). Load comes from wrk with
wrk_connectors.lua. On a 2-core machine the load generator, Redis and the
workers share the cores, so read the figures as relative to each other.

This is a measurement, not a test: it exits 0 whatever the figures are.

Run:  python benchmarks/bench_redis.py [--duration 5] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_connectors.lua"
READY = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""]
    argv += ["--appendonly", "yes", "--appendfsync", "everysec"]
    process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def request(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


@contextlib.contextmanager
def specmock(args: list[str], cpus: str) -> Iterator[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}
    argv = [sys.executable, "-m", "specmock", "serve", "--port", "0", "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(
        ["taskset", "-c", cpus, *argv, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    port = None
    for line in process.stdout:
        found = READY.search(line)
        if found:
            port = int(found.group(1))
            break
    try:
        if port is None:
            raise RuntimeError("specmock did not start")
        for _ in range(600):  # workers start after the socket is bound
            with contextlib.suppress(OSError):
                if request(port, "GET", "/__specmock/health")[0] == 200:
                    break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(20)


def wrk(port: int, mode: str, prefix: str, duration: float, connections: int) -> dict[str, Any]:
    argv = ["taskset", "-c", "0", "wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency"]
    argv += ["-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}", "--", mode, prefix]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    return summary


def measure(label: str, args: list[str], cpus: str, duration: float, rounds: int, connections: int) -> list[str]:
    rows = []
    with specmock(args, cpus) as port:
        request(port, "POST", "/__specmock/reset", {})
        for i in range(10):
            body = {"type": "github", "name": f"seed-{i}", "config": {"apiUrl": "https://api.github.com"}}
            assert request(port, "POST", "/connectors", body)[0] == 201
        wrk(port, "get", "warm", 1, connections)
        for mode in ("get", "post"):
            rps, p50, p99, bad = [], [], [], 0
            for r in range(rounds):
                summary = wrk(port, mode, re.sub(r"\W", "", label) + f"-{r}", duration, connections)
                rps.append(summary["requests"] / (summary["duration_us"] / 1e6))
                p50.append(summary["p50_us"] / 1000)
                p99.append(summary["p99_us"] / 1000)
                bad += summary["non2xx3xx"] + summary["connect"] + summary["read"] + summary["timeout"]
            rows.append(
                f"| {label} | {mode.upper()} | {statistics.median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f}) "
                f"| {statistics.median(p50):.1f} | {statistics.median(p99):.1f} | {bad} |"
            )
            print(rows[-1], flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    for tool in ("wrk", "redis-server", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (apt-get install wrk redis-server util-linux)", file=sys.stderr)
            return 1
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, {args.connections} connections")
    print("| state | method | req/s median (range) | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder, redis_server(Path(folder)) as url:
        cases = [
            ("in-memory, 1 worker", [], "1"),
            ("Redis, 1 worker", ["--state", url, "--state-namespace", "bench1"], "1"),
            ("Redis, 2 workers", ["--state", url, "--state-namespace", "bench2", "--workers", "2"], "0,1"),
        ]
        for label, extra, cpus in cases:
            measure(label, extra, cpus, args.duration, args.rounds, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
