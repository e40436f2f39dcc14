"""Proxy benchmark: the latency `specmock proxy` adds to each request.

A faithful provider (`specmock serve --spec tests/contract/widgets.yaml`) and a proxy in
front of it (`specmock proxy --upstream ...`), each its own process on 127.0.0.1 port 0.
One keep-alive client sends `--requests` reads of one widget (GET /widgets/{id}: routed,
forwarded, its answer checked against the schema and journalled), alternating direct and
through the proxy so both see the same machine load, after `--warmup` of each. It prints
p50 and p99 of both and of the difference. Bounded: at most `--requests` of each, and
every process is ended by its own id. A measurement, not a test: exit 0 whatever the figures.

`--in-process` measures the proxy's own work without sockets or a second process (the
client, the proxy and the provider share one event loop through ASGI transports), which a
loaded machine disturbs far less than the two-process figures.

Run:  python benchmarks/bench_proxy.py [--requests 2000] [--warmup 200] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WIDGETS = ROOT / "tests" / "contract" / "widgets.yaml"
HEADERS = {"Authorization": "Bearer bench"}


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "specmock", *args, "--port", "0", "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return process, found.group(1)
    raise SystemExit(f"could not start: {' '.join(args)}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(requests: int, warmup: int, timings: dict[str, list[float]]) -> None:
    added = [p - d for p, d in zip(timings["proxy"], timings["direct"], strict=True)]
    print(f"{requests} GET /widgets/{{id}} each, after {warmup} warm-up; milliseconds")
    print(f"{'':<22}{'p50':>8}{'p99':>8}{'mean':>8}")
    rows = (("direct to provider", timings["direct"]), ("through the proxy", timings["proxy"]), ("added", added))
    for label, values in rows:
        row = (percentile(values, 0.5), percentile(values, 0.99), statistics.fmean(values))
        print(f"{label:<22}" + "".join(f"{v:8.2f}" for v in row))


def in_process(requests: int, warmup: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from specmock._contract.drift import DriftLog
    from specmock._contract.proxy import ProxyApp
    from specmock._contract.upstream import Upstream
    from specmock._server.app import MockApp
    from specmock._testing.transport import AsyncASGITransport

    provider, consumer_side = MockApp([WIDGETS]), MockApp([WIDGETS])
    proxy = ProxyApp(consumer_side, Upstream("http://provider", transport=AsyncASGITransport(provider)), DriftLog())

    async def run() -> dict[str, list[float]]:
        timings: dict[str, list[float]] = {"direct": [], "proxy": []}
        clients = {
            name: httpx.AsyncClient(transport=AsyncASGITransport(app), base_url="http://x", headers=HEADERS)
            for name, app in (("direct", provider), ("proxy", proxy))
        }
        key = (await clients["direct"].post("/widgets", json={"name": "bench", "color": "red"})).json()["id"]
        for index in range(warmup + requests):
            for name, client in clients.items():
                started = time.perf_counter()
                answer = await client.get(f"/widgets/{key}")
                elapsed = (time.perf_counter() - started) * 1000
                assert answer.status_code == 200
                if index >= warmup:
                    timings[name].append(elapsed)
        for client in clients.values():
            await client.aclose()
        return timings

    report(requests, warmup, asyncio.run(run()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--in-process", action="store_true", help="no sockets: the proxy's own work")
    args = parser.parse_args()
    if args.in_process:
        in_process(args.requests, args.warmup)
        return 0
    provider, provider_url = start("serve", "--spec", str(WIDGETS))
    proxy, proxy_url = start("proxy", "--spec", str(WIDGETS), "--upstream", provider_url)
    try:
        with httpx.Client(headers=HEADERS, timeout=10) as direct, httpx.Client(headers=HEADERS, timeout=10) as via:
            key = direct.post(f"{provider_url}/widgets", json={"name": "bench", "color": "red"}).json()["id"]
            timings: dict[str, list[float]] = {"direct": [], "proxy": []}
            for index in range(args.warmup + args.requests):
                for name, client, base in (("direct", direct, provider_url), ("proxy", via, proxy_url)):
                    started = time.perf_counter()
                    answer = client.get(f"{base}/widgets/{key}")
                    elapsed = (time.perf_counter() - started) * 1000
                    assert answer.status_code == 200
                    if index >= args.warmup:
                        timings[name].append(elapsed)
            drift = via.get(f"{proxy_url}/__specmock/drift").json()["findings"]
    finally:
        for process in (proxy, provider):
            process.terminate()
            process.wait(10)
    report(args.requests, args.warmup, timings)
    print(f"findings on the faithful provider: {len(drift)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
