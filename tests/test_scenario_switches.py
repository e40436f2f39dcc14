"""Switching scenarios: per request (X-Specmock-Scenario, Prefer: code=...) and at runtime through
the admin API, where a broken scenario is refused whole and the old one stays in force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos_support import ADMIN, SCAN, SDE, YAML, in_process, mock
from conftest import BEARER, SDE_TOKEN, VERSORI
from specmock import AdminSettings, MockClock

# -- per-request controls: X-Specmock-Scenario and Prefer ------------------------------------------------------------


def test_the_scenario_header_applies_a_bundled_scenario_to_those_requests_only() -> None:
    app = mock(seed=1)
    header = {"X-Specmock-Scenario": "rate-limited"}
    with in_process(app, headers=BEARER) as client:
        seen = [client.get("/connectors", headers=header if i % 2 == 0 else {}).status_code for i in range(6)]
        # requests 0, 2, 4 carry the header: the third of them is throttled; the others never are
        assert seen == [200, 200, 200, 200, 429, 200]
        assert client.get(f"{ADMIN}/scenario").json()["active"] is None
    assert [e.rule for e in app.journal.entries()] == [None, None, None, None, "every-third-request-throttled", None]


def test_an_unknown_scenario_header_does_not_switch_off_the_active_scenario() -> None:
    app = mock(seed=1, scenarios=["auth-errors"])
    with in_process(app, check=False) as client:
        response = client.get(
            "/connectors", headers={"Authorization": "Bearer no-such-token", "X-Specmock-Scenario": "no-such-scenario"}
        )
    assert response.status_code in (400, 401), f"the active auth-errors scenario was bypassed: {response.status_code}"


def test_a_reset_restarts_the_counters_of_header_scenarios_too() -> None:
    app = mock(seed=1)
    header = {"X-Specmock-Scenario": "rate-limited", **BEARER}
    with in_process(app) as client:
        assert [client.get("/connectors", headers=header).status_code for _ in range(2)] == [200, 200]
        assert client.post(f"{ADMIN}/reset", json={}).status_code == 200
        after = [client.get("/connectors", headers=header).status_code for _ in range(3)]
    assert after == [200, 200, 429], "after a reset, as on a fresh start, the third request is the first refused"


def test_prefer_code_forces_a_documented_status_and_refuses_an_undocumented_one() -> None:
    app = mock(seed=1)
    with in_process(app, headers=BEARER) as client:
        conflict = client.post("/scans", json=SCAN, headers={"Prefer": "code=409"})
        assert conflict.status_code == 409
        assert conflict.headers["Preference-Applied"] == "code=409"
        assert conflict.json()["error"]["code"] == "ConflictException"
        assert client.get("/scans").json() == [], "a forced response changes nothing"

        teapot = client.post("/scans", json=SCAN, headers={"Prefer": "code=418"})
        assert teapot.status_code == 400, "a status the operation cannot answer is an error, not a silent 201"
        assert "Preference-Applied" not in teapot.headers
        (detail,) = teapot.json()["error"]["details"]
        assert detail["field"] == "Prefer"
        assert "code=418" in detail["message"] and "201, 400, 401, 403, 404, 409, 429, 500, 503" in detail["message"]
        assert client.post("/scans", json=SCAN, headers={"Prefer": "code=soon"}).status_code == 400
        assert client.get("/scans").json() == [], "a refused preference changes nothing"

        normal = client.post("/scans", json=SCAN, headers={"Prefer": "return=minimal, code=201"})
        assert normal.status_code == 201, "the success status means: answer normally"
    assert [(e.status, e.outcome) for e in app.journal.entries("TriggerScan")] == [
        (409, "forced"),
        (400, "invalid"),
        (400, "invalid"),
        (201, "ok"),
    ]


@pytest.mark.parametrize(
    ("path", "headers", "error"),
    [
        ("/connectors", BEARER, lambda body: body["error"]["details"][0]["field"] == "Prefer"),
        (f"{VERSORI}/connectors", BEARER, lambda body: body["fields"][0]["field"] == "Prefer"),
        (SDE, SDE_TOKEN, lambda body: "code=599" in body["Prefer"][0]),
    ],
)
def test_an_inapplicable_prefer_code_is_a_400_in_each_family_format(
    path: str, headers: dict[str, str], error: Any
) -> None:
    with in_process(mock(seed=1), headers=headers) as client:
        refused = client.get(path, headers={"Prefer": "code=599"})
    assert refused.status_code == 400
    assert error(refused.json()), refused.json()


# -- admin: a broken scenario is refused whole -----------------------------------------------------------------------

BROKEN = {
    "unknown-key": ("rulez: []\n", "unknown key 'rulez'"),
    "no-such-operation": (
        "rules:\n  - match: {operationId: NoSuchOperation}\n    respond: {status: 503}\n",
        "matches no operation",
    ),
    "undocumented-status": (
        "rules:\n  - match: {operationId: GetScan}\n    respond: {status: 418}\n",
        "does not document status 418",
    ),
    "invalid-yaml": ("rules: [\n", "invalid YAML"),
    "no-such-bundled": ('{"use": "no-such-scenario"}', "not a bundled scenario"),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_scenario_put_at_runtime_is_refused_and_the_old_one_stays(broken: str) -> None:
    text, reason = BROKEN[broken]
    app = mock(seed=1)
    with in_process(app, check=False) as client:
        assert client.put(f"{ADMIN}/scenario", json={"use": "rate-limited"}).status_code == 200
        assert [client.get("/connectors", headers=BEARER).status_code for _ in range(2)] == [200, 200]

        refused = client.put(f"{ADMIN}/scenario", content=text, headers=YAML)
        assert refused.status_code == 400
        assert reason in refused.json()["error"]

        state = client.get(f"{ADMIN}/scenario").json()
        assert state["active"] == "rate-limited"
        assert state["rules"] == [
            {"name": "every-third-request-throttled", "matched": 2, "fired": 0, "enabled": True, "chaos": False}
        ]
        assert client.get("/connectors", headers=BEARER).status_code == 429, "its counters carried on"

        assert client.delete(f"{ADMIN}/scenario").status_code == 204
        assert client.get(f"{ADMIN}/scenario").json() == {"active": None}
        assert {client.get("/connectors", headers=BEARER).status_code for _ in range(6)} == {200}


def test_a_one_line_yaml_scenario_put_at_runtime_is_yaml_not_a_name() -> None:
    app = mock(seed=1)
    with in_process(app, check=False, headers=BEARER) as client:
        loaded = client.put(
            f"{ADMIN}/scenario",
            content="rules: [{match: {operationId: GetScan}, respond: {status: 503}}]",
            headers=YAML,
        )
        assert loaded.status_code == 200, loaded.text
        assert client.get("/scans/scan-001").status_code == 503


def test_a_refused_combination_leaves_the_old_lifecycles_in_force(tmp_path: Path) -> None:
    """Each part is valid alone; together scans could never settle, so the PUT is refused, and slow-scans stays."""
    cycle = tmp_path / "failed-retries.yaml"
    cycle.write_text(
        json.dumps(
            {"lifecycles": {"appsecplus": {"scans": {"states": {"failed": {"next": "running", "after": "1s"}}}}}}
        )
    )
    mock(scenarios=[cycle])  # valid on its own
    app = mock(
        seed=1, clock=MockClock(frozen=True), scenarios=["slow-scans"], admin=AdminSettings(scenario_dirs=(tmp_path,))
    )
    with in_process(app, check=False, headers=BEARER) as client:
        refused = client.put(f"{ADMIN}/scenario", json={"use": ["scan-failures", str(cycle)]})
        assert refused.status_code == 400
        assert "failed-retries.yaml" in refused.json()["error"]  # by place: a file's content is never echoed
        assert client.get(f"{ADMIN}/scenario").json()["active"] == "slow-scans"

        scan = client.post("/scans", json=SCAN).json()
        app.clock.advance(3)
        status = client.get(f"/scans/{scan['id']}").json()["status"]
    assert status == "queued", "slow-scans keeps scans queued 5s +/- 1s, whatever was refused"
