"""Hostile soak (not in CI): a minute of hostile traffic, then kill -9, restart, and count lost writes.

Against one `specmock serve --state-file F` and against `--workers 2 --state redis://...`
(a redis-server of its own on a free port, append-only, fsync always), it runs for
--seconds, all at once:

- slow bodies: --slow connections announcing a 1,000-byte body and sending a byte every
  2 s (each must get its 408 at --body-timeout and free its place, then a new one starts);
- huge creates: 900 KB connector creates (accepted, then deleted so the state stays
  bounded) and 5 MB chunked ones (413 as the bytes pass --max-body);
- ReDoS-shaped bodies: 20 KB strings of `a` ending in `!` in every string field;
- event streams: --streams dashboard event streams held open;
- an honest client: small creates, each acknowledged id remembered, and GETs; its status
  counts and latency percentiles are what the hostile traffic must not spoil.

Then every server process is killed with SIGKILL (no shutdown, no flush), the server is
started again on the same state, and every acknowledged create is read back: the report
says how many were acknowledged and how many are lost (must be 0).

Run: python benchmarks/soak_hostile.py [--seconds 60] [--mode single|workers|both] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

QUIET = ("--log-level", "error")
AUTH = {"Authorization": "Bearer soak", "Content-Type": "application/json"}
SMALL = '{{"type": "github", "name": "{name}", "config": {{"apiUrl": "https://api.github.com"}}}}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)


def start_server(args: list[str], port: int = 0) -> Server:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "specmock",
            "serve",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "error",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: kill -9 reaches every worker
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            server = Server(process, found.group(1).split(" ")[0])
            wait_ready(server.url)
            return server
    raise RuntimeError(f"specmock serve did not start (exit {process.wait()})")


def wait_ready(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/__specmock/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def kill_hard(server: Server) -> None:
    """SIGKILL to the server's whole process group: no shutdown, no flush."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def stop(server: Server) -> None:
    with_group = server.process.pid
    try:
        os.killpg(with_group, signal.SIGTERM)
        server.process.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(with_group, signal.SIGKILL)
        server.process.wait(10)


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class Tally:
    honest: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    hostile: Counter[str] = field(default_factory=Counter)
    peak_rss_mb: float = 0.0


async def raw_request(host: str, port: int, head: bytes, body_parts: list[bytes], pause: float) -> str:
    """Send `head` then each of `body_parts` `pause` seconds apart; the answer's status (or how it ended)."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return f"connect failed ({exc.__class__.__name__})"
    try:
        writer.write(head)
        await writer.drain()
        for part in body_parts:
            try:
                line = await asyncio.wait_for(reader.readline(), pause)
            except TimeoutError:
                writer.write(part)
                await writer.drain()
                continue
            return status_of(line)
        line = await asyncio.wait_for(reader.readline(), 60)
        return status_of(line)
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        return f"ended ({exc.__class__.__name__})"
    finally:
        writer.close()


def status_of(line: bytes) -> str:
    parts = line.split(b" ")
    return parts[1].decode() if len(parts) > 1 else "closed without an answer"


async def slow_bodies(host: str, port: int, count: int, until: float, tally: Tally) -> None:
    head = (
        f"POST /connectors HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer soak\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()

    async def one_slot() -> None:
        while time.monotonic() < until:
            status = await raw_request(host, port, head, [b" "] * 1000, 2.0)
            tally.hostile[f"slow body -> {status}"] += 1

    await asyncio.gather(*(one_slot() for _ in range(count)))


async def huge_creates(client: httpx.AsyncClient, until: float, tally: Tally) -> None:
    filler = "x" * (900 * 1024)
    n = 0
    while time.monotonic() < until:
        n += 1
        body = SMALL.format(name=f"huge-{n}").replace('"https://api.github.com"', f'"https://a/{filler}"')
        try:
            created = await client.post("/connectors", content=body, headers=AUTH)
            tally.hostile[f"900 KB create -> {created.status_code}"] += 1
            if created.status_code == 201:
                await client.delete(f"/connectors/{created.json()['id']}", headers=AUTH)

            async def chunks() -> Any:
                for _ in range(80):
                    yield b"x" * 65536

            chunked = await client.post("/connectors", content=chunks(), headers=AUTH)
            tally.hostile[f"5 MB chunked create -> {chunked.status_code}"] += 1
        except httpx.HTTPError as exc:
            tally.hostile[f"huge create -> {exc.__class__.__name__}"] += 1
        await asyncio.sleep(0.2)


async def redos_bodies(client: httpx.AsyncClient, until: float, tally: Tally) -> None:
    evil = "a" * 20_000 + "!"
    n = 0
    while time.monotonic() < until:
        n += 1
        body = json.dumps({"type": evil, "name": f"{evil}{n}", "config": {"apiUrl": evil, "organization": evil}})
        try:
            reply = await client.post("/connectors", content=body, headers=AUTH)
            tally.hostile[f"ReDoS-shaped create -> {reply.status_code}"] += 1
        except httpx.HTTPError as exc:
            tally.hostile[f"ReDoS-shaped create -> {exc.__class__.__name__}"] += 1
        await asyncio.sleep(0.05)


async def event_streams(url: str, count: int, until: float, tally: Tally) -> None:
    async def one() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=None) as client:
            try:
                async with client.stream("GET", "/__specmock/events") as stream:
                    tally.hostile[f"event stream -> {stream.status_code}"] += 1
                    async for _ in stream.aiter_bytes():
                        if time.monotonic() >= until:
                            break
            except httpx.HTTPError as exc:
                tally.hostile[f"event stream -> {exc.__class__.__name__}"] += 1

    await asyncio.gather(*(one() for _ in range(count)))


async def honest(client: httpx.AsyncClient, until: float, tally: Tally, tag: str) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        started = time.perf_counter()
        try:
            created = await client.post("/connectors", content=SMALL.format(name=f"{tag}-{n}"), headers=AUTH)
            tally.latencies.append(time.perf_counter() - started)
            tally.honest[f"create {created.status_code}"] += 1
            if created.status_code == 201:
                tally.acknowledged.append(created.json()["id"])
                started = time.perf_counter()
                read = await client.get(f"/connectors/{created.json()['id']}", headers=AUTH)
                tally.latencies.append(time.perf_counter() - started)
                tally.honest[f"read {read.status_code}"] += 1
        except httpx.HTTPError as exc:
            tally.honest[f"{exc.__class__.__name__}"] += 1
        await asyncio.sleep(0.01)


async def watch_memory(pid: int, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        tally.peak_rss_mb = max(tally.peak_rss_mb, rss_mb(pid))
        await asyncio.sleep(1)


async def hostile_minute(server: Server, args: argparse.Namespace, tag: str) -> Tally:
    tally = Tally()
    until = time.monotonic() + args.seconds
    host, port = server.host_port
    limits = httpx.Limits(max_connections=20)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as heavy,
        httpx.AsyncClient(base_url=server.url, timeout=30) as fair,
    ):
        await asyncio.gather(
            slow_bodies(host, port, args.slow, until, tally),
            huge_creates(heavy, until, tally),
            redos_bodies(heavy, until, tally),
            event_streams(server.url, args.streams, until, tally),
            honest(fair, until, tally, tag),
            watch_memory(server.process.pid, until, tally),
        )
    return tally


def lost_after_restart(url: str, ids: list[str]) -> list[str]:
    lost = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for key in ids:
            if client.get(f"/connectors/{key}", headers=AUTH).status_code != 200:
                lost.append(key)
    return lost


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
         "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def run_mode(mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    redis: subprocess.Popen[bytes] | None = None
    if mode == "single":
        serve_args = ["--state-file", str(folder / "state.json")]
        label = "one process, --state-file"
    else:
        redis, url = start_redis(folder)
        serve_args = ["--workers", "2", "--state", url, "--state-namespace", "soak"]
        label = "--workers 2, --state redis://"
    try:
        server = start_server(serve_args)
        port = server.host_port[1]
        started = time.monotonic()
        tally = asyncio.run(hostile_minute(server, args, mode))
        elapsed = time.monotonic() - started
        kill_hard(server)
        restarted = start_server(serve_args, port=port)
        try:
            lost = lost_after_restart(restarted.url, tally.acknowledged)
        finally:
            stop(restarted)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(10)
    latencies = sorted(tally.latencies) or [0.0]
    return {
        "label": label,
        "seconds": round(elapsed, 1),
        "acknowledged": len(tally.acknowledged),
        "lost": len(lost),
        "honest": dict(sorted(tally.honest.items())),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1 if len(latencies) > 1 else 0] * 1000, 1),
        "hostile": dict(sorted(tally.hostile.items())),
        "peak_rss_mb": round(tally.peak_rss_mb, 1),
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"soak_hostile: {args.seconds} s of hostile traffic, {args.slow} slow-body connections, "
        f"{args.streams} event streams; then kill -9 and restart",
        "",
        "| server | acknowledged writes | lost after kill -9 | honest p50 ms | honest p99 ms | honest answers "
        "| peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in results:
        answers = ", ".join(f"{k}: {v}" for k, v in r["honest"].items())
        lines.append(
            f"| {r['label']} | {r['acknowledged']} | {r['lost']} | {r['p50_ms']} | {r['p99_ms']} | {answers} "
            f"| {r['peak_rss_mb']} |"
        )
    lines.append("")
    for r in results:
        hostile = "; ".join(f"{k}: {v}" for k, v in r["hostile"].items())
        lines.append(f"- {r['label']}, hostile requests and how they ended: {hostile}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of hostile traffic per server")
    parser.add_argument("--mode", choices=["single", "workers", "both"], default="both")
    parser.add_argument("--slow", type=int, default=300, help="slow-body connections held at once")
    parser.add_argument("--streams", type=int, default=50, help="event streams held open")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args(argv)
    modes = ["single", "workers"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix=f"soak-{mode}-") as folder:
            results.append(run_mode(mode, args, Path(folder)))
    text = report(results, args)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 1 if any(r["lost"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
