"""Memory benchmark: what `specmock serve` holds idle and after N creates, and whether reads stay fast.

One specmock server on uvloop + httptools (127.0.0.1, port 0: it prints the port it
took), the bundled documents and the default scenario, measured in phases:

1. idle: RSS once it answered its first GET /connectors (the base process: imports,
   compiled documents, fixtures);
2. small store (the fixtures plus 10 created connectors): GET /connectors req/s and
   GET /connectors/{id} req/s and p99 (wrk, as bench_server.py runs it), RSS;
3. fill: POST /connectors until the store holds `--items` connectors (100k), then
   RSS and the bytes each created connector added (RSS growth over connectors made;
   the journal's bounded share is in it);
4. big store: GET /connectors/{id} and POST p99 again (target: p99 within 2x of
   the small store; RSS target: 80 MB after 100k creates).

The server is pinned to one core and wrk to the other, as in bench_server.py. It is a
measurement, not a test: it exits 0 whatever the figures are (1 when the server
cannot be started or answers wrongly).

Run:  python benchmarks/bench_memory.py [--items 100000] [--seconds 3] [--baseline CHECKOUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench_server import specmock_argv
from wrk_servers import HERE, Load, Server, create_body, rss_mb, server_env, wrk

LISTENING = re.compile(rb"listening on http://[^:]+:(\d+)")


class PortZeroServer(Server):
    """A specmock server started with --port 0: its port is read from the line it prints."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.name = "specmock"
        self.created = 0
        self.log = subprocess.PIPE  # type: ignore[assignment]
        started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=HERE, env=env)
        self._seen = b""
        try:
            self.port = self._read_port(started + 120)
            # Keep reading what it prints (the last 8 KB kept): a full pipe would stall the server.
            threading.Thread(target=self._drain, daemon=True).start()
            self.startup_ms = self._wait_ready("/connectors", started)
        except BaseException:
            self.stop()
            raise

    def _read_port(self, deadline: float) -> int:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while time.perf_counter() < deadline and self.proc.poll() is None:
                if selector.select(timeout=0.5):
                    self._seen += self.proc.stdout.read1(4096)  # type: ignore[attr-defined]
                    if match := LISTENING.search(self._seen):
                        return int(match.group(1))
        raise RuntimeError(f"specmock printed no port: {self._seen[-2000:].decode(errors='replace')}")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):  # closed by stop()
            while chunk := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
                self._seen = (self._seen + chunk)[-8192:]

    def output(self) -> str:
        return self._seen.decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def specmock(src: Path | None) -> Iterator[PortZeroServer]:
    """`specmock serve` on 127.0.0.1 port 0, uvloop + httptools, pinned to the server core."""
    argv = specmock_argv(0, "uvloop", "httptools")
    argv = [sys.executable, "-m", "specmock", *argv[argv.index("serve") :], "--host", "127.0.0.1"]
    env = server_env()
    if src is not None:
        env["PYTHONPATH"] = str(src / "src")
    server = PortZeroServer(["taskset", "-c", "1", *argv], env)
    try:
        yield server
    finally:
        server.stop()


def figures(load: Load) -> dict[str, float]:
    return {"rps": round(load.rps), "p99_ms": round(load.p99_ms, 2), "wrong": load.non_2xx + load.errors}


def measure(args: argparse.Namespace, src: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with specmock(src) as server:
        out["startup_ms"] = round(server.startup_ms)
        time.sleep(0.5)
        out["rss_idle_mb"] = round(rss_mb(server.proc.pid), 1)
        created = b""
        for i in range(10):
            status, created = server.request("POST", "/connectors", create_body(f"seed-{i:02d}"))
            if status != 201:
                raise RuntimeError(f"POST /connectors gave {status}: {created[:200]!r}")
        one = f"/connectors/{json.loads(created)['id']}"
        wrk(server, "get", "w", 1)
        out["small_list"] = figures(wrk(server, "get", "l", args.seconds))
        out["small_get"] = figures(wrk(server, "get", "g", args.seconds, one))
        out["rss_small_mb"] = round(rss_mb(server.proc.pid), 1)
        before, made = rss_mb(server.proc.pid), server.created
        out["small_post"] = figures(wrk(server, "post", "sp", 1))
        chunk = 0
        while server.created + 10 < args.items:
            chunk += 1
            was = server.created
            wrk(server, "post", f"fill{chunk}", max(1, min(5, (args.items - server.created) // 12_000)))
            if server.created == was:
                raise RuntimeError(f"nothing stored while filling (at {server.created:,})")
        out["items"] = server.created + 13  # the 3 fixtures and 10 seeds
        out["rss_big_mb"] = round(rss_mb(server.proc.pid), 1)
        out["bytes_per_create"] = round((rss_mb(server.proc.pid) - before) * 1024 * 1024 / (server.created - made))
        out["big_get"] = figures(wrk(server, "get", "bg", args.seconds, one))
        out["big_post"] = figures(wrk(server, "post", "bp", args.seconds))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="connectors in the big store")
    parser.add_argument("--seconds", type=int, default=3, help="measured seconds per wrk run")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT", help="also measure another checkout's specmock")
    args = parser.parse_args(argv)
    runs = {"this": None, **({"baseline": args.baseline} if args.baseline else {})}
    try:
        for name, src in runs.items():
            print(name, json.dumps(measure(args, src), indent=1), flush=True)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"bench_memory: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
