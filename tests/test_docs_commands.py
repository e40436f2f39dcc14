"""Every ```sh command in docs/cli.md and docs/dashboard.md runs, as written.

Each block runs in a folder holding the files the pages name (`openapi.yaml`, the
scenario `pets-down.yaml`, `overlay.yaml`), with `specmock` on PATH. A `specmock serve`
line starts the server (SPECMOCK_PORT=0, so it takes a free port; the page's
`127.0.0.1:8080` in the block's later lines is replaced by the address it printed) and
is stopped when the block ends. Every other line must exit 0; a curl line must not get
an error document back.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ("cli.md", "dashboard.md")
OPENAPI = """openapi: 3.1.0
info: {title: pets, version: "1"}
paths:
  /pets:
    get:
      operationId: ListPets
      responses: {"200": {description: ok}}
"""
SCENARIO = """name: pets-down
rules:
  - match: {operationId: ListPets}
    respond: {status: 503, allowUndocumented: true}
"""


def blocks() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for index, block in enumerate(re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)):
            lines = [line.split("  #")[0].strip() for line in block.splitlines()]
            found.append((f"{page}#{index}", [line for line in lines if line and not line.startswith("#")]))
    return found


BLOCKS = blocks()


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "openapi.yaml").write_text(OPENAPI)
    (tmp_path / "pets-down.yaml").write_text(SCENARIO)
    (tmp_path / "overlay.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: pets, version: '1'}\nextends: openapi.yaml\nactions: []\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "specmock"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m specmock "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SPECMOCK_PORT": "0", "PYTHONUNBUFFERED": "1"}
    env["SPECMOCK_ACCESS_LOG"] = "0"
    return tmp_path, env


def start(line: str, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        ["bash", "-c", line],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = []
    for output in process.stdout:
        seen.append(output)
        found = re.search(r"listening on (http://\S+)", output)
        if found:
            return process, found.group(1)
    process.wait(10)
    raise AssertionError(f"{line!r} did not start:\n{''.join(seen)}")


def test_the_pages_have_commands():
    assert {name.split("#")[0] for name, _ in BLOCKS} == set(PAGES)


@pytest.mark.parametrize(("name", "lines"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_every_documented_command_runs(name: str, lines: list[str], folder: tuple[Path, dict[str, str]]):
    cwd, env = folder
    servers: list[subprocess.Popen[str]] = []
    url = None
    try:
        for line in lines:
            if url is not None:
                line = line.replace("http://127.0.0.1:8080", url)
            if re.search(r"\bspecmock serve\b", line):
                process, url = start(line, cwd, env)
                servers.append(process)
                continue
            if line.startswith("curl") and shutil.which("curl") is None:
                pytest.skip("curl is not installed")
            done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            if line.startswith("curl"):
                assert not done.stdout.lstrip().startswith('{"error"'), f"{line}\n{done.stdout}"
    finally:
        for process in servers:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
