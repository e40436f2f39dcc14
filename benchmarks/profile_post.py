"""Where a POST /connectors goes inside specmock: the ASGI app driven in-process, no sockets.

Runs N creates (each a new name) through MockApp as uvicorn would call it, and
prints the mean microseconds per request and cProfile's top functions by
cumulative and by own time. This is the breakdown behind the README's
performance section; `--get` profiles GET /connectors/{id} instead, `--list`
GET /connectors (the default scenario's connectors, as bench_server.py lists them).

`--no-profile` only times it: `--rounds N` times N rounds and reports the fastest (on a
shared machine the least disturbed), `--bare` times bare_app.py's Starlette app alike,
the in-process floor bench_server.py compares against.

Run: python benchmarks/profile_post.py [-n 20000] [--get | --list] [--top 25] [--no-profile [--rounds 5] [--bare]]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specmock import MockApp

BODY = (
    '{{"type": "github", "name": "{name}", "config": {{"apiUrl": "https://api.github.com", '
    '"token": "ghp_x", "organization": "example-org"}}}}'
)


def scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer x")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }


async def one(app: Any, method: str, path: str, body: bytes) -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope(method, path, body), receive, send)
    return status


async def drive(app: Any, n: int, get: bool, prefix: str, listing: bool = False) -> None:
    for i in range(n):
        if listing:
            status = await one(app, "GET", "/connectors", b"")
        elif get:
            status = await one(app, "GET", "/connectors/conn-001", b"")
        else:
            status = await one(app, "POST", "/connectors", BODY.format(name=f"{prefix}-{i}").encode())
        if status not in (200, 201):
            raise SystemExit(f"unexpected status {status}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20000)
    parser.add_argument("--get", action="store_true")
    parser.add_argument("--list", action="store_true", help="profile GET /connectors")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only time it")
    parser.add_argument("--rounds", type=int, default=1, help="with --no-profile: time N rounds, report the fastest")
    parser.add_argument("--bare", action="store_true", help="time bare_app.py's app instead (with --no-profile)")
    args = parser.parse_args(argv)
    if args.bare and args.get:
        parser.error("--bare has no GET /connectors/{id} (bare_app.py answers /connectors only): use --list or POST")
    if args.bare:
        sys.path.insert(0, str(Path(__file__).parent))
        from bare_app import build_app

        app: Any = build_app(b'{"items": []}', b'{"id": "x"}')  # the bytes' size is not what costs
    else:
        app = MockApp(scenarios=["default"])
    asyncio.run(drive(app, 2000, args.get, "warm", args.list))
    what = "GET /connectors" if args.list else "GET /connectors/conn-001" if args.get else "POST /connectors"
    what += " (bare Starlette)" if args.bare else ""
    if args.no_profile:
        per_round = []
        for round_ in range(args.rounds):
            started, cpu = time.perf_counter(), time.process_time()
            asyncio.run(drive(app, args.n, args.get, f"run{round_}", args.list))
            per_round.append((time.process_time() - cpu, time.perf_counter() - started))
        cpu, elapsed = min(per_round)
        rounds = f", fastest of {args.rounds} rounds" if args.rounds > 1 else ""
    else:
        started, cpu = time.perf_counter(), time.process_time()
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(drive(app, args.n, args.get, "run", args.list))
        profiler.disable()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        rounds = ""
    print(
        f"{what}: {cpu / args.n * 1e6:.1f} us CPU per request in-process ({elapsed / args.n * 1e6:.0f} us wall; "
        f"{args.n} requests{rounds}; CPU time is what to compare on a shared machine)"
    )
    rss = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        ),
        None,
    )
    print(f"RSS now: {rss} MB")
    if not args.no_profile:
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
