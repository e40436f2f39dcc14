"""The admin API as a hostile web page or a hostile Host header sees it: closed.

`specmock serve` answers the admin API only under its own host names, grants no
CORS to it unless an origin is named, takes writes only as JSON (no HTML form or
CORS simple request can send that), caps admin bodies, and never builds a
redirect from the Host header. The API itself keeps its any-origin CORS.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conftest import BEARER
from specmock._server.admin_guard import AdminSettings
from specmock._server.app import MockApp
from specmock._server.cli import build_app, parse_args
from specmock._testing.transport import SyncASGITransport

EVIL = "https://evil.example"


def serve_app(*flags: str) -> MockApp:
    """The MockApp `specmock serve` would run with these flags (no socket needed)."""
    return build_app(parse_args(["serve", *flags]))


def client(app: MockApp, host: str = "127.0.0.1:8080") -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url=f"http://{host}")


def test_the_admin_api_grants_no_cors_to_any_page() -> None:
    api = client(serve_app())
    read = api.get("/__specmock/state", headers={"Origin": EVIL})
    assert read.status_code == 200  # same-machine tools still work
    assert "access-control-allow-origin" not in read.headers
    preflight = api.options("/__specmock/reset", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    # The API keeps its documented any-origin CORS, without credentials (issue 23, finding 3).
    listed = api.get("/connectors", headers={**BEARER, "Origin": EVIL})
    assert listed.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in listed.headers


def test_an_admin_cors_origin_is_granted_only_to_that_origin() -> None:
    api = client(serve_app("--admin-cors-origin", "http://localhost:3000"))
    ok = api.get("/__specmock/state", headers={"Origin": "http://localhost:3000"})
    assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = api.get("/__specmock/state", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/__specmock/reset", "text/plain"),
        ("POST", "/__specmock/reset", "application/x-www-form-urlencoded"),
        ("POST", "/__specmock/reset", "multipart/form-data; boundary=x"),
        ("POST", "/__specmock/reset", None),
        ("POST", "/__specmock/clock/advance", "text/plain"),
        ("PUT", "/__specmock/state", "text/plain"),
        ("PUT", "/__specmock/clock", "application/x-www-form-urlencoded"),
        ("PUT", "/__specmock/scenario", "text/plain"),
    ],
)
def test_admin_writes_that_a_form_or_simple_request_can_send_are_refused(
    method: str, path: str, content_type: str | None
) -> None:
    app = serve_app()
    api = client(app)
    api.post("/connectors", json={"type": "github", "name": "kept", "config": {"a": 1}}, headers=BEARER)
    before = api.get("/__specmock/state").json()
    headers = {"Content-Type": content_type} if content_type else {}
    refused = api.request(method, path, content=b'{"seconds": 5}' if content_type else b"", headers=headers)
    assert refused.status_code == 415
    assert "application/json" in refused.json()["error"]
    assert api.get("/__specmock/state").json() == before


def test_admin_writes_as_json_and_scenarios_as_yaml_are_accepted() -> None:
    api = client(serve_app())
    assert api.post("/__specmock/reset", json={}).status_code == 200
    assert api.post("/__specmock/clock/advance", json={"seconds": 5}).status_code == 200
    yaml_scenario = b"name: inline\nrules: []\n"
    loaded = api.put("/__specmock/scenario", content=yaml_scenario, headers={"Content-Type": "application/yaml"})
    assert loaded.status_code == 200, loaded.text
    assert api.delete("/__specmock/journal").status_code == 204  # DELETE needs a preflight cross-site


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", "localhost.evil.example", "", "[::2]:80"]
)
def test_a_foreign_host_header_is_refused_so_dns_rebinding_cannot_reach_the_admin_api(host: str) -> None:
    api = client(serve_app())
    refused = api.get("/__specmock/state", headers={"Host": host})
    assert refused.status_code == 403
    assert "--allowed-host" in refused.json()["error"]
    # The API itself and health answer any Host (a container probe uses whatever name routes).
    assert api.get("/__specmock/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:9", "[::1]:8080", "LOCALHOST."])
def test_this_machines_own_names_are_accepted(host: str) -> None:
    assert client(serve_app()).get("/__specmock/state", headers={"Host": host}).status_code == 200


def test_allowed_host_and_the_bound_address_are_accepted() -> None:
    app = serve_app("--host", "10.1.2.3", "--admin-token", "t0k", "--allowed-host", "mock.internal")
    api = client(app)
    auth = {"Authorization": "Bearer t0k"}
    assert api.get("/__specmock/state", headers={**auth, "Host": "mock.internal:8080"}).status_code == 200
    assert api.get("/__specmock/state", headers={**auth, "Host": "10.1.2.3:8080"}).status_code == 200
    assert api.get("/__specmock/state", headers={**auth, "Host": "other.internal"}).status_code == 403


def test_the_trailing_slash_redirect_never_names_the_host() -> None:
    api = client(serve_app())
    redirected = api.get("/__specmock/state/?x=1", headers={"Host": "localhost"})
    assert redirected.status_code == 307
    assert redirected.headers["location"] == "/__specmock/state?x=1"
    # Even in-process, where any Host is accepted, the Location is relative.
    in_process = client(MockApp(), host="evil.example")
    assert in_process.get("/__specmock/clock/").headers["location"] == "/__specmock/clock"


def test_admin_bodies_are_capped() -> None:
    app = serve_app("--admin-max-body", "1000")
    api = client(app)
    as_json = {"Content-Type": "application/json"}
    declared = api.put("/__specmock/state", content=b"{" + b" " * 2000 + b"}", headers=as_json)
    assert declared.status_code == 413
    assert "limit of 1000 bytes" in declared.json()["error"]

    def chunks():  # no Content-Length: the cap holds while reading
        for _ in range(20):
            yield b" " * 100

    streamed = api.put("/__specmock/scenario", content=chunks(), headers=as_json)
    assert streamed.status_code == 413


def test_the_default_admin_body_cap_is_ten_mebibytes() -> None:
    assert serve_app().admin.max_body == 10 * 1024 * 1024


def test_the_admin_gate_is_one_function_other_admin_pages_reuse(tmp_path: Path) -> None:
    from starlette.requests import Request

    from specmock._server.admin_guard import admin_refusal

    app = serve_app()
    scope = {"type": "http", "method": "GET", "path": "/__specmock/ui", "headers": [(b"host", b"evil.example")]}
    refusal = admin_refusal(app.admin, Request(scope))
    assert refusal is not None and refusal.status_code == 403


# -- X-Specmock-Scenario cannot switch tokens off ---------------------------------------------


@pytest.mark.parametrize("picked", ["default", "flaky-network", "auth-errors"])
def test_a_per_request_scenario_keeps_the_servers_token_policy(picked: str) -> None:
    api = client(MockApp(scenarios=["auth-errors"]))
    header = {"X-Specmock-Scenario": picked}
    anyone = api.get("/connectors", headers={**header, "Authorization": "Bearer whatever"})
    assert anyone.status_code == 401
    read_only = {**header, "Authorization": "Bearer read-only-token"}
    write = api.post("/connectors", json={"type": "github", "name": "x", "config": {"a": 1}}, headers=read_only)
    assert write.status_code == 403
    assert api.get("/connectors", headers={**header, "Authorization": "Bearer admin-token"}).status_code == 200


def test_a_per_request_scenario_can_add_token_checks_where_the_server_has_none() -> None:
    api = client(MockApp())
    assert api.get("/connectors", headers={"Authorization": "Bearer whatever"}).status_code == 200
    stricter = {"X-Specmock-Scenario": "auth-errors", "Authorization": "Bearer whatever"}
    assert api.get("/connectors", headers=stricter).status_code == 401


# -- non-ASCII credentials on the admin API (finding 8) -------------------------------------------


@pytest.mark.parametrize("token", ["s3cret", "tökén-ü", "\u2603snow"])
@pytest.mark.parametrize(
    "given", [b"Bearer caf\xc3\xa9", b"Bearer \xff\xfe", "Bearer tökén-ü".encode(), b"Basic \xff", b"\xe2\x98\x83"]
)
def test_a_non_ascii_admin_token_or_authorization_is_a_401_or_accepted_never_a_500(token: str, given: bytes) -> None:
    api = client(MockApp(admin=AdminSettings(open=False, token=token)))
    answer = api.get("/__specmock/state", headers={"Authorization": given})
    expected = 200 if given == f"Bearer {token}".encode() else 401
    assert answer.status_code == expected
    right = api.get("/__specmock/state", headers={"Authorization": f"Bearer {token}".encode()})
    assert right.status_code == 200
