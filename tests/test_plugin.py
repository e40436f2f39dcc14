"""The pytest plugin, tested as users meet it: through pytester-run test files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HEADER = """
import pytest
AUTH = {"Authorization": "Bearer t"}
CONNECTOR = {"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com"}}
SCAN = {"applicationId": "app-12345", "scanType": "sast"}
"""


PETS = """openapi: 3.1.0
info: {title: pets, version: "1"}
paths:
  /pets:
    get:
      operationId: ListPets
      responses: {"200": {description: ok}}
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_client=HEADER + body)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_state_is_reset_before_every_test(pytester):
    result = run(
        pytester,
        """
def test_create(specmock):
    assert specmock.client.post("/connectors", json=CONNECTOR, headers=AUTH).json()["id"] == "conn-001"

def test_fresh_again(specmock):
    assert specmock.client.get("/connectors", headers=AUTH).json() == []
    assert specmock.client.post("/connectors", json=CONNECTOR, headers=AUTH).json()["id"] == "conn-001"
""",
    )
    result.assert_outcomes(passed=2)


def test_async_client_and_every_family_at_documented_paths(pytester):
    result = run(
        pytester,
        """
async def _list(specmock):
    return await specmock.async_client.get("/api/v2/connectors/alm/", headers={"Authorization": "Token k"})

def test_async(specmock):
    import asyncio
    assert [c["id"] for c in asyncio.run(_list(specmock)).json()["results"]] == [1, 2]
    org = "01HFS2NEAZ6ECZBZMN4FF775P7"
    assert specmock.client.get(f"/api/connect/v1/o/{org}/connectors", headers=AUTH).json()["totalCount"] == 0
""",
    )
    result.assert_outcomes(passed=1)


def test_controls_seed_state_clock_and_scenario(pytester):
    result = run(
        pytester,
        """
def test_controls(specmock):
    (stored,) = specmock.insert("appsecplus", "connectors", {**CONNECTOR, "name": "Seeded"})
    assert stored["id"] == "conn-001"
    assert [c["name"] for c in specmock.state["appsecplus.connectors"]] == ["Seeded"]
    specmock.clock.freeze()
    specmock.client.post("/scans", json=SCAN, headers=AUTH)
    specmock.clock.advance(60)
    assert specmock.client.get("/scans/scan-001", headers=AUTH).json()["status"] in ("completed", "failed")
    specmock.load_scenario("rate-limited")
    assert [specmock.client.get("/scans", headers=AUTH).status_code for _ in range(3)] == [200, 200, 429]
    specmock.reset()
    assert specmock.state["appsecplus.connectors"] == []
""",
    )
    result.assert_outcomes(passed=1)


def test_marker_picks_scenario_seed_and_frozen_clock(pytester):
    result = run(
        pytester,
        """
@pytest.mark.specmock(scenario="auth-errors", clock="frozen", seed=5)
def test_marked(specmock):
    assert specmock.client.get("/connectors", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert specmock.app.seed == 5
    assert specmock.clock.frozen
    before = specmock.clock.now()
    assert specmock.clock.now() == before

def test_unmarked_is_plain(specmock):
    assert specmock.client.get("/connectors", headers={"Authorization": "Bearer nope"}).status_code == 200
    assert not specmock.clock.frozen
""",
    )
    result.assert_outcomes(passed=2)


def test_command_line_options_set_seed_and_scenario(pytester):
    result = run(
        pytester,
        """
def test_options(specmock):
    assert specmock.app.seed == 42
    assert specmock.app.scenario.name == "rate-limited"
""",
        "--specmock-seed",
        "42",
        "--specmock-scenario",
        "rate-limited",
    )
    result.assert_outcomes(passed=1)


def test_journal_assertions_fail_readably(pytester):
    result = run(
        pytester,
        """
def test_called(specmock):
    specmock.client.post("/scans", json=SCAN, headers=AUTH)
    specmock.assert_called("TriggerScan", times=1)
    specmock.assert_not_called("GetScan")
    assert [e.status for e in specmock.journal("TriggerScan")] == [201]
    specmock.assert_called("TriggerScan", times=2)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*expected TriggerScan to be called 2 times, it was called 1 time(s)*", "*POST /scans -> 201*"]
    )


def test_unexpected_traffic_fails_the_test_at_teardown_unless_expected(pytester):
    result = run(
        pytester,
        """
def test_typo_in_path(specmock):
    specmock.client.get("/conectors", headers=AUTH)

def test_invalid_body(specmock):
    specmock.client.post("/connectors", json={"type": "github"}, headers=AUTH)

def test_expected(specmock):
    specmock.expect_unmatched()
    specmock.expect_invalid()
    specmock.client.get("/conectors", headers=AUTH)
    specmock.client.post("/connectors", json={"type": "github"}, headers=AUTH)

@pytest.mark.specmock(strict=False)
def test_not_strict(specmock):
    specmock.client.get("/conectors", headers=AUTH)

def test_auth_errors_are_contract_not_unexpected(specmock):
    assert specmock.client.get("/connectors").status_code == 401
""",
    )
    result.assert_outcomes(passed=5, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*specmock saw 1 request(s) outside the contract:*",
            "*GET /conectors -> 404 (appsecplus:no operation matches)*",
            "*POST /connectors -> 400 (appsecplus:RegisterConnector)*name*is required*",
        ]
    )


def test_server_fixture_serves_the_same_mock_over_a_socket(pytester):
    result = run(
        pytester,
        """
import requests

def test_socket(specmock_server):
    assert specmock_server.url.startswith("http://127.0.0.1:")
    r = requests.post(specmock_server.url + "/connectors", json=CONNECTOR, headers=AUTH)
    assert r.status_code == 201
    assert specmock_server.state["appsecplus.connectors"][0]["name"] == "GitHub Main"
    specmock_server.assert_called("RegisterConnector", times=1)

def test_reset_per_test(specmock_server):
    assert requests.get(specmock_server.url + "/connectors", headers=AUTH).json() == []
""",
    )
    result.assert_outcomes(passed=2)


def test_coverage_report_and_json(pytester):
    result = run(
        pytester,
        """
def test_some(specmock):
    specmock.client.get("/connectors", headers=AUTH)
    specmock.client.get("/connectors")
    specmock.client.post("/scans", json=SCAN, headers=AUTH)
""",
        "--specmock-coverage",
        "--specmock-coverage-json",
        "coverage.json",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*specmock contract coverage*",
            "appsecplus: 2/8 operations called, 3/* documented statuses exercised",
            "*ListConnectors*exercised 200 401; never: 403 429 500 503",
            "*GetScan*never called",
        ]
    )
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert report["appsecplus"]["operations"]["TriggerScan"]["exercised"] == ["201"]
    assert report["versori"]["summary"]["called"] == 0


def test_unknown_marker_option_is_an_error(pytester):
    result = run(
        pytester,
        """
@pytest.mark.specmock(scenaro="auth-errors")
def test_typo(specmock):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option 'scenaro'*"])


def test_works_under_xdist(pytester):
    """Coverage from every worker, the calls under marker specs included."""
    pytest.importorskip("xdist")
    pytester.path.joinpath("pets.yaml").write_text(PETS)
    body = "".join(
        f"""
def test_create_{i}(specmock):
    assert specmock.client.post("/connectors", json=CONNECTOR, headers=AUTH).json()["id"] == "conn-001"

@pytest.mark.specmock(spec="pets.yaml")
def test_pets_{i}(specmock):
    assert specmock.client.get("/pets").status_code == 200
"""
        for i in range(3)
    )
    result = run(pytester, body, "-n", "2", "--specmock-coverage")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["appsecplus: 1/8 operations called*"])
    result.stdout.fnmatch_lines(["pets: 1/1 operations called*"])


PETSTORE = str((Path(__file__).parent / "thirdparty" / "petstore-expanded.yaml").resolve())


def test_marker_serves_a_users_own_spec_beside_the_bundled_ones(pytester):
    result = run(
        pytester,
        f"""
PETSTORE = {PETSTORE!r}

@pytest.mark.specmock(spec=PETSTORE)
def test_petstore(specmock):
    pet = specmock.client.post("/api/pets", json={{"name": "Rex"}}).json()
    assert specmock.client.get(f"/api/pets/{{pet['id']}}").json() == pet

@pytest.mark.specmock(spec=PETSTORE)
def test_petstore_is_reset_too(specmock):
    assert specmock.client.get("/api/pets").json() == []

def test_bundled_still_served_without_the_marker(specmock):
    assert specmock.client.get("/connectors", headers=AUTH).json() == []
""",
    )
    result.assert_outcomes(passed=3)


def test_option_serves_a_users_own_spec_to_every_test(pytester):
    result = run(
        pytester,
        """
def test_petstore(specmock_server):
    import httpx
    created = httpx.post(specmock_server.url + "/api/pets", json={"name": "Rex"})
    assert created.status_code == 200 and created.json()["name"] == "Rex"
""",
        "--specmock-spec",
        PETSTORE,
    )
    result.assert_outcomes(passed=1)


# -- the marker's files, its mistakes, and coverage across every app --------------------------------


def test_marker_spec_is_found_beside_the_test_file_from_any_directory(pytester):
    suite = pytester.mkdir("suite")
    (suite / "openapi").mkdir()
    (suite / "openapi" / "pets.yaml").write_text(PETS)
    (suite / "test_pets.py").write_text(
        """
import pytest

@pytest.mark.specmock(spec="openapi/pets.yaml")
def test_pets(specmock):
    assert specmock.client.get("/pets").status_code == 200

@pytest.mark.specmock(spec="appsecplus")
def test_a_bundled_name(specmock):
    assert specmock.client.get("/connectors", headers={"Authorization": "Bearer t"}).status_code == 200
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "suite")  # run from the parent folder
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "says"),
    [
        ('scenaro="auth-errors"', "unknown option 'scenaro' (did you mean 'scenario'?)"),
        ('spec="nowhere.yaml"', "no file 'nowhere.yaml' beside the test"),
        ('spec="appsecplu"', "(did you mean 'appsecplus'?)"),
        ('spec="broken.yaml"', "broken.yaml:3: invalid YAML"),
        ('scenario="rate-limitd"', "(did you mean 'rate-limited'?)"),
        ('clock="stopped"', "clock='stopped' is not one of real, frozen"),
        ('"auth-errors"', "takes keyword options only"),
    ],
)
def test_a_bad_marker_is_one_error_naming_the_test_and_its_line(pytester, marker: str, says: str):
    pytester.path.joinpath("broken.yaml").write_text("openapi: 3.1.0\npaths: [\n")
    pytester.makepyfile(
        test_marked=f"""
import pytest


@pytest.mark.specmock({marker})
def test_marked(specmock):
    pass
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "Traceback" not in output and "LoadError" not in output, output
    result.stdout.fnmatch_lines([f"test_marked.py:4: test_marked: @pytest.mark.specmock*{says}*"])
    assert output.count("test_marked.py:4: test_marked:") == 2, output  # the error, and its summary line


def test_coverage_counts_calls_under_marker_specs_too(pytester):
    pytester.path.joinpath("pets.yaml").write_text(PETS)
    result = run(
        pytester,
        """
@pytest.mark.specmock(spec="pets.yaml")
def test_pets(specmock):
    specmock.client.get("/pets")

def test_bundled(specmock):
    specmock.client.get("/connectors", headers=AUTH)
""",
        "--specmock-coverage",
        "--specmock-coverage-json",
        "coverage.json",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["pets: 1/1 operations called, 1/1 documented statuses exercised"])
    result.stdout.fnmatch_lines(["appsecplus: 1/8 operations called*"])
    report = json.loads((pytester.path / "coverage.json").read_text())
    assert report["pets"]["operations"]["ListPets"]["exercised"] == ["200"]


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--specmock-scenario", "rate-limitd"], "--specmock-scenario rate-limitd: *(did you mean 'rate-limited'?)*"),
        (["--specmock-spec", "appsecplu"], "--specmock-spec appsecplu: *(did you mean 'appsecplus'?)*"),
        (["--specmock-spec", "nowhere.yaml"], "--specmock-spec nowhere.yaml: no such file"),
    ],
)
def test_a_bad_option_stops_the_run_with_one_usage_line(pytester, option: list[str], says: str):
    pytester.makepyfile(test_one="def test_one(specmock):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {says}"])
