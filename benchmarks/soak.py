"""Soak test (not in CI): a long mixed run against `specmock serve`, watching its memory.

Starts its own `specmock serve` on 127.0.0.1 (port 0), builds a fixed working
set (AppSec+, Versori and SD Elements connectors), then sends a bounded number
of mixed requests over keep-alive connections: mostly reads and updates of the
working set, creates each followed by a delete, list calls, and some bad
requests (404s, malformed JSON). The store stops growing once the working set
is built, so the server's memory must level off once the journal (a bounded
ring buffer, --journal-size) is full, and stay flat from then on.

Every CHECKPOINT requests it reads the server process's VmRSS from
/proc/PID/status, its live Python objects (GET /__specmock/health?memory=true),
the journal's count and size, and the store's item count. It stops by itself
after --requests requests or --max-seconds, whichever comes first, stops the
server, and exits 1 if live objects grew more than --tolerance (or RSS more than
--rss-tolerance: it also moves with allocator fragmentation) from the early to
the late checkpoints (after --warmup checkpoints: the journal filling, and the
first journal read), the journal exceeded its size, the store grew, or anything
answered 5xx.

Run: python benchmarks/soak.py [--requests 200000] [--max-seconds 900] [--journal-size 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ORG = "01HFS2NEAZ6ECZBZMN4FF775P7"
VERSORI = f"/api/connect/v1/o/{ORG}"
SDE = "/api/v2/connectors/alm/"
BEARER = "Bearer soak"
TOKEN = "Token soak"
SCAN_TYPES = ["sast", "dast", "sca", "container"]


def rss_kib(pid: int) -> int:
    """The resident set size of `pid` in KiB, from /proc/PID/status."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no VmRSS for {pid}")
    return int(found.group(1))


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, auth: str | None, body: Any = None, raw: bytes | None = None
    ) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if auth:
            head += f"Authorization: {auth}\r\n"
        if payload or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response_head.split(b" ", 2)[1])
        length = 0
        for line in response_head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return Reply(status, data)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


@dataclass
class WorkingSet:
    appsec: list[str] = field(default_factory=list)
    versori: list[str] = field(default_factory=list)
    sde: list[int] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)


@dataclass
class Run:
    total: int
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    unique: int = 0  # for names that must not collide


async def build_working_set(conn: Connection, size: int) -> WorkingSet:
    ws = WorkingSet()
    for i in range(size):
        body = {"type": "github", "name": f"ws-{i}", "config": {"apiUrl": f"https://git{i}.example.com"}}
        ws.appsec.append((await conn.request("POST", "/connectors", BEARER, body)).json()["id"])
    for i in range(size // 4):
        body = {"name": f"ws-{i}", "baseUrl": "https://example.com", "authSchemeConfigs": []}
        ws.versori.append(
            (await conn.request("POST", f"{VERSORI}/protocols/http/connectors", BEARER, body)).json()["id"]
        )
        params = {"alm_server": "jira.example.com", "alm_user": "user", "alm_pass": "pass"}
        body = {"name": f"ws-{i}", "system": {"id": "jira"}, "params": params}
        ws.sde.append((await conn.request("POST", SDE, TOKEN, body)).json()["id"])
    for scan_type in SCAN_TYPES:
        body = {"applicationId": "app-12345", "scanType": scan_type}
        ws.scans.append((await conn.request("POST", "/scans", BEARER, body)).json()["id"])
    return ws


async def one_step(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> int:
    """One mixed action (a create-then-delete is two requests); returns how many requests it sent."""
    roll = rng.random()
    kind, step = next(((kind, step) for share, kind, step in MIX if roll < share), MIX[-1][1:])
    replies = await step(conn, ws, rng, run)
    run.kinds[kind] += 1
    for reply in replies:
        run.statuses[reply.status] += 1
    return len(replies)


async def appsec_get(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"/connectors/{rng.choice(ws.appsec)}", BEARER)]


async def appsec_update(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    index = rng.randrange(len(ws.appsec))
    body = {"name": f"ws-{index}-v{rng.randrange(1000)}", "status": rng.choice(["active", "inactive", "error"])}
    return [await conn.request("PUT", f"/connectors/{ws.appsec[index]}", BEARER, body)]


async def appsec_create_delete(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    run.unique += 1
    body = {"type": "jira", "name": f"tmp-{run.unique}", "config": {"project": "SEC", "token": "secret"}}
    created = await conn.request("POST", "/connectors", BEARER, body)
    if created.status != 201:
        return [created]
    return [created, await conn.request("DELETE", f"/connectors/{created.json()['id']}", BEARER)]


async def appsec_list(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", "/connectors", BEARER)]


async def scan_get(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"/scans/{rng.choice(ws.scans)}", BEARER)]


async def versori_get(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"{VERSORI}/connectors/{rng.choice(ws.versori)}", BEARER)]


async def versori_replace(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    connector = rng.choice(ws.versori)
    body = {
        "id": connector,
        "organisationId": ORG,
        "name": f"v-{rng.randrange(1000)}",
        "protocol": "http",
        "baseUrl": "https://example.com",
    }
    return [await conn.request("PUT", f"{VERSORI}/connectors/{connector}", BEARER, body)]


async def versori_list_page(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"{VERSORI}/connectors?first=20", BEARER)]


async def sde_get(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"{SDE}{rng.choice(ws.sde)}/", TOKEN)]


async def sde_patch(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("PATCH", f"{SDE}{rng.choice(ws.sde)}/", TOKEN, {"inaccessible": rng.random() < 0.5})]


async def sde_create_delete(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    body = {
        "name": "tmp",
        "system": {"id": "github"},
        "params": {"alm_server": "api.github.com", "alm_api_token": "t"},
    }
    created = await conn.request("POST", SDE, TOKEN, body)
    if created.status != 201:
        return [created]
    return [created, await conn.request("DELETE", f"{SDE}{created.json()['id']}/", TOKEN)]


async def not_found(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("GET", f"/connectors/conn-missing-{rng.randrange(10**6)}", BEARER)]


async def malformed_json(conn: Connection, ws: WorkingSet, rng: random.Random, run: Run) -> list[Reply]:
    return [await conn.request("POST", "/connectors", BEARER, raw=b'{"type": "github", "name": ')]


Step = Callable[[Connection, WorkingSet, random.Random, Run], Awaitable[list[Reply]]]

#: The mix: a step runs when the roll (0 <= roll < 1) is below its share and no earlier one's.
MIX: list[tuple[float, str, Step]] = [
    (0.30, "appsec get", appsec_get),
    (0.45, "appsec update", appsec_update),
    (0.55, "appsec create+delete", appsec_create_delete),
    (0.58, "appsec list", appsec_list),
    (0.62, "scan get", scan_get),
    (0.70, "versori get", versori_get),
    (0.75, "versori replace", versori_replace),
    (0.78, "versori list page", versori_list_page),
    (0.85, "sde get", sde_get),
    (0.89, "sde patch", sde_patch),
    (0.93, "sde create+delete", sde_create_delete),
    (0.96, "not found", not_found),
    (1.00, "malformed JSON", malformed_json),
]


async def worker(port: int, ws: WorkingSet, seed: int, run: Run, deadline: float, gate: asyncio.Event) -> None:
    conn = Connection(port)
    rng = random.Random(seed)
    try:
        while run.sent < run.total and time.monotonic() < deadline:
            await gate.wait()
            sent = await one_step(conn, ws, rng, run)
            run.sent += sent  # not `run.sent += await ...`: that reads run.sent before the await
    finally:
        await conn.close()


async def probe(port: int, pid: int) -> dict[str, Any]:
    """The server's RSS (read first, so the probe's own answers do not count), its journal and store."""
    rss = rss_kib(pid)
    conn = Connection(port)
    try:
        health = (await conn.request("GET", "/__specmock/health?memory=true", None)).json()
        journal = (await conn.request("GET", "/__specmock/journal", None)).json()
        state = (await conn.request("GET", "/__specmock/state", None)).json()["store"]
    finally:
        await conn.close()
    return {
        "rss_kib": rss,
        "objects": health["memory"]["pythonObjects"],
        "journal_count": journal["count"],
        "journal_size": journal["size"],
        "items": sum(len(entries) for entries in state["collections"].values()),
    }


async def soak(args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []

    async def sample(label: str, requests: int, elapsed: float) -> None:
        figures = await probe(port, pid)
        figures.update(label=label, requests=requests, seconds=round(elapsed, 1))
        samples.append(figures)
        print(
            f"{label:>10} {requests:>8} req {elapsed:7.1f}s  RSS {figures['rss_kib'] / 1024:7.1f} MiB  "
            f"objects {figures['objects']:>8}  "
            f"journal {figures['journal_count']}/{figures['journal_size']}  items {figures['items']}",
            flush=True,
        )

    await sample("start", 0, 0.0)
    setup = Connection(port)
    ws = await build_working_set(setup, args.working_set)
    await setup.close()
    await sample("working set", 0, 0.0)

    run = Run(total=args.requests)
    started = time.monotonic()
    deadline = started + args.max_seconds
    gate = asyncio.Event()
    gate.set()
    workers = [
        asyncio.create_task(worker(port, ws, args.seed * 1000 + i, run, deadline, gate))
        for i in range(args.connections)
    ]
    next_checkpoint = args.checkpoint
    while not all(w.done() for w in workers):
        await asyncio.sleep(0.05)
        if run.sent >= next_checkpoint:
            gate.clear()  # pause the load while we measure
            await asyncio.sleep(0.1)
            await sample("during", run.sent, time.monotonic() - started)
            next_checkpoint += args.checkpoint
            gate.set()
    for w in workers:
        w.result()
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.0)
    await sample("after", run.sent, elapsed)
    return {"samples": samples, "run": run, "seconds": elapsed}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200_000, help="stop after this many requests")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop after this long in any case")
    parser.add_argument("--checkpoint", type=int, default=20_000, help="measure every N requests")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections at once")
    parser.add_argument("--working-set", type=int, default=200, help="AppSec+ connectors created up front")
    parser.add_argument("--journal-size", type=int, default=5_000, help="passed to specmock serve")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2, help="checkpoints to skip before judging memory")
    parser.add_argument(
        "--tolerance", type=float, default=0.10, help="allowed growth of live objects after warm-up (fraction)"
    )
    parser.add_argument("--rss-tolerance", type=float, default=0.35, help="allowed RSS growth after warm-up (fraction)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    command = [sys.executable, "-m", "specmock", "serve", "--host", "127.0.0.1", "--port", "0"]
    command += ["--seed", str(args.seed), "--journal-size", str(args.journal_size), "--log-level", "warning"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        port = 0
        for line in server.stdout:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        if not port:
            print("specmock serve did not start", file=sys.stderr)
            return 2
        print(
            f"specmock serve pid {server.pid} on 127.0.0.1:{port}; {args.requests} requests at most, "
            f"{args.max_seconds:.0f}s at most, journal size {args.journal_size}",
            flush=True,
        )
        result = asyncio.run(soak(args, port, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    samples = result["samples"]
    run: Run = result["run"]
    # Warm-up: the journal fills, and the first journal read parses and keeps the bodies it shows.
    # After it, compare the later checkpoints with the earlier ones.
    steady = [s["rss_kib"] for s in samples if s["label"] in ("during", "after")][args.warmup :]
    third = max(1, len(steady) // 3)
    early = statistics.median(steady[:third]) if steady else samples[-1]["rss_kib"]
    late = statistics.median(steady[-third:]) if steady else samples[-1]["rss_kib"]
    growth = (late - early) / early
    # Live objects are the leak test; RSS also moves with allocator fragmentation, so it gets
    # a looser bound.
    objects = [s["objects"] for s in samples if s["label"] in ("during", "after")][args.warmup :]
    early_objects = statistics.median(objects[:third]) if objects else samples[-1]["objects"]
    late_objects = statistics.median(objects[-third:]) if objects else samples[-1]["objects"]
    object_growth = (late_objects - early_objects) / early_objects
    rate = run.sent / result["seconds"] if result["seconds"] else 0.0
    problems = []
    if len(steady) < 3:
        problems.append(f"too few checkpoints after the warm-up ({len(steady)}) to judge")
    if object_growth > args.tolerance:
        problems.append(
            f"live objects grew {object_growth:.1%} from the early to the late checkpoints "
            f"(tolerance {args.tolerance:.0%})"
        )
    if growth > args.rss_tolerance:
        problems.append(
            f"RSS grew {growth:.1%} from the early to the late checkpoints (tolerance {args.rss_tolerance:.0%})"
        )
    if any(s["journal_count"] > s["journal_size"] for s in samples):
        problems.append("the journal outgrew its size")
    if len({s["items"] for s in samples[1:]}) > 1:
        problems.append(f"the store grew: {[s['items'] for s in samples[1:]]}")
    server_errors = sum(n for status, n in run.statuses.items() if status >= 500)
    if server_errors:
        problems.append(f"{server_errors} responses were 5xx")
    summary = {
        "requests": run.sent,
        "seconds": round(result["seconds"], 1),
        "rate_per_second": round(rate),
        "statuses": dict(sorted(run.statuses.items())),
        "kinds": dict(run.kinds.most_common()),
        "rss_mib": {
            "start": round(samples[0]["rss_kib"] / 1024, 1),
            "working_set": round(samples[1]["rss_kib"] / 1024, 1),
            "early_median": round(early / 1024, 1),
            "late_median": round(late / 1024, 1),
            "peak": round(max(s["rss_kib"] for s in samples) / 1024, 1),
            "after": round(samples[-1]["rss_kib"] / 1024, 1),
            "growth_early_to_late": f"{growth:.1%}",
        },
        "live_objects": {
            "early_median": early_objects,
            "late_median": late_objects,
            "growth_early_to_late": f"{object_growth:.1%}",
        },
        "samples": samples,
        "problems": problems,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    print("FLAT" if not problems else "NOT FLAT: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
