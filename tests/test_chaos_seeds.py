"""Seeds: the same seed replays the same chaos decisions, in-process and served; an explicit seed
wins over the scenario's, and without one the mock's seed drives the chaos.

Where the point is what a real HTTP client sees, the tests talk to `specmock serve` over 127.0.0.1;
everything else runs in-process. In-process on a frozen clock, scenario latency is not slept: it
moves the mock's clock, so the chaos decisions (and their delays, read off the clock) can be
compared without waiting for them.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx
import requests

from chaos_support import ADMIN, SDE, decisions, frozen, in_process, journal, mock
from conftest import BEARER, SDE_TOKEN, VERSORI, Served, start_server, stop_server
from specmock import MockApp
from specmock._scenario.registry import bundled_scenario_files

# -- seeds: the same seed replays the same chaos decisions -----------------------------------------------------------


def _request_plan(i: int) -> tuple[str, str, dict[str, str], Any]:
    """The i-th request of a fixed mixed sequence over the three families (nothing that depends on wall time)."""
    plan: list[tuple[str, str, dict[str, str], Any]] = [
        ("GET", "/connectors", BEARER, None),
        ("GET", f"{VERSORI}/connectors", BEARER, None),
        ("GET", SDE, SDE_TOKEN, None),
        ("POST", "/connectors", BEARER, {"type": "github", "name": f"GitHub {i}", "config": {"apiUrl": "https://a"}}),
        ("GET", f"{SDE}1/", SDE_TOKEN, None),
        ("GET", "/connectors/conn-001", BEARER, None),
    ]
    return plan[i % len(plan)]


REQUESTS = 60  # in-process
SERVED_REQUESTS = 40  # each is 20-150 ms late on a real socket


def run_in_process(app: MockApp) -> tuple[list[Any], list[tuple[int, str | None, str]], list[float]]:
    """What the client saw (status or error), the journal's decisions, and how late each answer was
    (read off the app's frozen clock, which chaos latency moves in-process), for the fixed sequence."""
    seen: list[Any] = []
    delays: list[float] = []
    with in_process(app, check=False) as client:
        for i in range(REQUESTS):
            method, path, headers, body = _request_plan(i)
            before = app.clock.now()
            try:
                seen.append(client.request(method, path, headers=headers, json=body).status_code)
            except httpx.RemoteProtocolError:
                seen.append("dropped")
            delays.append((app.clock.now() - before).total_seconds())
    return seen, decisions([e.as_dict() for e in app.journal.entries()]), delays


def run_served(served: Served) -> tuple[list[Any], list[tuple[int, str | None, str]], dict[int, str]]:
    seen: list[Any] = []
    retry_after: dict[int, str] = {}
    with requests.Session() as session:
        for i in range(SERVED_REQUESTS):
            method, path, headers, body = _request_plan(i)
            try:
                response = session.request(method, served.url + path, headers=headers, json=body, timeout=10)
            except requests.exceptions.RequestException as exc:
                seen.append(type(exc).__name__)
                continue
            seen.append(response.status_code)
            if response.status_code == 503:
                retry_after[i] = response.headers.get("Retry-After", "")
    return seen, decisions(journal(served)), retry_after


def test_flaky_network_replays_the_same_decisions_from_the_same_seed() -> None:
    """Two fresh mocks, the same seed: the same requests meet the same 503s, resets, cuts and delays."""
    first_seen, first, first_delays = run_in_process(MockApp(seed=1, clock=frozen(), scenarios=["flaky-network"]))
    assert run_in_process(mock(seed=1, clock=frozen(), scenarios=["flaky-network"])) == (
        first_seen,
        first,
        first_delays,
    )

    # Some of everything the scenario promises, and only that.
    outcomes = Counter(outcome for _, _, outcome in first)
    assert outcomes["forced"] > 0 and outcomes["dropped"] > 0 and outcomes["ok"] > REQUESTS / 2
    assert {status for status, _, outcome in first if outcome == "forced"} == {503}
    assert first_seen.count("dropped") == outcomes["dropped"]
    assert all("latency" in (rule or "") for _, rule, _ in first), "every request is late"
    assert all(0.02 <= d <= 0.15 for d in first_delays), first_delays


def test_an_explicit_seed_wins_over_the_scenario_seed_and_a_reset_seed_changes_the_decisions() -> None:
    """flaky-network sets `seed: 2024`: it applies unless someone chose a seed (the documented rule)."""
    assert mock(scenarios=["flaky-network"]).seed == 2024
    one = mock(seed=1, clock=frozen(), scenarios=["flaky-network"])
    two = mock(seed=2, clock=frozen(), scenarios=["flaky-network"])
    assert (one.seed, two.seed) == (1, 2)
    assert run_in_process(one)[1] != run_in_process(two)[1]
    default_a = mock(clock=frozen(), scenarios=["flaky-network"])
    default_b = mock(clock=frozen(), scenarios=["flaky-network"])
    assert run_in_process(default_a) == run_in_process(default_b)

    other = mock(clock=frozen(), scenarios=["flaky-network"])
    other.reset(seed=99)
    assert other.seed == 99
    other.load_scenario("flaky-network")
    assert other.seed == 99, "an explicit seed stays in force over a scenario loaded later"
    assert run_in_process(other)[1] != run_in_process(mock(clock=frozen(), scenarios=["flaky-network"]))[1]


def test_without_a_scenario_seed_the_mock_seed_drives_the_chaos(tmp_path: Path) -> None:
    text = bundled_scenario_files()["flaky-network"].read_text()
    assert "seed: 2024\n" in text
    unseeded = tmp_path / "flaky-unseeded.yaml"
    unseeded.write_text(text.replace("seed: 2024\n", ""))

    first = mock(seed=1, clock=frozen(), scenarios=[unseeded])
    assert first.seed == 1
    decided = run_in_process(first)
    assert run_in_process(mock(seed=1, clock=frozen(), scenarios=[unseeded])) == decided
    assert run_in_process(mock(seed=2, clock=frozen(), scenarios=[unseeded]))[1] != decided[1]
    assert mock(scenarios=[unseeded]).seed == 0


def test_two_served_flaky_networks_with_the_same_seed_agree_request_by_request() -> None:
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(start_server, "--scenario", "flaky-network", "--seed", "5") for _ in range(2)]
        wait(starting)
        servers = [f.result() for f in starting if f.exception() is None]
        try:
            assert len(servers) == 2, [f.exception() for f in starting]
            for served in servers:
                health = requests.get(f"{served.url}{ADMIN}/health", timeout=10).json()
                assert health["seed"] == 5, "the explicit --seed wins over the scenario's"
            first, second = pool.map(run_served, servers)
        finally:
            for served in servers:
                stop_server(served)

    assert first == second
    seen, journaled, retry_after = first
    assert len(journaled) == SERVED_REQUESTS
    assert 503 in seen and "ConnectionError" in seen
    assert set(retry_after.values()) == {"1"}
    for saw, (status, rule, outcome) in zip(seen, journaled, strict=True):
        if outcome == "dropped":
            assert saw in ("ConnectionError", "ChunkedEncodingError"), rule
        else:
            assert saw == status
