"""One seed rule everywhere: an explicit seed wins; otherwise the scenario's; otherwise 0.

Explicit means someone chose it: `specmock serve --seed`, `SPECMOCK_SEED`, the
pytest marker's `seed=` or `--specmock-seed`, `MockApp(seed=...)`, and an admin
reset's `{"seed": N}`. The bundled `default` scenario says `seed: 7` and
`flaky-network` says `seed: 2024`. A state file restores the seed it recorded.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from conftest import BEARER, start_server, stop_server
from specmock import MockApp

pytest_plugins = ["pytester"]

CONNECTOR = {"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com"}}


def served_seed(*args: str, env: dict[str, str] | None = None) -> int:
    """The seed `specmock serve ARGS` reports in its health."""
    old = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        served = start_server(*args)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        seed: int = httpx.get(f"{served.url}/__specmock/health").json()["seed"]
        return seed
    finally:
        stop_server(served)


# -- Python ------------------------------------------------------------------------------------------------------


def test_in_python_the_rule_is_explicit_then_scenario_then_zero():
    assert MockApp().seed == 0
    assert MockApp(scenarios=["default"]).seed == 7
    assert MockApp(seed=11, scenarios=["default"]).seed == 11
    app = MockApp()
    app.load_scenario("flaky-network")
    assert app.seed == 2024
    app.clear_scenario()
    assert app.seed == 0


def test_a_reset_seed_is_explicit_and_outlives_scenario_changes():
    app = MockApp(scenarios=["default"])
    app.reset(seed=5)
    assert app.seed == 5
    app.load_scenario("flaky-network")
    assert app.seed == 5
    app.explicit_seed = None  # forget the choice: the scenario's seed applies again
    app.reset()
    assert app.seed == 2024


# -- specmock serve ----------------------------------------------------------------------------------------------


def test_serve_flag_and_environment_win_over_the_scenario_and_the_scenario_over_zero():
    assert served_seed("--scenario", "default", "--seed", "11") == 11
    assert served_seed("--scenario", "default", env={"SPECMOCK_SEED": "12"}) == 12
    assert served_seed("--scenario", "default") == 7
    assert served_seed() == 0


def test_an_admin_reset_seed_wins_over_the_scenario_seed():
    served = start_server("--scenario", "default")
    try:
        with httpx.Client(base_url=served.url) as admin:
            assert admin.post("/__specmock/reset", json={"seed": 3}).json()["seed"] == 3
            loaded = admin.put("/__specmock/scenario", json={"use": "flaky-network"})
            assert loaded.status_code == 200, loaded.text
            assert admin.get("/__specmock/health").json()["seed"] == 3
    finally:
        stop_server(served)


def test_a_state_file_restores_the_seed_it_recorded_unless_a_seed_is_given(tmp_path: Path):
    state = tmp_path / "state.json"
    first = start_server("--seed", "5", "--state-file", str(state))
    try:
        assert httpx.post(f"{first.url}/connectors", json=CONNECTOR, headers=BEARER).status_code == 201
    finally:
        stop_server(first)
    assert served_seed("--scenario", "default", "--state-file", str(state)) == 5
    assert served_seed("--seed", "9", "--state-file", str(state)) == 9


# -- the pytest plugin -------------------------------------------------------------------------------------------


def test_the_plugin_uses_the_same_rule(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
import pytest

@pytest.mark.specmock(scenario="flaky-network")
def test_scenario_seed(specmock):
    assert specmock.app.seed == 2024

@pytest.mark.specmock(scenario="flaky-network", seed=3)
def test_marker_seed(specmock):
    assert specmock.app.seed == 3

def test_plain(specmock):
    assert specmock.app.seed == 0
"""
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_command_line_seed_is_explicit_too(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
import pytest

@pytest.mark.specmock(scenario="flaky-network")
def test_option_wins(specmock):
    assert specmock.app.seed == 42

@pytest.mark.specmock(seed=1)
def test_marker_wins_over_option(specmock):
    assert specmock.app.seed == 1
"""
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--specmock-seed", "42").assert_outcomes(passed=2)


# -- Ctrl-C ------------------------------------------------------------------------------------------------------


def test_ctrl_c_on_serve_exits_quietly():
    served = start_server()
    served.process.send_signal(signal.SIGINT)
    output, _ = served.process.communicate(timeout=15)
    assert served.process.returncode in (0, 130)
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1] == "specmock: interrupted, stopped"
