"""Server benchmark: specmock against bare Starlette on the same server stack, in one run.

For each server stack uvicorn offers (uvloop + httptools, the fast one, and
asyncio + h11, the pure-Python fallback) it runs `specmock serve` and the bare
Starlette app of bare_app.py (which answers the same bytes), and measures:

- GET /connectors (the default scenario's connectors plus 10 created ones) and
  POST /connectors (every POST names a new connector, so every answer is a 201):
  requests per second, p99, and specmock's throughput as a share of the bare
  app's on the same stack (the issue's target: >= 0.75x);
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
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_connectors.lua"
PEERS = HERE / ".peers"
PEER_SPEC = HERE / "peer-spec.yaml"
SERVER_CPU, CLIENT_CPU = 1, 0
SEED_CONNECTORS = 10
STACKS = {"uvloop + httptools": ("uvloop", "httptools"), "asyncio + h11": ("asyncio", "h11")}
TARGET_RATIO = 0.75
BENCH_MAX_ITEMS = 10_000_000
AUTH = {"Authorization": "Bearer x"}
START_TIMEOUT = 120.0  # WireMock on a loaded 2-core machine can take most of a minute


def free_port() -> int:
    """A port nothing listens on now, so start-up can be timed by polling it from the spawn on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    """This environment without SPECMOCK_* settings, so nothing left in the shell can skew a run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}


def create_body(name: str) -> bytes:
    """The POST /connectors body; wrk_connectors.lua sends the same shape."""
    config = {"apiUrl": "https://api.github.com", "token": "ghp_x", "organization": "example-org"}
    return json.dumps({"type": "github", "name": name, "config": config}).encode()


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants (npx/java launchers), in MB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
    return total / 1024


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


class Server:
    """One server process, pinned to SERVER_CPU, on a port chosen here; `startup_ms` is spawn to first 200."""

    def __init__(
        self, name: str, argv: list[str], port: int, ready_path: str = "/connectors", env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.port = port
        self.created = 0  # 2xx answers to POSTs so far (each a new connector on specmock)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        pinned = ["taskset", "-c", str(SERVER_CPU), *argv] if shutil.which("taskset") else argv
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            pinned,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=HERE,
            env=env or server_env(),
        )
        try:
            self.startup_ms = self._wait_ready(ready_path, started)
        except BaseException:  # Ctrl-C or SIGTERM while it starts: no server left behind
            self.stop()
            raise

    def _wait_ready(self, path: str, started: float) -> float:
        deadline = started + START_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = self.request("GET", path, timeout=2)
            except OSError:
                time.sleep(0.002)
                continue
            if status == 200:
                return (time.perf_counter() - started) * 1000
            time.sleep(0.002)
        output = self.output()[-2000:]
        code = self.proc.poll()
        why = f"exited with {code}" if code is not None else f"no 200 within {START_TIMEOUT:.0f} s"
        raise RuntimeError(f"{self.name} did not answer 200 on GET {path} ({why}): {output}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None, timeout: float = 10) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {**AUTH, "Content-Type": "application/json"} if body is not None else AUTH
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # taskset execs the server: this is the server itself
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self.log.closed:
            self.log.close()


@contextlib.contextmanager
def started(
    name: str, argv: list[str], port: int, ready_path: str = "/connectors", env: dict[str, str] | None = None
) -> Iterator[Server]:
    server = Server(name, argv, port, ready_path, env)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Load:
    """One wrk run: its summary line, as wrk_connectors.lua writes it."""

    requests: int
    seconds: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(server: Server, mode: str, prefix: str, seconds: int, path: str = "/connectors") -> Load:
    """wrk -t2 -c32 on CLIENT_CPU against `server`; POST names carry `prefix`, unique per call."""
    argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(LUA_SCRIPT)]
    argv += [f"http://127.0.0.1:{server.port}", "--", mode, prefix, path]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", str(CLIENT_CPU), *argv]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            s = json.loads(line.removeprefix("WRK_JSON "))
            errors = s["connect"] + s["read"] + s["write"] + s["timeout"]
            if mode == "post":
                server.created += s["requests"] - s["non2xx3xx"]
            return Load(s["requests"], s["duration_us"] / 1e6, s["p99_us"] / 1000, s["non2xx3xx"], errors)
    raise RuntimeError(f"no summary from wrk (exit {out.returncode}): {out.stdout[-500:]}{out.stderr[-500:]}")


def warm_then_measure(
    server: Server, mode: str, tag: str, warmup: int, seconds: int, path: str = "/connectors"
) -> Load:
    if warmup > 0:
        wrk(server, mode, f"w{tag}", warmup, path)
    return wrk(server, mode, f"m{tag}", seconds, path)


@dataclass
class Row:
    """One server's figures over the repeats (one value per repeat in each list)."""

    server: str
    stack: str
    get_rps: list[float] = field(default_factory=list)
    get_p99: list[float] = field(default_factory=list)
    post_rps: list[float] = field(default_factory=list)
    post_p99: list[float] = field(default_factory=list)
    startup_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    get_ratio: list[float] = field(default_factory=list)
    post_ratio: list[float] = field(default_factory=list)
    wrong: int = 0

    def add(self, figures: dict[str, Any]) -> None:
        """One repeat's figures for this server (as measure_plain and measure_specmock return them)."""
        self.get_rps.append(figures["get"].rps)
        self.get_p99.append(figures["get"].p99_ms)
        self.post_rps.append(figures["post"].rps)
        self.post_p99.append(figures["post"].p99_ms)
        self.startup_ms.append(figures["startup_ms"])
        self.rss_mb.append(figures["rss_mb"])
        self.wrong += figures["wrong"]


@dataclass
class StoreRow:
    """specmock's p99 on a small store and on a big one, and its RSS once the big one is built."""

    stack: str
    items: list[int] = field(default_factory=list)
    get_small: list[float] = field(default_factory=list)
    get_big: list[float] = field(default_factory=list)
    post_small: list[float] = field(default_factory=list)
    post_big: list[float] = field(default_factory=list)
    rss_big: list[float] = field(default_factory=list)


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


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """The median, and the range when there are several runs."""
    if not values:
        return "-"
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def ratio_text(values: Sequence[float]) -> str:
    if not values:
        return "-"
    mid = statistics.median(values)
    mark = "" if mid >= TARGET_RATIO else " (below 0.75)"
    if len(values) == 1:
        return f"{mid:.2f}x{mark}"
    return f"{mid:.2f}x ({min(values):.2f}-{max(values):.2f}){mark}"


def table(rows: list[Row], stores: list[StoreRow], args: argparse.Namespace, header: list[str]) -> str:
    lines = [*header, ""]
    lines.append(
        "| server | stack | GET req/s | GET vs bare | GET p99 ms | POST req/s | POST vs bare | POST p99 ms "
        "| start-up to first 200 ms | RSS after the run MB |"
    )
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        lines.append(
            f"| {r.server} | {r.stack} | {spread(r.get_rps)} | {ratio_text(r.get_ratio)} | "
            f"{spread(r.get_p99, '{:.1f}')} | {spread(r.post_rps)} | {ratio_text(r.post_ratio)} | "
            f"{spread(r.post_p99, '{:.1f}')} | {spread(r.startup_ms)} | {spread(r.rss_mb)} |"
        )
    if stores:
        lines += [
            "",
            f"specmock with a big store ({args.store_items:,} connectors created by POST) vs a small one:",
            "",
        ]
        lines.append(
            "| stack | items | GET /connectors/{id} p99 ms small -> big | POST p99 ms small -> big "
            "| RSS after the POSTs MB |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: |")
        for s in stores:
            get_x = [b / a for a, b in zip(s.get_small, s.get_big, strict=True) if a]
            post_x = [b / a for a, b in zip(s.post_small, s.post_big, strict=True) if a]
            lines.append(
                f"| {s.stack} | {spread(s.items)} | {spread(s.get_small, '{:.1f}')} -> {spread(s.get_big, '{:.1f}')}"
                f" ({spread(get_x, '{:.1f}')}x) | {spread(s.post_small, '{:.1f}')} -> "
                f"{spread(s.post_big, '{:.1f}')} ({spread(post_x, '{:.1f}')}x) | {spread(s.rss_big)} |"
            )
    wrong = [r for r in rows if r.wrong]
    for r in wrong:
        lines.append(f"\nWARNING: {r.server} ({r.stack}): {r.wrong} non-2xx answers or socket errors during the load")
    return "\n".join(lines) + "\n"


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
