"""Processes for the contract tests: the Widgets spec, providers, `specmock` commands, a consumer run.

Every process listens on 127.0.0.1 port 0 and says where ("listening on http://..."),
its stderr goes to a file in the test's folder (so the secret test greps it too),
and `stop` ends it by its own id.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
WIDGETS = HERE / "contract" / "widgets.yaml"
PROVIDER = HERE / "contract" / "provider.py"
SECRET = "Bearer s3cret-7d1f-token"
#: The Pact Foundation's verifier, from PyPI pact-python-cli (the test extra).
PACT_BIN = str(Path(sys.executable).with_name("pact"))
WRITE_ONLY = "write-only-93ab-key"


class Process:
    def __init__(self, argv: list[str], logs: Path, name: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = logs / f"{name}.log"
        with self.log.open("w") as err:
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                return
        self.process.wait(10)
        raise RuntimeError(f"{name} did not start:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def specmock(logs: Path, name: str, *args: str, quiet: bool = True) -> Process:
    """`specmock COMMAND ARGS` on port 0; `quiet`: no access log, warnings only (else every line, to its log)."""
    noise = ["--log-level", "warning", "--no-access-log"] if quiet else ["--log-level", "debug", "--access-log"]
    argv = [sys.executable, "-m", "specmock", *args, "--port", "0", *noise]
    return Process(argv, logs, name)


def provider(logs: Path, mode: str = "drifted") -> Process:
    return Process([sys.executable, str(PROVIDER), mode], logs, f"provider-{mode}")


def run(*args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specmock", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def consumer_run(url: str) -> list[httpx.Response]:
    """What a consumer's tests do: create, read, list, update, delete, then keep a second widget."""
    with httpx.Client(base_url=url, headers={"Authorization": SECRET}, timeout=10) as client:
        first = client.post("/widgets", json={"name": "sprocket", "color": "red", "apiKey": WRITE_ONLY})
        key = first.json()["id"]
        answers = [
            first,
            client.get(f"/widgets/{key}"),
            client.get("/widgets"),
            client.patch(f"/widgets/{key}", json={"color": "green"}),
            client.delete(f"/widgets/{key}"),
        ]
        second = client.post("/widgets", json={"name": "gear", "color": "green", "apiKey": WRITE_ONLY})
        answers += [second, client.get(f"/widgets/{second.json()['id']}")]
        return answers


def files_holding(folder: Path, *needles: str) -> list[str]:
    """Files under `folder` that hold any of `needles`."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            if any(n.encode() in text for n in needles):
                found.append(str(path))
    return found


def planted() -> set[tuple[Any, ...]]:
    """The three differences tests/contract/provider.py plants, as (operation, status, kind, pointer)."""
    return {
        ("getWidget", 200, "missing-required", "/createdAt"),
        ("listWidgets", 200, "enum", "/0/color"),
        ("deleteWidget", 200, "undeclared-status", ""),
    }
