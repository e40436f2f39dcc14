"""Every bundled scenario loads and does what its header says: tokens and scopes (401 and 403 in each
family's own error body), the default workspace, rate limits, slow scans, scan failures.

In-process on a frozen clock, scenario latency is not slept: it moves the mock's clock.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from chaos_support import ADMIN, SCAN, SDE, frozen, in_process, mock
from conftest import ALM_PARAMS, BEARER, ORG, VERSORI
from specmock import MockClock
from specmock._scenario.registry import bundled_scenario_files

# -- tokens and scopes: 401 and 403 in each family's own error body --------------------------------------------------

FAMILIES = {
    "appsecplus": {
        "scheme": "Bearer",
        "read": "/connectors",
        "write": ("/connectors", {"type": "github", "name": "GitHub {n}", "config": {"apiUrl": "https://a"}}),
        "401": lambda body: body["error"]["code"] == "UnauthorizedException" and body["error"]["message"],
        "403": lambda body: body["error"]["code"] == "AccessDeniedException" and body["error"]["message"],
    },
    "versori": {
        "scheme": "Bearer",
        "read": f"{VERSORI}/connectors",
        "write": (
            f"{VERSORI}/protocols/http/connectors",
            {"name": "Shop {n}", "baseUrl": "https://shop.example.com", "authSchemeConfigs": []},
        ),
        "401": lambda body: body["code"] == "unauthorized" and body["message"],
        "403": lambda body: body["code"] == "forbidden" and body["message"],
    },
    "sdelements": {
        "scheme": "Token",
        "read": SDE,
        "write": (SDE, {"name": "Connector {n}", "system": {"id": "github"}, "params": ALM_PARAMS["github"]}),
        "401": lambda body: set(body) == {"detail"} and body["detail"],
        "403": lambda body: set(body) == {"detail"} and body["detail"],
    },
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_auth_errors_401_and_403_in_each_family(family: str) -> None:
    spec: dict[str, Any] = FAMILIES[family]
    app = mock(seed=1, scenarios=["auth-errors"])
    counter = iter(range(1000))

    def call(token: str, write: bool) -> httpx.Response:
        headers = {"Authorization": f"{spec['scheme']} {token}"}
        if not write:
            return client.get(spec["read"], headers=headers)
        path, body = spec["write"]
        body = json.loads(json.dumps(body).replace("{n}", str(next(counter))))
        return client.post(path, json=body, headers=headers)

    with in_process(app) as client:
        assert call("admin-token", write=False).status_code == 200
        assert call("admin-token", write=True).status_code == 201
        assert call("read-only-token", write=False).status_code == 200
        denied = call("read-only-token", write=True)
        assert denied.status_code == 403
        assert spec["403"](denied.json()), denied.text
        for token in ("revoked-token", "expired-token", "no-such-token"):
            for write in (False, True):
                refused = call(token, write)
                assert refused.status_code == 401, (token, write)
                assert spec["401"](refused.json()), refused.text
                assert refused.headers["WWW-Authenticate"] == spec["scheme"]
    assert len(app.journal.entries()) == 10


# -- every bundled scenario loads and does what its header says ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(bundled_scenario_files()))
def test_every_bundled_scenario_loads(name: str) -> None:
    app = mock(seed=1, scenarios=[name])
    assert app.scenario is not None and app.scenario.name == name
    with in_process(app, check=False) as client:
        loaded = client.put(f"{ADMIN}/scenario", json={"use": name})
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["active"] == name
        assert client.get(f"{ADMIN}/scenario").json()["active"] == name


def test_bundled_names_cover_the_documented_scenarios() -> None:
    assert set(bundled_scenario_files()) >= {
        "default",
        "auth-errors",
        "rate-limited",
        "flaky-network",
        "slow-scans",
        "scan-failures",
    }


def test_default_is_a_populated_workspace_where_any_token_works() -> None:
    app = mock(clock=MockClock(frozen=True), scenarios=["default"])
    assert app.seed == 7
    with in_process(app) as client:
        connectors = client.get("/connectors", headers={"Authorization": "Bearer anything-at-all"}).json()
        assert [(c["name"], c["type"], c["status"]) for c in connectors] == [
            ("GitHub Main", "github", "active"),
            ("Jira Cloud", "jira", "inactive"),
            ("Security Alerts", "slack", "error"),
        ]
        assert all("token" not in c["config"] for c in connectors), "secrets are write-only"

        scans = {s["status"]: s for s in client.get("/scans", headers=BEARER).json()}
        assert set(scans) == {"completed", "failed", "running"}
        done = scans["completed"]
        assert done["startedAt"] and done["completedAt"] and done["startedAt"] <= done["completedAt"]
        summary = done["summary"]
        assert summary["totalFindings"] == summary["critical"] + summary["high"] + summary["medium"] + summary["low"]
        failed = scans["failed"]
        assert failed["completedAt"] and failed["summary"] is None
        running = scans["running"]
        assert running["startedAt"] and running["completedAt"] is None and running["summary"] is None
        assert (running["applicationId"], running["scanType"]) == ("app-20002", "sca")

        versori = client.get(f"{VERSORI}/connectors", headers={"Authorization": "Bearer x"}).json()["connectors"]
        assert [(c["name"], c["protocol"], c["organisationId"]) for c in versori] == [("Shopify", "http", ORG)]
        versions = client.get(f"{VERSORI}/connectors/{versori[0]['id']}/versions", headers=BEARER).json()["items"]
        assert len(versions) == 1
        assert versions[0]["publishedAt"] is None, "the connector's version is a draft"

        sde = client.get(SDE, headers={"Authorization": "Token whatever"}).json()["results"]
        assert [c["name"] for c in sde] == ["GitHub Example Connector", "JIRA Example Connector"]


def test_rate_limited_refuses_every_third_request_with_retry_after() -> None:
    app = mock(seed=1, scenarios=["rate-limited"])
    with in_process(app) as client:
        responses = [client.get("/connectors", headers=BEARER) for _ in range(9)]
    assert [r.status_code for r in responses] == [200, 200, 429] * 3
    for refused in responses[2::3]:
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["error"]["code"] == "ThrottlingException"
    assert all("Retry-After" not in r.headers for r in responses if r.status_code == 200)
    assert [e.rule for e in app.journal.entries()][2::3] == ["every-third-request-throttled"] * 3


def test_slow_scans_stay_queued_5s_run_30s_and_answer_late() -> None:
    app = mock(seed=1, clock=frozen(), scenarios=["slow-scans"])
    delays: list[float] = []

    def timed(method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; its lateness is how far it moved the frozen clock."""
        before = app.clock.now()
        response = client.request(method, path, **kwargs)
        delays.append((app.clock.now() - before).total_seconds())
        return response

    with in_process(app, headers=BEARER) as client:
        assert timed("GET", "/connectors").status_code == 200
        assert delays == [0.0], "only scan endpoints are slow"
        scan = timed("POST", "/scans", json=SCAN).json()
        assert scan["status"] == "queued"

        def status_after(seconds: float) -> str:
            app.clock.advance(seconds)
            result: str = timed("GET", f"/scans/{scan['id']}").json()["status"]
            return result

        # Each scan request also moves the clock 0.3-0.8 s (its latency): elapsed is a range.
        assert status_after(3) == "queued"  # 3.3-3.8 s; queued lasts 5 s +/- 1 s
        assert status_after(4) == "running"  # 7.6-8.6 s
        assert status_after(15) == "running"  # 22.9-24.4 s; running lasts 30 s +/- 5 s
        assert status_after(20) in ("completed", "failed")  # over 43 s
        assert timed("GET", "/scans").status_code == 200
    late = delays[1:]
    assert len(late) == 6
    assert all(0.3 <= d <= 0.8 for d in late), late


def test_scan_failures_every_scan_fails_and_the_third_trigger_is_a_500() -> None:
    app = mock(seed=1, clock=MockClock(frozen=True), scenarios=["scan-failures"])
    statuses = []
    with in_process(app, headers=BEARER) as client:
        for i, scan_type in enumerate(["sast", "dast", "sca", "container", "sast", "dast"]):
            triggered = client.post("/scans", json={**SCAN, "scanType": scan_type})
            statuses.append(triggered.status_code)
            if i == 2:
                assert triggered.json() == {
                    "error": {"code": "InternalServerException", "message": "Scan scheduler unavailable."}
                }
            app.clock.advance(60)
        scans = client.get("/scans").json()
    assert statuses == [201, 201, 500, 201, 201, 201]
    assert len(scans) == 5
    assert {s["status"] for s in scans} == {"failed"}
    assert all(s["summary"] is None and s["startedAt"] and s["completedAt"] for s in scans)
