"""Server benchmark: specmock against bare Starlette on the same server stack, in one run.

For each server stack uvicorn offers (uvloop + httptools, the fast one, and
asyncio + h11, the pure-Python fallback) it runs `specmock serve` and the bare
Starlette app of bare_app.py (which answers the same bytes), and measures:

- GET /connectors (the default scenario's connectors plus 10 created ones) and
  POST /connectors (every POST names a new connector, so every answer is a 201):
  requests per second, p99, and specmock's throughput as a share of the bare
  app's on the same stack (issue 26's targets: GET >= 0.8x, POST >= 0.5x);
- start-up: from spawning the process to the first 200 on GET /connectors;
- RSS of the server process after its run (from /proc, not live objects);
- for specmock, p99 of GET /connectors/{id} and of POST on a small store and
  again after the store holds `--store-items` (100k) connectors, created by POSTs,
  and the RSS at that point (targets: p99 within 2x, RSS <= 80 MB).

Optional peer rows (`--peers`): Prism and WireMock serving peer-spec.yaml (the
same two operations), installed with `npm install` into benchmarks/.peers/.

Every server is pinned with taskset to one core, wrk (2 threads, 32 connections)
to the other. The machine may be shared: the load average is printed before and
after, and `--repeat N` runs everything N times and reports the median with the
range. This is a measurement, not a test: it exits 0 whatever the figures are
(1 only when a server cannot be started or answers wrongly).

Run:  python benchmarks/bench_server.py [--repeat 3] [--warmup 5] [--duration 10] [--peers] [--baseline CHECKOUT]
      [--out FILE.md]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_server_report import Row, StoreRow, table
from wrk_servers import (
    CLIENT_CPU,
    SERVER_CPU,
    Server,
    create_body,
    free_port,
    load_average,
    server_env,
    started,
    warm_then_measure,
    wrk,
)

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
PEER_SPEC = HERE / "peer-spec.yaml"
SEED_CONNECTORS = 10
STACKS = {"uvloop + httptools": ("uvloop", "httptools"), "asyncio + h11": ("asyncio", "h11")}
BENCH_MAX_ITEMS = 10_000_000


def specmock_argv(port: int, loop: str, http_impl: str) -> list[str]:
    """`specmock serve` as a user runs it (the console script), with the default scenario and bundled specs."""
    script = Path(sys.executable).parent / "specmock"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "specmock"]
    return [
        *base,
        "serve",
        "--port",
        str(port),
        "--scenario",
        "default",
        "--log-level",
        "warning",
        "--no-access-log",
        "--max-items",  # the default (100k) would answer the store phase's last POSTs 507
        str(BENCH_MAX_ITEMS),
        "--loop",
        loop,
        "--http",
        http_impl,
    ]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"unexpected response: {message}")


def seed(server: Server) -> tuple[bytes, bytes]:
    """Create SEED_CONNECTORS connectors on specmock; return (the list body, one create body)."""
    created = b""
    for i in range(SEED_CONNECTORS):
        status, created = server.request("POST", "/connectors", create_body(f"seed-{i:02d}"))
        expect(status == 201, f"specmock POST /connectors gave {status}: {created[:200]!r}")
    status, listed = server.request("GET", "/connectors")
    expect(status == 200, f"specmock GET /connectors gave {status}: {listed[:200]!r}")
    return listed, created


def measure_specmock(
    stack: str, loop: str, http_impl: str, args: argparse.Namespace, tmp: Path, repeat: int, src: Path | None = None
) -> tuple[dict[str, Any], Path, Path]:
    """One specmock server through every phase; returns its figures and the bodies for the bare app.

    With `src`, the specmock of another checkout (its `src/` first on PYTHONPATH): the
    `--baseline` row, so a change is measured against the code before it in the same run.
    """
    figures: dict[str, Any] = {}
    port = free_port()
    env = server_env()
    argv = specmock_argv(port, loop, http_impl)
    if src is not None:
        env["PYTHONPATH"] = str(src / "src")
        argv = [sys.executable, "-m", "specmock", *argv[argv.index("serve") :]]
        tmp = tmp / "baseline"
        tmp.mkdir(exist_ok=True)
    with started(f"specmock ({stack})", argv, port, env=env) as server:
        figures["startup_ms"] = server.startup_ms
        listed, created = seed(server)
        list_file, create_file = tmp / f"list-{loop}.json", tmp / f"create-{loop}.json"
        list_file.write_bytes(listed)
        create_file.write_bytes(created)
        item_id = json.loads(created)["id"]
        tag = f"{repeat}{loop}"
        get = warm_then_measure(server, "get", tag, args.warmup, args.duration)
        figures["get"] = get
        if args.store_items:
            small_get = warm_then_measure(server, "get", tag, 1, args.p99_seconds, f"/connectors/{item_id}")
            small_post = warm_then_measure(server, "post", f"s{tag}", 1, args.p99_seconds)
            figures["small"] = (small_get.p99_ms, small_post.p99_ms)
        post = warm_then_measure(server, "post", tag, args.warmup, args.duration)
        figures["post"] = post
        figures["rss_mb"] = server.rss_mb()
        if args.store_items:
            chunk = 0
            while (count := SEED_CONNECTORS + server.created) < args.store_items:
                chunk += 1
                before = server.created
                wrk(server, "post", f"fill{chunk}{tag}", max(1, min(10, (args.store_items - count) // 4000 + 1)))
                if server.created == before:  # nothing stored: never loop on refusals
                    raise RuntimeError(f"specmock stored nothing while filling the store (at {count:,} items)")
            figures["rss_big"] = server.rss_mb()
            big_get = warm_then_measure(server, "get", tag, 1, args.p99_seconds, f"/connectors/{item_id}")
            big_post = warm_then_measure(server, "post", f"b{tag}", 1, args.p99_seconds)
            figures["big"] = (big_get.p99_ms, big_post.p99_ms)
            figures["items"] = count
        figures["wrong"] = get.non_2xx + get.errors + post.non_2xx + post.errors
    return figures, list_file, create_file


def measure_plain(name: str, argv: list[str], port: int, args: argparse.Namespace, repeat: int) -> dict[str, Any]:
    """A server that answers GET and POST /connectors without state (bare app, peers)."""
    with started(name, argv, port) as server:
        status, body = server.request("POST", "/connectors", create_body("check"))
        expect(status == 201, f"{name} POST /connectors gave {status}: {body[:200]!r}")
        tag = f"{repeat}{name.split()[0]}"
        get = warm_then_measure(server, "get", tag, args.warmup, args.duration)
        post = warm_then_measure(server, "post", tag, args.warmup, args.duration)
        return {
            "startup_ms": server.startup_ms,
            "get": get,
            "post": post,
            "rss_mb": server.rss_mb(),
            "wrong": get.non_2xx + get.errors + post.non_2xx + post.errors,
        }


def bare_argv(port: int, list_file: Path, create_file: Path, loop: str, http_impl: str) -> list[str]:
    return [
        sys.executable,
        str(HERE / "bare_app.py"),
        "--list-body",
        str(list_file),
        "--create-body",
        str(create_file),
        "--port",
        str(port),
        "--loop",
        loop,
        "--http",
        http_impl,
    ]


def peer_commands() -> dict[str, Callable[[int], list[str]]]:
    """The command line for a port, of Prism and WireMock, for those installed under benchmarks/.peers."""
    out: dict[str, Callable[[int], list[str]]] = {}
    prism = PEERS / "node_modules" / ".bin" / "prism"
    if prism.exists():
        out["Prism"] = lambda port: [
            str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "silent", str(PEER_SPEC)
        ]  # fmt: skip
    jars = sorted((PEERS / "node_modules" / "wiremock").glob("**/wiremock*standalone*.jar"))
    if jars and shutil.which("java"):
        mappings = write_wiremock_mappings()
        out["WireMock"] = lambda port: [
            "java",
            "-jar",
            str(jars[-1]),
            "--port",
            str(port),
            "--bind-address",
            "127.0.0.1",
            "--root-dir",
            str(mappings),
            "--disable-banner",
            "--no-request-journal",
        ]
    return out


def write_wiremock_mappings() -> Path:
    """WireMock stubs for peer-spec.yaml's two operations, answering the spec's examples."""
    import yaml  # the project's own dependency

    spec = yaml.safe_load(PEER_SPEC.read_text())
    ops = spec["paths"]["/connectors"]
    root = PEERS / "wiremock-root"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    stubs = []
    for method, status in (("get", "200"), ("post", "201")):
        example = ops[method]["responses"][status]["content"]["application/json"]["example"]
        stubs.append(
            {
                "request": {"method": method.upper(), "url": "/connectors"},
                "response": {
                    "status": int(status),
                    "jsonBody": example,
                    "headers": {"Content-Type": "application/json"},
                },
            }
        )
    (root / "mappings" / "connectors.json").write_text(json.dumps({"mappings": stubs}, indent=2))
    return root


def run(args: argparse.Namespace) -> int:
    if not shutil.which("wrk"):
        print("bench_server: needs wrk (apt-get install wrk)", file=sys.stderr)
        return 1
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {CLIENT_CPU})
    header = [
        f"bench_server: python {sys.version.split()[0]}, wrk -t2 -c32 pinned to CPU {CLIENT_CPU}, "
        f"each server pinned to CPU {SERVER_CPU}; {args.warmup}s warm-up + {args.duration}s measured per case; "
        f"{args.repeat} run(s), median (range)",
        f"load average before: {load_average()}",
    ]
    print("\n".join(header), flush=True)
    rows: dict[tuple[str, str], Row] = {}
    stores: dict[str, StoreRow] = {}

    def row(server: str, stack: str) -> Row:
        return rows.setdefault((server, stack), Row(server, stack))

    with tempfile.TemporaryDirectory(prefix="specmock-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for repeat in range(args.repeat):
            for stack, (loop, http_impl) in STACKS.items():
                store_here = args.store_stacks == "all" or stack == next(iter(STACKS))
                spec, list_file, create_file = measure_specmock(
                    stack,
                    loop,
                    http_impl,
                    args if store_here else argparse.Namespace(**{**vars(args), "store_items": 0}),
                    tmp,
                    repeat,
                )
                port = free_port()
                bare = measure_plain(
                    "bare Starlette", bare_argv(port, list_file, create_file, loop, http_impl), port, args, repeat
                )
                row("bare Starlette", stack).add(bare)
                r = row("specmock", stack)
                r.add(spec)
                r.get_ratio.append(spec["get"].rps / bare["get"].rps)
                r.post_ratio.append(spec["post"].rps / bare["post"].rps)
                if "big" in spec:
                    s = stores.setdefault(stack, StoreRow(stack))
                    s.items.append(spec["items"])
                    s.get_small.append(spec["small"][0])
                    s.post_small.append(spec["small"][1])
                    s.get_big.append(spec["big"][0])
                    s.post_big.append(spec["big"][1])
                    s.rss_big.append(spec["rss_big"])
                if args.baseline:
                    before, _, _ = measure_specmock(
                        stack,
                        loop,
                        http_impl,
                        argparse.Namespace(**{**vars(args), "store_items": 0}),
                        tmp,
                        repeat,
                        args.baseline,
                    )
                    b = row("specmock (baseline)", stack)
                    b.add(before)
                    b.get_ratio.append(before["get"].rps / bare["get"].rps)
                    b.post_ratio.append(before["post"].rps / bare["post"].rps)
                    print(
                        f"  run {repeat + 1} {stack} baseline: GET {before['get'].rps:,.0f}, "
                        f"POST {before['post'].rps:,.0f} req/s; start-up {before['startup_ms']:.0f} ms",
                        flush=True,
                    )
                print(
                    f"  run {repeat + 1} {stack}: GET {spec['get'].rps:,.0f} vs {bare['get'].rps:,.0f}, "
                    f"POST {spec['post'].rps:,.0f} vs {bare['post'].rps:,.0f} req/s; "
                    f"start-up {spec['startup_ms']:.0f} ms vs {bare['startup_ms']:.0f} ms",
                    flush=True,
                )
                if args.out:  # what is measured so far survives an interrupted run
                    args.out.write_text(table(list(rows.values()), list(stores.values()), args, header))
            if args.peers:
                for name, argv_for in peer_commands().items():
                    port = free_port()  # a port of its own: the last peer's process may still hold its port
                    try:
                        fig = measure_plain(name, argv_for(port), port, args, repeat)
                    except RuntimeError as exc:  # a peer that does not come up costs its row, not the run
                        print(f"  run {repeat + 1} {name}: skipped: {str(exc)[:300]}", flush=True)
                        continue
                    row(name, "its own").add(fig)
                    print(
                        f"  run {repeat + 1} {name}: GET {fig['get'].rps:,.0f}, POST {fig['post'].rps:,.0f}", flush=True
                    )
                    if args.out:
                        args.out.write_text(table(list(rows.values()), list(stores.values()), args, header))
    header.append(f"load average after: {load_average()}")
    text = table(list(rows.values()), list(stores.values()), args, header)
    print()
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="run everything N times; report median and range")
    parser.add_argument("--warmup", type=int, default=3, help="discarded seconds of load before each measurement")
    parser.add_argument("--duration", type=int, default=5, help="measured seconds per case and server")
    parser.add_argument("--p99-seconds", type=int, default=3, help="seconds of each small/big-store p99 measurement")
    parser.add_argument(
        "--store-items", type=int, default=100_000, help="connectors to create before the big-store p99 (0: skip)"
    )
    parser.add_argument(
        "--store-stacks",
        choices=["all", "fast"],
        default="all",
        help="stacks that get the big-store phase (fast: uvloop + httptools only; it takes minutes per stack)",
    )
    parser.add_argument("--peers", action="store_true", help="also measure Prism and WireMock from benchmarks/.peers")
    parser.add_argument("--out", type=Path, help="also write the markdown table to this file")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the specmock of another checkout (e.g. a git worktree of the last release), same run",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return run(args)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"bench_server: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
