"""HTTP benchmark: `specmock serve` against a bare Starlette app, side by side, in one run.

Measures requests per second and p50/p99 latency for GET /connectors (a list of
a fixed size) and POST /connectors (create, with request validation) on both
servers, and prints specmock's throughput as a share of the bare app's, against
the targets of the issue: at least 50% on GET and 35% on POST.

The bare app (bare_app.py) returns byte-for-byte what specmock returned and is
served by uvicorn with the same settings, so the ratio isolates specmock's own
request path. Both servers are measured in the same run, in alternating rounds,
because absolute figures drift between runs and machines (and with whatever
else the machine is doing); the ratio is what to compare over time.

This is a measurement, not a test: it exits 0 whatever the figures are (1 only
if a server cannot be started or answers wrongly before measuring).

Run:  python benchmarks/bench_http.py [--duration 6] [--rounds 3] [--connections 16]
Load: wrk (apt-get install wrk) with wrk_connectors.lua; without wrk, a Python
client (loadgen.py), which the output flags.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_connectors.lua"
TARGETS = {"GET": 0.50, "POST": 0.35}
SEED_CONNECTORS = 10
AUTH = {"Authorization": "Bearer x"}
READY = re.compile(rb"listening on http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 30.0
SERVER_CPU, CLIENT_CPU = 1, 0


def server_env() -> dict[str, str]:
    """This environment without SPECMOCK_* settings, so a scenario or option left in the shell cannot skew a run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}


def specmock_argv() -> tuple[list[str], str]:
    """The `specmock serve` command line, and how its access log was turned off.

    The bare app logs nothing per request, so specmock's own access log (a JSON
    line per request, on by default in newer versions) is switched off when
    this specmock has the option; older ones only had uvicorn's, which
    --log-level warning already silences.
    """
    argv = [sys.executable, "-m", "specmock", "serve", "--port", "0", "--log-level", "warning"]
    help_text = subprocess.run(
        [*argv[:4], "--help"], capture_output=True, text=True, timeout=60, check=False, env=server_env()
    ).stdout
    if "--no-access-log" in help_text:
        return [*argv, "--no-access-log"], "off (--no-access-log; uvicorn's off too)"
    return argv, "off (log level warning)"


def create_body(name: str) -> bytes:
    """The POST /connectors body the issue specifies; wrk_connectors.lua sends the same shape."""
    config = {"apiUrl": "https://api.github.com", "token": "ghp_x", "organization": "example-org"}
    return json.dumps({"type": "github", "name": name, "config": config}).encode()


@dataclass
class Slice:
    """One load-generator run against one server."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Measurement:
    """All the rounds of one case on one server.

    Throughput is total requests over total time; p50/p99 are the medians of
    the rounds' own percentiles, since wrk reports percentiles, not histograms.
    """

    case: str
    server: str
    slices: list[Slice] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.slices)

    @property
    def rps(self) -> float:
        seconds = sum(s.seconds for s in self.slices)
        return self.requests / seconds if seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(s.p50_ms for s in self.slices)

    @property
    def p99_ms(self) -> float:
        return statistics.median(s.p99_ms for s in self.slices)

    @property
    def non_2xx(self) -> int:
        return sum(s.non_2xx for s in self.slices)

    @property
    def socket_errors(self) -> int:
        return sum(s.socket_errors for s in self.slices)


class Server:
    """A server subprocess on 127.0.0.1, port 0; the port is read from its 'listening on' line.

    stdout keeps being drained by a thread so a chatty server can never block on a full pipe.
    """

    def __init__(self, name: str, argv: list[str], pin: bool) -> None:
        self.name = name
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr, cwd=HERE, env=server_env())
        if pin:
            # The server gets its own core, away from the load generator (the bench process's core).
            with contextlib.suppress(OSError):
                os.sched_setaffinity(self.proc.pid, {SERVER_CPU})
        assert self.proc.stdout is not None
        port, output = self._wait_ready(self.proc.stdout)
        if port is None:
            # Stop it first (it may still be running, or still writing its traceback), then say why.
            self.stop(keep_log=True)
            log = self.stderr_text()[-2000:]
            self.stderr.close()
            raise RuntimeError(f"{name} did not start: {output.decode(errors='replace')}{log}")
        self.port = port
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()

    def _wait_ready(self, stdout: IO[bytes]) -> tuple[int | None, bytes]:
        deadline = time.monotonic() + START_TIMEOUT
        buffer = b""
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not sel.select(timeout=0.2):
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
                found = READY.search(buffer)
                if found:
                    return int(found.group(1)), buffer
        return None, buffer

    @staticmethod
    def _drain(stdout: IO[bytes]) -> None:
        while stdout.read(65536):
            pass

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def request(self, method: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request to /connectors, with the bearer header (and JSON content type for a body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {**AUTH, "Content-Type": "application/json"} if body is not None else AUTH
            conn.request(method, "/connectors", body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self, keep_log: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not keep_log:
            self.stderr.close()


@contextlib.contextmanager
def started(name: str, argv: list[str], pin: bool) -> Iterator[Server]:
    """A running Server that is stopped however the block ends."""
    server = Server(name, argv, pin)
    try:
        yield server
    finally:
        server.stop()


def expect(condition: bool, message: str) -> None:
    """Fail before measuring: figures from wrong answers (401s, 409s, 404s) would be meaningless."""
    if not condition:
        raise RuntimeError(f"unexpected response: {message}")


def seed_specmock(spec: Server) -> tuple[bytes, bytes]:
    """Create the fixed list on specmock, check its answers, return (list body, one create body)."""
    created = b""
    names = [f"seed-{i:02d}" for i in range(SEED_CONNECTORS)]
    for name in names:
        status, created = spec.request("POST", create_body(name))
        expect(status == 201, f"specmock POST /connectors gave {status}: {created[:200]!r}")
        expect(json.loads(created).get("name") == name, f"specmock create did not echo the name: {created[:200]!r}")
    status, listed = spec.request("GET")
    expect(status == 200, f"specmock GET /connectors gave {status}: {listed[:200]!r}")
    items = json.loads(listed)
    expect(
        isinstance(items, list) and [i.get("name") for i in items] == names,
        f"specmock list is not the {SEED_CONNECTORS} seeded connectors: {listed[:200]!r}",
    )
    return listed, created


def check_bare(bare: Server, listed: bytes, created: bytes) -> None:
    status, body = bare.request("GET")
    expect(status == 200 and body == listed, f"bare GET gave {status}, same bytes: {body == listed}")
    status, body = bare.request("POST", create_body("anything"))
    expect(status == 201 and body == created, f"bare POST gave {status}, same bytes: {body == created}")


def load(server: Server, mode: str, prefix: str, duration: int, connections: int, use_wrk: bool) -> dict[str, Any]:
    """One load-generator run; returns its WRK_JSON summary (the same from wrk and loadgen.py)."""
    if use_wrk:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA_SCRIPT)]
        argv += [f"http://127.0.0.1:{server.port}", "--", mode, prefix]
    else:
        argv = [sys.executable, str(HERE / "loadgen.py"), "--port", str(server.port), "--mode", mode]
        argv += ["--prefix", prefix, "--duration", str(duration), "--connections", str(connections)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            summary: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
            return summary
    raise RuntimeError(f"no summary from {argv[0]} (exit {out.returncode}): {out.stdout[-500:]}{out.stderr[-500:]}")


def to_slice(summary: dict[str, Any]) -> Slice:
    return Slice(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        non_2xx=summary["non2xx3xx"],
        socket_errors=summary["connect"] + summary["read"] + summary["write"] + summary["timeout"],
    )


def measure_case(
    case: str, servers: list[Server], slice_seconds: int, warmup: int, rounds: int, connections: int, use_wrk: bool
) -> list[Measurement]:
    """Warm each server up (discarded), then `rounds` alternating slices of `slice_seconds` each.

    The order flips every round (A B, B A, ...) so a slow drift of the machine (another
    process, thermal limits) hits both servers alike instead of whichever ran second.
    POST names carry a per-run prefix, so no name repeats on a server.
    """
    mode = case.lower()
    if warmup > 0:
        for server in servers:
            load(server, mode, f"warm-{server.name}", warmup, connections, use_wrk)
    results = {server.name: Measurement(case, server.name) for server in servers}
    for r in range(rounds):
        for server in servers if r % 2 == 0 else servers[::-1]:
            summary = load(server, mode, f"r{r}-{server.name}", slice_seconds, connections, use_wrk)
            results[server.name].slices.append(to_slice(summary))
    return [results[server.name] for server in servers]


def uvicorn_implementations() -> str:
    """What uvicorn's "auto" loop and http settle on in this interpreter (both servers use it)."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"loop={loop}, http={http}"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine is the usual reason two runs disagree."""
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def report(results: list[Measurement], store_size: int | None) -> None:
    print()
    header = ("case", "server", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "sockerr")
    print("(p50/p99: median of the rounds)")
    print("{:<5} {:<9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8}".format(*header))
    for m in results:
        print(
            f"{m.case:<5} {m.server:<9} {m.rps:>9.0f} {m.p50_ms:>8.2f} {m.p99_ms:>8.2f} "
            f"{m.requests:>9} {m.non_2xx:>8} {m.socket_errors:>8}"
        )
    print()
    by_key = {(m.case, m.server): m for m in results}
    for case, target in TARGETS.items():
        spec, bare = by_key[(case, "specmock")], by_key[(case, "bare")]
        ratio = spec.rps / bare.rps if bare.rps else 0.0
        verdict = "PASS" if ratio >= target else "FAIL"
        pairs = zip(spec.slices, bare.slices, strict=True)
        per_round = ", ".join(f"{a.rps / b.rps:.0%}" if b.rps else "-" for a, b in pairs)
        print(
            f"{case:<5} specmock/bare throughput {ratio:6.1%}  target >= {target:.0%}  {verdict}  rounds: {per_round}"
        )
    bad = [m for m in results if m.non_2xx or m.socket_errors]
    if bad:
        print()
        for m in bad:
            print(f"WARNING: {m.case} {m.server}: {m.non_2xx} non-2xx/3xx responses, {m.socket_errors} socket errors")
    if store_size is not None:
        print(f"\nspecmock held {store_size} connectors after the POST runs (each create checks name uniqueness).")


def run(duration: float, warmup: int, rounds: int, connections: int, pin: bool) -> int:
    # wrk takes whole seconds only, so each round gets at least one, and the total is rounded to match.
    slice_seconds = max(1, round(duration / rounds))
    use_wrk = shutil.which("wrk") is not None
    pin = pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})  # inherited by wrk / loadgen.py
    print("specmock HTTP benchmark: specmock serve vs bare Starlette, same uvicorn settings")
    spec_argv, access = specmock_argv()
    print(f"python {sys.version.split()[0]}, uvicorn {uvicorn_implementations()}, 1 process each")
    print(f"log level warning, access log {access}; specmock: {' '.join(spec_argv[2:])}")
    loadgen = "wrk -t1 (wrk_connectors.lua)"
    if not use_wrk:
        loadgen = "loadgen.py (wrk NOT found: Python client; if it saturates first, ratios are squeezed toward 1)"
    print(f"load: {loadgen}, {connections} connections")
    measured = f"{slice_seconds * rounds}s measured in {rounds} alternating rounds of {slice_seconds}s"
    print(f"per case and server: {warmup}s warm-up, then {measured}")
    print(f"cpu pinning: {f'servers on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}' if pin else 'off'}")
    print(f"load average before: {load_average()} (anything well above 0 on this machine skews the figures)")
    results: list[Measurement] = []
    store_size: int | None = None
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="specmock-bench-")))
        spec = stack.enter_context(started("specmock", spec_argv, pin))
        listed, created = seed_specmock(spec)
        (tmp / "list.json").write_bytes(listed)
        (tmp / "create.json").write_bytes(created)
        bare_argv = [sys.executable, str(HERE / "bare_app.py"), "--list-body", str(tmp / "list.json")]
        bare_argv += ["--create-body", str(tmp / "create.json"), "--port", "0", "--log-level", "warning"]
        bare = stack.enter_context(started("bare", bare_argv, pin))
        check_bare(bare, listed, created)
        print(f"checked: specmock 201 on POST, 200 on GET ({SEED_CONNECTORS} items, {len(listed)} B); bare: same bytes")
        # GET first, while specmock's list is still exactly the seeded one; POSTs only after.
        for case in ("GET", "POST"):
            for m in measure_case(case, [spec, bare], slice_seconds, warmup, rounds, connections, use_wrk):
                print(f"  {case:<4} {m.server:<8} {m.rps:8.0f} req/s", flush=True)
                results.append(m)
        status, body = spec.request("GET")
        if status == 200:
            store_size = len(json.loads(body))
    report(results, store_size)
    print(f"load average after: {load_average()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--duration", type=float, default=6, help="measured seconds per case and server, over all rounds (default 6)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="discarded seconds per case and server first (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating slices the duration is split in (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and client to separate CPUs")
    args = parser.parse_args(argv)
    # SIGTERM would otherwise end the process without unwinding, leaving both servers running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return run(args.duration, args.warmup, max(1, args.rounds), args.connections, pin=not args.no_pin)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"bench_http: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
