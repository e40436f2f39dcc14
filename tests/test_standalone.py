"""The standalone server as a frontend team runs it: CORS, persistence, admin API, config."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from conftest import BEARER, run_cli, start_server, stop_server
from specmock import AdminSettings, MockApp
from specmock._server.cli import build_app, is_loopback, parse_args
from specmock._testing.transport import SyncASGITransport

CONNECTOR = {"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com"}}
ORIGIN = "http://localhost:3000"


def in_process(app: MockApp) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://mock")


# -- CORS ---------------------------------------------------------------------------------


def test_a_browser_preflight_and_the_real_request_succeed_from_another_origin():
    api = in_process(MockApp())
    preflight = api.options(
        "/connectors",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers  # any page, so no credentials
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert {h.strip() for h in preflight.headers["access-control-allow-headers"].lower().split(",")} >= {
        "authorization",
        "content-type",
    }
    created = api.post("/connectors", json=CONNECTOR, headers={**BEARER, "Origin": ORIGIN})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in created.headers
    throttled = api.get("/connectors", headers={**BEARER, "Origin": ORIGIN, "Prefer": "code=429"})
    assert "retry-after" in throttled.headers["access-control-expose-headers"].lower()


def test_cors_can_be_restricted_to_listed_origins():
    api = in_process(MockApp(cors_origins=["https://app.example.com"]))
    allowed = api.get("/connectors", headers={**BEARER, "Origin": "https://app.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert allowed.headers["access-control-allow-credentials"] == "true"  # a named origin may send them
    other = api.get("/connectors", headers={**BEARER, "Origin": ORIGIN})
    assert "access-control-allow-origin" not in other.headers
    denied = api.options("/connectors", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert denied.status_code == 400


# -- admin API ------------------------------------------------------------------------------


def test_admin_is_refused_off_loopback_without_a_token():
    api = in_process(MockApp(admin=AdminSettings(open=False)))
    for method, path in [
        ("GET", "/__specmock/state"),
        ("POST", "/__specmock/reset"),
        ("GET", "/__specmock/journal"),
        ("PUT", "/__specmock/scenario"),
        ("POST", "/__specmock/clock/advance"),
    ]:
        r = api.request(method, path, json={})
        assert r.status_code == 403, path
        assert "admin API is off" in r.json()["error"]
    assert api.get("/__specmock/health").status_code == 200  # a container health check still works
    assert api.get("/connectors", headers=BEARER).status_code == 200  # the APIs are unaffected


def test_admin_needs_the_bearer_token_when_one_is_set():
    api = in_process(MockApp(admin=AdminSettings(open=False, token="s3cret")))
    assert api.get("/__specmock/state").status_code == 401
    assert api.get("/__specmock/state", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.get("/__specmock/state", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_the_admin_api_is_on_only_for_loopback_binds_unless_a_token_is_given(host, loopback):
    assert is_loopback(host) is loopback
    app = build_app(parse_args(["serve", "--host", host]))
    assert app.admin.open is loopback
    assert build_app(parse_args(["serve", "--host", host, "--admin-token", "t"])).admin.token == "t"


def test_state_export_and_import_round_trip():
    source = in_process(MockApp())
    source.post("/connectors", json=CONNECTOR, headers=BEARER)
    exported = source.get("/__specmock/state").json()
    target = in_process(MockApp())
    assert target.put("/__specmock/state", json=exported).status_code == 200
    assert target.get("/connectors/conn-001", headers=BEARER).json()["name"] == "GitHub Main"
    assert target.post("/connectors", json={**CONNECTOR, "name": "Next"}, headers=BEARER).json()["id"] == "conn-002"
    refused = target.put("/__specmock/state", json={"format": "nope"})
    assert refused.status_code == 400
    assert target.get("/connectors/conn-001", headers=BEARER).status_code == 200  # untouched


def test_the_loaded_specs_are_served_for_codegen():
    api = in_process(MockApp())
    specs = api.get("/__specmock/specs").json()["specs"]
    assert {s["family"] for s in specs} == {"appsecplus", "versori", "sdelements"}
    versori = api.get("/__specmock/specs/versori").json()
    assert versori["paths"]["/o/{organisation_id}/protocols/http/connectors"]["post"]["operationId"] == (
        "CreateHTTPConnector"
    )
    assert api.get("/__specmock/specs/versori?format=yaml").text.startswith("openapi: 3.1.0")
    assert api.get("/__specmock/specs/nope").status_code == 404


def test_the_admin_api_has_its_own_valid_openapi_document_covering_every_route():
    import yaml
    from openapi_spec_validator import validate

    from specmock._server.admin import ADMIN_SPEC, PREFIX, admin_routes
    from specmock._server.dashboard import dashboard_routes

    document = yaml.safe_load(ADMIN_SPEC.read_text())
    validate(document)
    documented = {(m.upper(), PREFIX + p) for p, item in document["paths"].items() for m in item if m != "parameters"}
    from specmock._contract.drift import DriftLog
    from specmock._contract.routes import ContractRoutes

    mock = MockApp()
    contract = ContractRoutes(mock, mock, DriftLog())  # `serve` and `proxy` put these in front
    routes = [*admin_routes(mock), *dashboard_routes(mock), *contract.router.routes]
    # `{seq:int}` is Starlette's converter for OpenAPI's `{seq}` with an integer schema.
    served = {(m, re.sub(r":\w+}", "}", r.path)) for r in routes for m in r.methods if m != "HEAD"}  # type: ignore[attr-defined]
    assert served == documented


# -- persistence -----------------------------------------------------------------------------


def wait_persisted(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if httpx.get(url + "/__specmock/health").json()["state"].get("upToDate"):
            return
        time.sleep(0.05)
    raise AssertionError("the state file was not written within 10 s")


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path):
    state = tmp_path / "state.json"
    served = start_server("--state-file", str(state), "--state-debounce", "0.1")
    try:
        with httpx.Client(base_url=served.url, headers=BEARER) as api:
            created = [api.post("/connectors", json={**CONNECTOR, "name": f"c{i}"}).json()["id"] for i in range(20)]
            api.delete(f"/connectors/{created[0]}")
            api.put(f"/connectors/{created[1]}", json={"name": "renamed"})
            api.post("/scans", json={"applicationId": "app-12345", "scanType": "sast"})
            wait_persisted(served.url)
    finally:
        served.process.send_signal(signal.SIGKILL)
        served.process.wait()
    restarted = start_server("--state-file", str(state))
    try:
        with httpx.Client(base_url=restarted.url, headers=BEARER) as api:
            names = {c["id"]: c["name"] for c in api.get("/connectors").json()}
            assert set(names) == set(created[1:])
            assert names[created[1]] == "renamed"
            assert api.get("/scans/scan-001").status_code == 200
            assert api.post("/connectors", json={**CONNECTOR, "name": "after"}).json()["id"] == "conn-021"
    finally:
        stop_server(restarted)


def test_sigterm_finishes_in_flight_requests_and_flushes_state(tmp_path: Path):
    state = tmp_path / "state.json"
    slow = tmp_path / "slow.yaml"
    slow.write_text("rules:\n  - match: {operationId: RegisterConnector}\n    chaos: {latency: 2s}\n")
    served = start_server("--state-file", str(state), "--state-debounce", "60", "--scenario", str(slow))
    import threading

    result: dict[str, int] = {}

    def create() -> None:
        result["status"] = httpx.post(
            served.url + "/connectors", json=CONNECTOR, headers=BEARER, timeout=10
        ).status_code

    thread = threading.Thread(target=create)
    thread.start()
    time.sleep(1.0)  # the request is in flight: the scenario holds it 2 s (a busy machine still gets it there)
    served.process.send_signal(signal.SIGTERM)
    thread.join(10)
    assert served.process.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM once it is done
    assert result["status"] == 201
    saved = json.loads(state.read_text())
    assert [e["item"]["name"] for e in saved["store"]["collections"]["appsecplus.connectors"]] == ["GitHub Main"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"format": "specmock-state", "version": 1, "store": {"collec', "the state file is corrupt (not JSON"),
        ('{"format": "other"}', "it is not a specmock-state file"),
        ('{"format": "specmock-state", "version": 9, "store": {}}', "unsupported version 9"),
        ('{"format": "specmock-state", "version": 1, "store": {"collections": {"x": [1]}}}', "'x' is malformed"),
    ],
)
def test_a_corrupt_state_file_is_refused_clearly(tmp_path: Path, content: str, reason: str):
    state = tmp_path / "state.json"
    state.write_text(content)
    run = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert run.returncode == 2
    assert str(state) in run.stderr
    assert reason in run.stderr
    assert state.read_text() == content  # never overwritten


# -- configuration ----------------------------------------------------------------------------


def test_environment_variables_configure_serve(tmp_path: Path):
    env = {
        "SPECMOCK_SEED": "9",
        "SPECMOCK_SCENARIO": "rate-limited",
        "SPECMOCK_ADMIN_TOKEN": "tok",
        "SPECMOCK_STATE_FILE": str(tmp_path / "s.json"),
        "SPECMOCK_NO_CORS": "1",
        "SPECMOCK_ACCESS_LOG": "false",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        args = parse_args(["serve"])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert (args.seed, args.scenario, args.admin_token, args.no_cors, args.access_log) == (
        9,
        ["rate-limited"],
        "tok",
        True,
        False,
    )
    assert args.state_file == tmp_path / "s.json"
    assert parse_args(["serve", "--seed", "3"]).seed == 3  # a flag beats the environment


def test_a_repeatable_flag_replaces_its_environment_variable_instead_of_adding_to_it(monkeypatch):
    monkeypatch.setenv("SPECMOCK_SCENARIO", "default,auth-errors")
    assert parse_args(["serve"]).scenario == ["default", "auth-errors"]
    assert parse_args(["serve", "--scenario", "rate-limited"]).scenario == ["rate-limited"]


def test_the_access_log_is_one_json_line_per_request():
    served = start_server("--log-level", "info")
    try:
        httpx.get(served.url + "/connectors", headers=BEARER)
        httpx.post(served.url + "/connectors", json={}, headers=BEARER)
    finally:
        served.process.send_signal(signal.SIGTERM)
        output, _ = served.process.communicate(timeout=15)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [(e["method"], e["path"], e["operationId"], e["status"]) for e in lines] == [
        ("GET", "/connectors", "ListConnectors", 200),
        ("POST", "/connectors", "RegisterConnector", 400),
    ]
    assert all(isinstance(e["ms"], float) and "rule" in e for e in lines)
