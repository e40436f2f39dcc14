"""What specmock's HTTP protocol costs: server CPU per GET /connectors, guarded against plain httptools.

`specmock serve` runs uvicorn's httptools protocol with read timeouts and the hand-over to h11
(src/specmock/_server/httpprotocol.py, slow_clients.py). This runs the same `serve` twice, on
uvloop + httptools, pinned to one core: once as users get it ("guarded"), once with uvicorn's
plain HttpToolsProtocol swapped in for the benchmark only ("plain"). Each round runs a bounded
wrk (-t1 -c16, on the other core) and reads the server's CPU time (utime + stime from
/proc/PID/stat) before and after, so the figure is CPU per request, not a rate that shifts with
whatever else the machine runs. Rounds alternate the two servers; the median of each is printed.

    python benchmarks/protocol_cost.py [--rounds 3] [--seconds 5] [--variants plain,guarded,plain,guarded]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from wrk_servers import CLIENT_CPU, LUA_SCRIPT, Server, free_port, server_env  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def serve_argv(port: int, variant: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        variant,
        "serve",
        "--port",
        str(port),
        "--scenario",
        "default",
        "--log-level",
        "warning",
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]


def child(variant: str, argv: list[str]) -> int:
    """Run `specmock serve`; "plain" swaps in uvicorn's own httptools protocol."""
    from specmock._server.cli import main
    from specmock._server.cli import serve as serve_module

    if variant == "plain":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        serve_module.served_protocol = lambda args: HttpToolsProtocol  # type: ignore[attr-defined]
    sys.argv = ["specmock", *argv]
    result: int = main()
    return result


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


def wrk_requests(port: int, seconds: int) -> int:
    argv = ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}", "--", "get"]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", str(CLIENT_CPU), *argv]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
    import json

    summary = json.loads(line.removeprefix("WRK_JSON "))
    if summary["non2xx3xx"]:
        raise RuntimeError(f"{summary['non2xx3xx']} answers were not 2xx")
    requests: int = summary["requests"]
    return requests


def measure(server: Server, seconds: int) -> tuple[float, float]:
    """(µs of server CPU per request, requests per second) of one wrk run."""
    before = cpu_seconds(server.proc.pid)
    requests = wrk_requests(server.port, seconds)
    used = cpu_seconds(server.proc.pid) - before
    return used / requests * 1e6, requests / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--variants", default="guarded,plain", help="e.g. plain,plain for the noise")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        return child(args.child, rest)
    servers: dict[str, Server] = {}
    variants = {f"{name} ({n})": name for n, name in enumerate(args.variants.split(","), 1)}
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    try:
        for label, variant in variants.items():
            port = free_port()
            servers[label] = Server(label, serve_argv(port, variant), port, env=server_env())
            if args.warmup:
                wrk_requests(port, args.warmup)
        for _ in range(args.rounds):
            for variant, server in servers.items():
                results[variant].append(measure(server, args.seconds))
    finally:
        for server in servers.values():
            server.stop()
    for variant, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        rps = statistics.median(r[1] for r in runs)
        each = ", ".join(f"{r[0]:.1f}" for r in runs)
        print(f"{variant:12} {cpu:5.1f} µs CPU/request (runs: {each})  {rps:,.0f} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
