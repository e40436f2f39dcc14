"""Shared fixtures: the mock in-process, a client that checks every response
against the spec, and a real `specmock serve` process on 127.0.0.1, port 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# Every body the compiled check accepts is also run through jsonschema, here and in every
# `specmock serve` the tests start (they inherit the environment): a disagreement is a 500.
os.environ.setdefault("SPECMOCK_CROSS_CHECK", "1")

# PyYAML (its C extension) stays imported for the whole session: pytester's in-process runs drop
# the modules a run imported, and a second import of `yaml` beside the kept `_yaml` builds nodes
# without tags ("could not determine a constructor for the tag None") in every later run.
import specmock._spec.yaml_compose  # noqa: F401
from specmock import MockApp  # after the switch above, which is read at import
from specmock._testing.conformance import ResponseChecker
from specmock._testing.transport import SyncASGITransport

BEARER = {"Authorization": "Bearer YOUR_ACCESS_TOKEN"}
SDE_TOKEN = {"Authorization": 'Token "YOUR SDE ACCESS TOKEN"'}
ORG = "01HFS2NEAZ6ECZBZMN4FF775P7"
OTHER_ORG = "01HFS2NEAZ6ECZBZMN4FF775P8"
VERSORI = f"/api/connect/v1/o/{ORG}"
#: The params each SD Elements ALM system requires (specs/sdelements.yaml, AlmRequiredParams).
REQUIRED_ALM_PARAMS = {
    "github": ["alm_api_token", "alm_server"],
    "jira": ["alm_pass", "alm_server", "alm_user"],
    "rally": ["alm_api_token", "alm_server"],
    "trac": ["alm_pass", "alm_server", "alm_user"],
    "hp_alm": ["alm_pass", "alm_server", "alm_user"],
    "mingle": ["alm_pass", "alm_server", "alm_user"],
    "pivotal_tracker": ["alm_api_token", "alm_server"],
}
#: Valid `params` for each ALM system: its required params, filled.
ALM_PARAMS = {system: {name: f"{name} value" for name in names} for system, names in REQUIRED_ALM_PARAMS.items()}


def conformance_hook(app: MockApp) -> Any:
    """An httpx response hook that fails the test when a response breaks its own spec."""
    checker = ResponseChecker(app.router)

    def check(response: httpx.Response) -> None:
        response.read()
        raw_path = response.request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
        body = response.json() if response.content else None
        problems = checker.problems(
            response.request.method, raw_path, response.status_code, body, response.headers.get("content-type")
        )
        assert not problems, "\n".join(problems)

    return check


@pytest.fixture
def app() -> MockApp:
    return MockApp(seed=1)


@pytest.fixture
def client(app: MockApp) -> Iterator[httpx.Client]:
    """An in-process client whose every response is checked against the spec."""
    with httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://testserver",
        event_hooks={"response": [conformance_hook(app)]},
    ) as c:
        yield c


class Served:
    """A `specmock serve` process and its base URL."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `python -m specmock ARGS` to completion, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "specmock", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def start_server(*args: str, timeout: float = 20.0) -> Served:
    """Start `specmock serve --port 0 ARGS` and wait for its address."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "specmock", "serve", "--port", "0", "--log-level", "warning", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return Served(process, found.group(1))
    process.wait(timeout)
    raise RuntimeError("specmock serve did not start:\n" + "".join(lines))


def stop_server(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@pytest.fixture
def served() -> Iterator[Served]:
    """A fresh `specmock serve` for one test."""
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def seeded_server() -> Iterator[Served]:
    """One `specmock serve --seed 1` for a whole module (the dashboard's browser tests): each
    test makes, or resets to, the state it looks at."""
    server = start_server("--seed", "1")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def seeded_api(seeded_server: Served) -> Iterator[httpx.Client]:
    """A client of `seeded_server`, for the module."""
    with httpx.Client(base_url=seeded_server.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def expect() -> Any:
    """Playwright's `expect`, waiting up to 8 s (skips when Playwright is not installed)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    sync_api.expect.set_options(timeout=8_000)
    return sync_api.expect


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots/ when SPECMOCK_SCREENSHOTS=1 (how the docs'
    pictures are made), else a temporary folder, so a run never dirties the tree."""
    from dashboard_ui import SCREENSHOTS

    if os.environ.get("SPECMOCK_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for one test module (tests/chromium.py)."""
    from chromium import launched_browser

    with launched_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real redis-server on a free loopback port for one test module (skips when not installed)."""
    from redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
