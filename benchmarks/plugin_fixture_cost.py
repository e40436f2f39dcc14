"""What a test pays for the `specmock` fixture, part (a) of bench_plugin.py.

A generated file of N trivial tests (each makes one POST /connectors, so the reset has state and
a journal to discard) runs under `pytest.main` in this process, with a small plugin timing the
`specmock` fixture's setup and each test's teardown; the first test also builds the app and is
reported apart. `measure_fixture_alone` times the fixture's own per-test work without pytest
around it, as a cross-check. Also here: the credentials and the connector body every
measurement sends.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from specmock._testing.handle import Handle
from timing_samples import Samples

AUTH = {"Authorization": "Bearer bench"}
CONFIG = {"apiUrl": "https://api.github.com", "token": "ghp_x", "organization": "example-org"}

TEST_FILE = """
AUTH = {auth!r}
BODY = {{"type": "github", "name": "Bench", "config": {config!r}}}
{tests}"""
TEST_FUNC = """
def test_{i}(specmock):
    assert specmock.client.post("/connectors", json=BODY, headers=AUTH).status_code == 201
"""


def connector(name: str) -> dict[str, Any]:
    return {"type": "github", "name": name, "config": CONFIG}


# -- (a) fixture cost ---------------------------------------------------------------------------


class FixtureTimer:
    """A pytest plugin timing the specmock fixture's setup and every test's teardown."""

    def __init__(self) -> None:
        self.setup: dict[str, tuple[int, int]] = {}
        self.teardown: dict[str, tuple[int, int]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
        if fixturedef.argname != "specmock":
            return (yield)
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        try:
            return (yield)
        finally:
            self.setup[request.node.nodeid] = (time.perf_counter_ns() - wall, time.thread_time_ns() - cpu)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        try:
            return (yield)
        finally:
            self.teardown[item.nodeid] = (time.perf_counter_ns() - wall, time.thread_time_ns() - cpu)


@dataclass
class FixtureCost:
    first_ms: float
    setup: Samples
    teardown: Samples
    outcome: str
    alone: Samples = field(default_factory=Samples)


def measure_fixture(n_tests: int) -> FixtureCost:
    """Run N generated tests under pytest in this process and time the fixture around each."""
    timer = FixtureTimer()
    with tempfile.TemporaryDirectory(prefix="specmock-bench-") as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")  # keep the project's addopts out of the measurement
        tests = "".join(TEST_FUNC.format(i=i) for i in range(n_tests))
        (root / "test_generated.py").write_text(TEST_FILE.format(auth=AUTH, config=CONFIG, tests=tests))
        args = [str(root), "-c", str(root / "pytest.ini"), "--rootdir", str(root), "-q", "-p", "no:cacheprovider"]
        args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]  # specmock is imported before pytest.main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = pytest.main(args, plugins=[timer])
    if code != 0:
        raise RuntimeError(f"the generated tests did not pass (exit {code}):\n{out.getvalue()[-3000:]}")
    summary = next((line for line in reversed(out.getvalue().splitlines()) if line.strip()), "")
    ids = [i for i in timer.setup if i in timer.teardown]
    first = ids.pop(0)
    setup, teardown = Samples(), Samples()
    for i in ids:
        setup.add(*timer.setup[i])
        teardown.add(*timer.teardown[i])
    first_ms = (timer.setup[first][0] + timer.teardown[first][0]) / 1e6
    return FixtureCost(first_ms, setup, teardown, summary.strip(" ="))


def fixture_work(handle: Handle) -> tuple[Callable[[], None], Callable[[], None]]:
    """What the specmock fixture does around an unmarked test (src/specmock/pytest_plugin.py), without pytest."""
    app = handle.app

    def setup() -> None:
        app.clock.reset()
        if app.scenario is not None:
            app.clear_scenario(reset=False)
        handle.reset(0)
        handle.allow_unmatched = handle.allow_invalid = False
        handle.client.cookies.clear()

    def teardown() -> None:
        covered: dict[str, set[str]] = {}
        for entry in handle.journal:
            if entry.operation_id:
                covered.setdefault(entry.operation_id, set()).add(str(entry.status))
        if handle.unexpected():
            raise RuntimeError("unexpected traffic in the fixture-alone loop")

    return setup, teardown


def measure_fixture_alone(handle: Handle, n_tests: int) -> Samples:
    setup, teardown = fixture_work(handle)
    samples = Samples()
    for _ in range(n_tests):
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        setup()
        wall_mid, cpu_mid = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
        handle.client.post("/connectors", json=connector("Bench"), headers=AUTH)  # the test body: not timed
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        teardown()
        samples.add(wall_mid + time.perf_counter_ns() - wall, cpu_mid + time.thread_time_ns() - cpu)
    return samples
