"""Start-up benchmark: from spawning `specmock serve` to its first 200 on GET /connectors.

The target (issue 26) is at most 1.3x bare Starlette under the same uvicorn
(benchmarks/bare_app.py, `--bare`). For each of `--runs`
spawns of `specmock serve --scenario default --port 0` (the bundled specs) it
records:

- wall: spawn to the first 200 on GET /connectors (Authorization: Bearer x);
- cpu: the server's user + system CPU time at that moment, read from
  /proc/PID/stat (far steadier than wall time on a shared machine);

and prints the median and range of each. With `--importtime` it runs the
server once under `python -X importtime` and prints the heaviest top-level
imports, so a regression can be traced to the module that brought it.

`--phases` splits the start's CPU time by what it does, in fresh interpreters
(median of `--runs`): the interpreter, the command line, the modules the app
needs, reading the bundled documents (PyYAML's import and the parse), compiling
them, building the mock (router, state, the default scenario), the contract
routes in front, the first GET in-process, and uvicorn's import (which bare
Starlette pays too).

`--bare` also times bare_app.py for comparison. One spawn first warms the
OS's file cache; nothing else is kept between starts. Note: with
PYTHONDONTWRITEBYTECODE=1 and an editable install, every start compiles
specmock's sources (about 100 ms); a wheel install ships them compiled, and
`python -m compileall src` does the same for a checkout. This is a measurement, not a test: it
exits 0 whatever the figures are (1 only when a server cannot be started).

Run:  python benchmarks/bench_startup.py [--runs 10] [--bare] [--importtime] [--phases]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
AUTH = {"Authorization": "Bearer x"}
TIMEOUT = 60.0
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ms(pid: int) -> float:
    """User + system CPU of `pid` so far, in ms (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def first_200(argv: list[str], env: dict[str, str], path: str = "/connectors") -> tuple[float, float]:
    """Spawn `argv` (which prints "... listening on http://HOST:PORT"), poll `path`; (wall ms, cpu ms)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the socket listens
        if "listening on http://" not in line:
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        host_port = line.split("http://", 1)[1].split()[0]
        host, port = host_port.rsplit(":", 1)
        while time.perf_counter() - started < TIMEOUT:
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            try:
                conn.request("GET", path, headers=AUTH)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return (time.perf_counter() - started) * 1000, cpu_ms(proc.pid)
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.001)
        raise RuntimeError(f"no 200 on GET {path} within {TIMEOUT} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def specmock_argv() -> list[str]:
    """`specmock serve` as a user runs it (the console script), bundled specs, default scenario."""
    script = Path(sys.executable).parent / "specmock"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "specmock"]
    return [*base, "serve", "--scenario", "default", "--port", "0", "--log-level", "warning"]


def bare_argv(tmp: Path) -> list[str]:
    (tmp / "list.json").write_text(json.dumps({"data": []}))
    (tmp / "create.json").write_text("{}")
    return [sys.executable, str(HERE / "bare_app.py"), "--list-body", str(tmp / "list.json"),
            "--create-body", str(tmp / "create.json"), "--port", "0"]  # fmt: skip


def summary(name: str, figures: list[tuple[float, float]]) -> str:
    walls = [w for w, _ in figures]
    cpus = [c for _, c in figures]
    return (
        f"{name:<28} wall median {statistics.median(walls):6.0f} ms  range {min(walls):.0f}-{max(walls):.0f} ms"
        f"  | cpu median {statistics.median(cpus):6.0f} ms  range {min(cpus):.0f}-{max(cpus):.0f} ms"
    )


def import_split(env: dict[str, str]) -> str:
    """The heaviest imports of one `serve` start (cumulative µs), from python -X importtime."""
    argv = [sys.executable, "-X", "importtime", "-m", "specmock", *specmock_argv()[-7:]]
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # listening: every start-up import is done
        proc.terminate()
        proc.communicate(timeout=30)
        log.seek(0)
        err = log.read()
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not name.startswith("  "):  # one space: a top-level import, the rest are nested in it
            rows.append((int(cumulative), name.strip()))
    rows.sort(reverse=True)
    total = sum(c for c, _ in rows)
    lines = [f"imports at start-up: {total / 1000:.0f} ms in total; top-level ones:"]
    lines += [f"  {c / 1000:7.1f} ms  {n}" for c, n in rows[:15]]
    return "\n".join(lines)


#: One start, phase by phase, as `specmock serve --scenario default` does it; prints CPU ms per phase.
PHASES = """
import asyncio, json, sys, time
cpu = [("interpreter", time.process_time())]
def mark(name):
    cpu.append((name, time.process_time()))
from specmock._server.cli import parse_args
args = parse_args(["serve", "--scenario", "default", "--port", "0"])
mark("command line")
from specmock._server.memory import frozen_start_up
paused = frozen_start_up()  # as serve's build_app: no collector passes while building
paused.__enter__()
import specmock._server.app, specmock._runtime.state, specmock._server.admin_guard, specmock._contract.routes
mark("app modules")
from specmock._spec.bundled import bundled_specs
from specmock._spec.compiler import check_unique_families, compile_family
from specmock._spec.diagnostics import Diagnostics
from specmock._spec.spec_loader import read_document
from specmock._spec.yaml_lines import Document
read = []
for path in bundled_specs():
    diagnostics = Diagnostics(Document(path=path, data=None, lines={}))
    read.append((read_document(path, diagnostics), diagnostics))
mark("read documents (YAML)")
families = [compile_family(doc, diagnostics) for doc, diagnostics in read]
check_unique_families(families)
mark("compile documents")
from specmock._server.app import MockApp
app = MockApp(families=families, scenarios=["default"])
paused.__exit__(None, None, None)
mark("build the mock")
from specmock._contract.cli import serve_front
served, _ = serve_front(app, app)
mark("contract routes")
sent = []
async def first():
    scope = {"type": "http", "method": "GET", "path": "/connectors", "raw_path": b"/connectors",
             "query_string": b"", "headers": [(b"host", b"x"), (b"authorization", b"Bearer x")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1), "root_path": ""}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await served(scope, receive, send)
asyncio.run(first())
assert sent[0]["status"] == 200, sent[0]
mark("first GET (in-process)")
import uvicorn
from specmock._server.workers import served_protocol
served_protocol(args)
mark("uvicorn (bare pays it too)")
print(json.dumps([[name, (at - cpu[i - 1][1]) * 1000 if i else at * 1000] for i, (name, at) in enumerate(cpu)]))
"""


def phase_split(env: dict[str, str], runs: int) -> str:
    """The median CPU ms of each phase of a start (PHASES), over `runs` fresh interpreters."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES], capture_output=True, text=True, env=env, check=True)
        for name, ms in json.loads(out.stdout.strip().splitlines()[-1]):
            samples.setdefault(name, []).append(ms)
    total = sum(statistics.median(v) for v in samples.values())
    lines = [f"CPU by phase (median of {runs} starts; {total:.0f} ms in all):"]
    lines += [f"  {statistics.median(v):7.1f} ms  {name}" for name, v in samples.items()]
    return "\n".join(lines)


def uncompiled_sources() -> bool:
    """Whether specmock's modules lack bytecode they could reuse (PYTHONDONTWRITEBYTECODE on a checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("specmock._spec.model")
    if spec is None or not spec.origin:
        return False
    return not Path(importlib.util.cache_from_source(spec.origin)).exists()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--bare", action="store_true", help="also time bare_app.py")
    parser.add_argument("--importtime", action="store_true", help="print the import-time split of one start")
    parser.add_argument("--phases", action="store_true", help="print the CPU time of each phase of a start")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if uncompiled_sources():
            print("note: specmock's sources have no bytecode cache, so every start compiles them (about 100 ms);")
            print("      run `python -m compileall -q src` (or unset PYTHONDONTWRITEBYTECODE) to time it as installed")
        try:
            argv = specmock_argv()
            first_200(argv, env)  # warms the OS's file cache
            figures = [first_200(argv, env) for _ in range(args.runs)]
            print(summary("specmock", figures))
            if args.bare:
                bare = [first_200(bare_argv(Path(tmp)), env) for _ in range(args.runs)]
                print(summary("bare Starlette", bare))
        except RuntimeError as exc:
            print(f"bench_startup: {exc}", file=sys.stderr)
            return 1
        if args.importtime:
            print(import_split(env))
        if args.phases:
            print(phase_split(env, args.runs))
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
