"""Fallback load generator for bench_http.py, used only when `wrk` is not installed.

A Python client is much slower than wrk: on a small machine it can saturate
its own core before the server does, which squeezes specmock/bare ratios
toward 1. bench_http.py says so in its output whenever this runs. It mirrors
wrk_connectors.lua: same requests, keep-alive connections, and the same
WRK_JSON summary line (latencies in microseconds, status >= 400 counted as
non-2xx/3xx as wrk does), so the caller handles both the same way.

Run: python benchmarks/loadgen.py --port PORT --mode post --prefix run1 --duration 5 --connections 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

BODY = (
    '{{"type": "github", "name": "{name}", "config": {{"apiUrl": "https://api.github.com", '
    '"token": "ghp_x", "organization": "example-org"}}}}'
)


@dataclass
class Tally:
    """Counts shared by every connection of one run."""

    latencies_us: list[float] = field(default_factory=list)
    bytes: int = 0
    non2xx3xx: int = 0
    connect: int = 0
    read: int = 0
    counter: int = 0


def _request(mode: str, prefix: str, port: int, tally: Tally) -> bytes:
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer x\r\n"
    if mode != "post":
        return f"GET /connectors HTTP/1.1\r\n{head}\r\n".encode()
    tally.counter += 1
    body = BODY.format(name=f"{prefix}-0-{tally.counter}").encode()
    return (
        f"POST /connectors HTTP/1.1\r\n{head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _connection(port: int, mode: str, prefix: str, deadline: float, tally: Tally) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        tally.connect += 1
        return
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(_request(mode, prefix, port, tally))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            tally.latencies_us.append((time.perf_counter() - started) * 1e6)
            tally.bytes += len(head) + len(body)
            if status >= 400:
                tally.non2xx3xx += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        tally.read += 1
    finally:
        writer.close()


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run(port: int, mode: str, prefix: str, duration: float, connections: int) -> dict[str, float | int]:
    """Drive the server for `duration` seconds and return a wrk-shaped summary."""
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_connection(port, mode, prefix, deadline, tally) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    lat = sorted(tally.latencies_us)
    return {
        "requests": len(lat),
        "duration_us": int(elapsed * 1e6),
        "bytes": tally.bytes,
        "non2xx3xx": tally.non2xx3xx,
        "connect": tally.connect,
        "read": tally.read,
        "write": 0,
        "timeout": 0,
        "p50_us": int(_percentile(lat, 50)),
        "p99_us": int(_percentile(lat, 99)),
        "mean_us": sum(lat) / len(lat) if lat else 0.0,
        "max_us": int(lat[-1]) if lat else 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["get", "post"], default="get")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    summary = asyncio.run(run(args.port, args.mode, args.prefix, args.duration, args.connections))
    print("WRK_JSON " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
