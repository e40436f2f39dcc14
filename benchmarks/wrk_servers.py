"""Server processes pinned to a core, and wrk runs against them, for the HTTP benchmarks.

A `Server` is one process on a port chosen here, pinned with taskset to SERVER_CPU (when taskset
is installed), timed from spawn to its first 200, and always stopped (`started` is the context
manager; a Ctrl-C while it starts leaves no process behind). `wrk` runs wrk -t2 -c32 pinned to
CLIENT_CPU with wrk_connectors.lua and reads the one summary line the script prints. RSS is read
from /proc (the process and its descendants), never from live objects.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_connectors.lua"
SERVER_CPU, CLIENT_CPU = 1, 0
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
