"""Scenario files: what they can say, and how a broken one is refused."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import BEARER, ORG, SDE_TOKEN, VERSORI, conformance_hook, run_cli
from specmock import LoadError, MockApp
from specmock._scenario.schema import SCENARIO_SCHEMA
from specmock._spec.bundled import bundled_dir
from specmock._testing.transport import SyncASGITransport

CONNECTOR = {"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com"}}
SCAN = {"applicationId": "app-12345", "scanType": "sast"}


def client_for(app: MockApp) -> httpx.Client:
    return httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://mock",
        headers=BEARER,
        event_hooks={"response": [conformance_hook(app)]},
    )


def mock_with(scenario: str | dict, **kwargs) -> tuple[MockApp, httpx.Client]:
    app = MockApp(seed=1, scenarios=[scenario], **kwargs)
    return app, client_for(app)


# -- fixtures -----------------------------------------------------------------------


def test_fixtures_seed_every_family_and_fill_what_they_leave_out():
    _, api = mock_with(
        {
            "fixtures": {
                "appsecplus": {
                    "applications": [{"id": "app-777"}],
                    "connectors": [{"type": "jira", "name": "Jira", "config": {"project": "SEC"}}],
                    "scans": [{"applicationId": "app-777", "scanType": "sca", "status": "completed"}],
                },
                "versori": {"connectors": [{"organisationId": ORG, "name": "Shop", "baseUrl": "https://s"}]},
                "sdelements": {"alm_connectors": [{"name": "Rally", "system": {"id": "rally"}, "params": {}}]},
            }
        }
    )
    assert api.get("/connectors/conn-001").json()["status"] == "active"  # the collection default
    scan = api.get("/scans/scan-001").json()
    assert scan["status"] == "completed"
    assert scan["startedAt"] <= scan["completedAt"]  # passed through running on the way
    assert scan["summary"]["totalFindings"] == sum(scan["summary"][k] for k in ("critical", "high", "medium", "low"))
    assert api.post("/scans", json={**SCAN, "applicationId": "app-777"}).status_code == 201

    (shop,) = api.get(f"{VERSORI}/connectors").json()["connectors"]
    assert shop["versions"][0]["name"] == "1"  # children are created for fixtures too
    rally = api.get("/api/v2/connectors/alm/3/", headers=SDE_TOKEN).json()
    assert rally["system"] == {"id": "rally", "short_name": "Rally", "name": "Rally"}
    assert rally["inaccessible"] is False


def test_a_fixture_gives_validation_messages_and_they_are_kept():
    """Versori generates validationMessages; a scenario stands in for the vendor's validator."""
    warning = {"text": "tokenUrl is unreachable", "severity": "warning", "detail": ["timeout after 5s"]}
    config = {"id": "01HFS2NEAZ6ECZBZMN4FF775PA", "description": "OAuth", "schemeType": "none"}
    fixture = {
        "organisationId": ORG,
        "name": "Shop",
        "baseUrl": "https://s",
        "authSchemeConfigs": [
            {**config, "validationMessages": [warning]},
            {**config, "id": "01HFS2NEAZ6ECZBZMN4FF775PB"},
        ],
    }
    _, api = mock_with({"fixtures": {"versori": {"connectors": [fixture]}}})
    (shop,) = api.get(f"{VERSORI}/connectors").json()["connectors"]
    assert [c["validationMessages"] for c in shop["authSchemeConfigs"]] == [[warning], []]
    update = {"id": shop["id"], "organisationId": ORG, "name": "Shop 2", "protocol": "http", "baseUrl": "https://s"}
    updated = api.put(f"{VERSORI}/connectors/{shop['id']}", json=update)
    assert [c["validationMessages"] for c in updated.json()["authSchemeConfigs"]] == [[warning], []]


def test_reset_restores_the_scenario_fixtures_and_forgets_everything_else():
    app, api = mock_with({"fixtures": {"appsecplus": {"connectors": [CONNECTOR]}}})
    api.post("/connectors", json={**CONNECTOR, "name": "Other"})
    api.delete("/connectors/conn-001")
    app.reset()
    assert [c["name"] for c in api.get("/connectors").json()] == ["GitHub Main"]


def test_the_bundled_default_scenario_is_a_populated_workspace():
    _, api = mock_with("default")
    assert {c["name"] for c in api.get("/connectors").json()} == {"GitHub Main", "Jira Cloud", "Security Alerts"}
    assert all("token" not in c["config"] for c in api.get("/connectors").json())
    statuses = {s["applicationId"]: s["status"] for s in api.get("/scans").json()}
    assert statuses == {"app-12345": "completed", "app-20001": "failed", "app-20002": "running"}


# -- forced responses ----------------------------------------------------------------


def test_a_forced_error_has_the_family_error_body_for_its_status():
    _, api = mock_with({"rules": [{"match": {"operationId": "TriggerScan"}, "respond": {"status": 409}}]})
    r = api.post("/scans", json=SCAN)  # the conformance hook checks the body against the 409 schema
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ConflictException"


def test_forced_errors_validate_for_every_family_and_status():
    rules = []
    for op_id, status in [
        ("versori:CreateHTTPConnector", 400),
        ("versori:GetConnector", 404),
        ("sdelements:CreateAlmConnector", 400),
        ("sdelements:GetAlmConnector", 404),
        ("appsecplus:GetScan", 503),
        ("sdelements:ListAlmConnectors", 429),
    ]:
        rules.append({"match": {"operationId": op_id}, "respond": {"status": status, "retryAfter": 2}})
    _, api = mock_with({"rules": rules})
    cases = [
        ("POST", f"{VERSORI}/protocols/http/connectors", BEARER, {"code": "bad_request"}),
        ("GET", f"{VERSORI}/connectors/{ORG}", BEARER, {"code": "not_found"}),
        ("POST", "/api/v2/connectors/alm/", SDE_TOKEN, None),
        ("GET", "/api/v2/connectors/alm/1/", SDE_TOKEN, {"detail": "Not found."}),
        ("GET", "/scans/scan-001", BEARER, None),
        ("GET", "/api/v2/connectors/alm/", SDE_TOKEN, {"detail": "Request was throttled."}),
    ]
    for method, path, headers, expected in cases:
        r = api.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert r.headers["Retry-After"] == "2"
        if expected:
            assert expected.items() <= r.json().items()


def test_a_custom_body_is_sent_as_is():
    body = {"error": {"code": "InternalServerException", "message": "Scan queue is down."}}
    _, api = mock_with({"rules": [{"match": {"operationId": "TriggerScan"}, "respond": {"status": 500, "body": body}}]})
    assert api.post("/scans", json=SCAN).json() == body


@pytest.mark.parametrize(
    ("match", "hits", "misses"),
    [
        ({"method": "GET", "path": "/connectors/{id}"}, ["/connectors/conn-001"], ["/connectors"]),
        (
            {"operationId": "GetConnector", "pathParams": {"id": "conn-404"}},
            ["/connectors/conn-404"],
            ["/connectors/x"],
        ),
        (
            {"operationId": "ListScans", "query": {"status": "failed"}},
            ["/scans?status=failed"],
            ["/scans?status=queued"],
        ),
        ({"family": "appsecplus", "headers": {"X-Env": "staging"}}, ["/scans|X-Env:staging"], ["/scans|X-Env:prod"]),
    ],
)
def test_rules_match_on_operation_path_params_query_and_headers(match, hits, misses):
    _, api = mock_with({"rules": [{"match": match, "respond": {"status": 500}}]})

    def status(spec: str) -> int:
        path, _, header = spec.partition("|")
        name, _, value = header.partition(":")
        return api.get(path, headers={name: value} if header else {}).status_code

    assert [status(h) for h in hits] == [500] * len(hits)
    assert all(status(m) != 500 for m in misses)


def test_rules_match_on_a_subset_of_the_body():
    rule = {"match": {"operationId": "TriggerScan", "body": {"scanType": "dast"}}, "respond": {"status": 500}}
    _, api = mock_with({"rules": [rule]})
    assert api.post("/scans", json=SCAN).status_code == 201
    assert api.post("/scans", json={**SCAN, "scanType": "dast"}).status_code == 500


def test_times_after_and_every_count_matching_calls():
    _, api = mock_with(
        {
            "rules": [
                {"match": {"operationId": "ListConnectors"}, "times": 2, "respond": {"status": 503}},
                {"match": {"operationId": "ListScans"}, "after": 3, "times": 1, "respond": {"status": 500}},
                {"match": {"operationId": "GetScan"}, "every": 2, "respond": {"status": 503}},
            ]
        }
    )
    assert [api.get("/connectors").status_code for _ in range(4)] == [503, 503, 200, 200]
    assert [api.get("/scans").status_code for _ in range(5)] == [200, 200, 500, 200, 200]
    api.post("/scans", json=SCAN)
    assert [api.get("/scans/scan-001").status_code for _ in range(4)] == [200, 503, 200, 503]


def test_probability_draws_repeat_with_the_seed():
    scenario = {"rules": [{"match": {"operationId": "ListConnectors"}, "probability": 0.5, "respond": {"status": 503}}]}

    def run(seed: int) -> list[int]:
        app = MockApp(seed=seed, scenarios=[scenario])
        api = client_for(app)
        return [api.get("/connectors").status_code for _ in range(40)]

    first = run(5)
    assert first == run(5)
    assert 5 < first.count(503) < 35
    assert first != run(6)


def test_a_rule_is_journaled_with_its_name():
    app, api = mock_with({"rules": [{"name": "down", "match": {"operationId": "GetScan"}, "respond": {"status": 503}}]})
    api.get("/scans/scan-001")
    api.get("/scans")
    forced, plain = app.journal.entries()
    assert (forced.operation_id, forced.rule, forced.outcome, forced.status) == ("GetScan", "down", "forced", 503)
    assert (plain.rule, plain.outcome) == (None, "ok")


def test_later_scenarios_win():
    first = {"name": "a", "rules": [{"match": {"operationId": "ListScans"}, "respond": {"status": 500}}]}
    second = {"name": "b", "rules": [{"match": {"operationId": "ListScans"}, "respond": {"status": 503}}]}
    app = MockApp(scenarios=[first, second])
    assert client_for(app).get("/scans").status_code == 503
    assert app.scenario is not None and app.scenario.name == "a+b"


# -- tokens -----------------------------------------------------------------------------


def test_tokens_revoked_expired_unknown_and_scopes():
    _, api = mock_with("auth-errors")

    def status(token: str, method: str = "GET") -> int:
        headers = {"Authorization": f"Bearer {token}"}
        if method == "GET":
            return api.get("/connectors", headers=headers).status_code
        return api.post("/connectors", json=CONNECTOR, headers=headers).status_code

    assert status("admin-token") == 200
    assert status("read-only-token") == 200
    assert status("read-only-token", "POST") == 403
    assert status("admin-token", "POST") == 201
    assert status("revoked-token") == 401
    assert status("expired-token") == 401
    assert status("who-knows") == 401


def test_custom_scope_requirements():
    scenario = {
        "auth": {
            "appsecplus": {
                "tokens": [{"token": "ops", "scopes": ["read", "write"]}, {"token": "root", "scopes": ["admin"]}],
                "requires": {"DeleteConnector": ["admin"]},
            }
        },
        "fixtures": {"appsecplus": {"connectors": [CONNECTOR]}},
    }
    _, api = mock_with(scenario)
    forbidden = api.delete("/connectors/conn-001", headers={"Authorization": "Bearer ops"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "AccessDeniedException"
    assert api.delete("/connectors/conn-001", headers={"Authorization": "Bearer root"}).status_code == 204


def test_triggered_by_is_the_caller_when_the_request_names_none():
    """AppSec+ TriggerScan fills triggeredBy with {$caller: api-client}: the token's subject, else api-client."""
    scenario = {
        "auth": {
            "appsecplus": {
                "tokens": [{"token": "ci-token", "subject": "ci-pipeline"}, {"token": "alice-token"}],
            }
        },
    }
    _, api = mock_with(scenario)

    def triggered_by(token: str, **body: str) -> str:
        scan = api.post("/scans", json={**SCAN, **body}, headers={"Authorization": f"Bearer {token}"})
        assert scan.status_code == 201, scan.text
        api.post("/__specmock/clock/advance", json={"seconds": 60})
        by: str = scan.json()["triggeredBy"]
        assert (
            api.get(f"/scans/{scan.json()['id']}", headers={"Authorization": f"Bearer {token}"}).json()["triggeredBy"]
            == by
        )
        return by

    assert triggered_by("ci-token") == "ci-pipeline"
    assert triggered_by("alice-token") == "api-client"  # a token without a subject
    assert triggered_by("ci-token", triggeredBy="nightly") == "nightly"  # what the request names wins


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_triggered_by_is_stable_without_a_scenario(seed):
    """Never a random name: every seed, every run gives the documented value."""
    app = MockApp(seed=seed)
    with client_for(app) as api:
        scans = [api.post("/scans", json={**SCAN, "scanType": kind}).json() for kind in ("sast", "dast", "sca")]
    assert [scan["triggeredBy"] for scan in scans] == ["api-client"] * 3


def test_a_scan_fixture_naming_nobody_is_triggered_by_api_client():
    _, api = mock_with({"fixtures": {"appsecplus": {"scans": [{"applicationId": "app-12345", "scanType": "dast"}]}}})
    assert api.get("/scans/scan-001").json()["triggeredBy"] == "api-client"


# -- load-time validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("name: x\nrulez: []\n", 2, "unknown key 'rulez'"),
        ("rules:\n  - match: {operationId: Nope}\n    respond: {status: 500}\n", 2, "matches no operation"),
        ("rules:\n  - match: {operationId: GetScan}\n    respond: {status: 418}\n", 3, "does not document status 418"),
        (
            "rules:\n  - match: {operationId: GetScan}\n    respond:\n      status: 404\n      body: {error: 1}\n",
            5,
            "breaks appsecplus:GetScan's 404 schema",
        ),
        ("rules: [\n", 2, "invalid YAML"),
        (
            "fixtures:\n  appsecplus:\n    scans:\n      - {applicationId: app-0, scanType: sast}\n",
            4,
            "Application not found",
        ),
        ("fixtures:\n  appsecplus:\n    widgets: []\n", 3, "has no collection 'widgets'"),
        (
            "lifecycles:\n  appsecplus:\n    scans:\n      states:\n        running: {next: done}\n",
            5,
            "unknown state 'done'",
        ),
        ("rules:\n  - match: {}\n    chaos: {latency: soon}\n", 3, "chaos.latency"),
        ("auth:\n  appsecplus:\n    tokens: [{token: a, scopes: read}]\n", 3, "is not of type 'array'"),
        (  # JSON has no NaN or infinity: every place a scenario holds a number is sent as JSON
            "rules:\n  - match: {operationId: ListConnectors}\n    respond:\n      status: 500\n"
            "      body: {score: .nan}\n",
            5,
            "rules[0].respond.body.score: .nan and .inf are not JSON numbers",
        ),
        (
            "fixtures:\n  appsecplus:\n    connectors:\n      - {name: x, type: jira, config: {weight: -.inf}}\n",
            4,
            "not JSON numbers",
        ),
        ("seed: 1\nrules:\n  - match: {}\n    chaos: {latency: [0, .inf]}\n", 4, "not JSON numbers"),
    ],
)
def test_a_broken_scenario_fails_at_load_with_file_line_and_reason(tmp_path: Path, text, line, reason):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    app = MockApp()
    with pytest.raises(LoadError) as caught:
        app.load_scenario(path)
    assert str(caught.value).startswith(f"{path}:{line}:"), str(caught.value)
    assert reason in str(caught.value)
    assert app.scenario is None


EVERYTHING_WRONG = """\
name: many-problems
rulez: []
fixtures:
  appsecplus:
    widgets: []
    scans:
      - {applicationId: app-0, scanType: sast}
  nobody: {connectors: []}
auth:
  appsecplus:
    tokens: [{token: a, scopes: read}]
rules:
  - match: {operationId: Nope}
    respond: {status: 500}
  - match: {operationId: GetScan}
    respond: {status: 418}
  - match: {}
    chaos: {latency: soon}
lifecycles:
  appsecplus:
    scans:
      states:
        running: {next: done}
"""


def test_a_scenario_with_many_problems_reports_every_one_with_its_line(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(EVERYTHING_WRONG)
    with pytest.raises(LoadError) as caught:
        MockApp().load_scenario(path)
    lines = str(caught.value).splitlines()
    expected = {
        2: "unknown key 'rulez'",
        5: "has no collection 'widgets'",
        8: "unknown API family 'nobody'",
        11: "is not of type 'array'",
        13: "matches no operation",
        16: "does not document status 418",
        18: "chaos.latency",
        23: "unknown state 'done'",
    }
    assert len(lines) == len(expected), lines
    for line, reason in expected.items():
        assert any(text.startswith(f"{path}:{line}:") and reason in text for text in lines), (line, reason, lines)
    assert [p.line for p in caught.value.problems] == sorted(expected)


def test_specmock_validate_prints_every_problem(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(EVERYTHING_WRONG)
    bad = run_cli("validate", str(path))
    assert bad.returncode == 1
    reported = [line for line in bad.stderr.splitlines() if line.startswith((f"specmock: {path}:", f"{path}:"))]
    assert len(reported) == 8, bad.stderr


def test_undocumented_statuses_can_be_allowed_explicitly():
    rule = {"match": {"operationId": "GetScan"}, "respond": {"status": 418, "allowUndocumented": True}}
    _, api = mock_with({"rules": [rule]})
    api.event_hooks = {"response": []}  # 418 is not in the spec, on purpose
    assert api.get("/scans/x").status_code == 418


def test_the_server_does_not_start_on_a_broken_scenario(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("rules:\n  - match: {operationId: Nope}\n    respond: {status: 500}\n")
    run = run_cli("serve", "--port", "0", "--scenario", str(path))
    assert run.returncode == 2
    assert f"{path}:2: this rule matches no operation" in run.stderr


def test_specmock_validate_reports_broken_scenarios(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("rules:\n  - match: {operationId: GetScan}\n    respond: {status: 418}\n")
    ok = run_cli("validate")
    assert ok.returncode == 0, ok.stderr
    bad = run_cli("validate", str(path))
    assert bad.returncode == 1
    assert f"{path}:3:" in bad.stderr


def test_a_broken_scenario_swapped_in_at_runtime_is_refused_and_the_old_one_stays():
    _, api = mock_with({"name": "old", "rules": [{"match": {"operationId": "ListScans"}, "respond": {"status": 503}}]})
    refused = api.put(
        "/__specmock/scenario",
        content="rules:\n  - match: {operationId: Nope}\n    respond: {status: 1}\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert refused.status_code == 400
    assert "previous one stays" in refused.json()["error"]
    assert api.get("/__specmock/scenario").json()["active"] == "old"
    assert api.get("/scans").status_code == 503

    assert api.put("/__specmock/scenario", json={"use": "rate-limited"}).json()["active"] == "rate-limited"
    assert api.delete("/__specmock/scenario").status_code == 204
    assert api.get("/__specmock/scenario").json() == {"active": None}
    assert api.get("/scans").status_code == 200


def test_every_bundled_scenario_loads():
    files = sorted(p.stem for p in bundled_dir("scenarios").glob("*.yaml"))
    assert files == ["auth-errors", "default", "flaky-network", "rate-limited", "scan-failures", "slow-scans"]
    for name in files:
        MockApp(scenarios=[name])


def test_the_published_schema_is_current():
    published = json.loads((bundled_dir("scenarios") / "scenario.schema.json").read_text())
    assert published == SCENARIO_SCHEMA, "run `specmock schema > scenarios/scenario.schema.json`"


def test_prefer_code_forces_a_documented_status_for_one_request():
    app = MockApp()
    api = client_for(app)
    r = api.post("/connectors", json=CONNECTOR, headers={"Prefer": "code=409"})
    assert (r.status_code, r.headers["Preference-Applied"]) == (409, "code=409")
    assert api.get("/connectors").json() == []  # nothing was created
    assert api.get("/connectors", headers={"Prefer": "code=418"}).status_code == 400  # not documented: refused
