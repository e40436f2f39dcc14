"""docs/state.md's commands and Python examples run as written (with a test Redis and a temporary folder)."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import start_server, stop_server
from redis_server import RedisServer
from specmock import MockApp

DOC = Path(__file__).resolve().parent.parent / "docs" / "state.md"
DOC_REDIS = "redis://localhost:6379/0"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_commands_and_examples() -> None:
    assert len(blocks("sh")) >= 4 and len(blocks("python")) >= 2


@pytest.mark.parametrize("command", [c.strip() for block in blocks("sh") for c in block.strip().splitlines()])
def test_each_command_serves(command: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    args = shlex.split(command)
    assert args[:2] == ["specmock", "serve"], command
    if DOC_REDIS in args:
        server: RedisServer = request.getfixturevalue("redis_server")
        args = [server.url if a == DOC_REDIS else a for a in args]
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args[2:]]
    served = start_server(*args)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{served.url}/__specmock/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{command} did not become healthy"
            time.sleep(0.2)
    finally:
        stop_server(served)


@pytest.mark.parametrize("example", blocks("python"))
def test_each_python_example_runs(
    example: str, redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(example.replace(DOC_REDIS, redis_server.url), str(DOC), "exec"), scope)
    apps = [value for value in scope.values() if isinstance(value, MockApp)]
    assert apps
    for app in apps:
        assert app.backend.status()["ok"] is True
        app.close()
