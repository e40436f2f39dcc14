"""Scenarios at work: forced responses, chaos on a real socket, seeds, tokens and the bundled scenarios.

Where the point is what a real HTTP client sees (a reset, a cut body, a slow
body), the tests talk to `specmock serve` over 127.0.0.1; everything else runs
in-process. In-process on a frozen clock, scenario latency is not slept: it
moves the mock's clock, so the chaos decisions (and their delays, read off the
clock) can be compared without waiting for them.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from conftest import ALM_PARAMS, BEARER, ORG, SDE_TOKEN, VERSORI, Served, conformance_hook, start_server, stop_server
from specmock import AdminSettings, MockApp, MockClock, load_specs
from specmock._scenario.registry import bundled_scenario_files
from specmock._testing.transport import SyncASGITransport

SCAN = {"applicationId": "app-12345", "scanType": "sast", "triggeredBy": "ci-pipeline"}
SDE = "/api/v2/connectors/alm/"
ADMIN = "/__specmock"

RETRY_SCENARIO = """
name: retry-twice
rules:
  - name: two-503s
    match: {operationId: TriggerScan}
    times: 2
    respond: {status: 503, retryAfter: 1}
"""

# -- helpers ---------------------------------------------------------------------------------------------------------

_SPECS = load_specs()


def mock(**kwargs: Any) -> MockApp:
    """A fresh MockApp on the bundled specs, compiled once per module (compiled specs are never changed)."""
    return MockApp(families=_SPECS, **kwargs)


def in_process(app: MockApp, check: bool = True, **kwargs: Any) -> httpx.Client:
    """An in-process client; `check` makes every response be checked against its spec."""
    hooks = {"response": [conformance_hook(app)]} if check else {}
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://mock", event_hooks=hooks, **kwargs)


#: Admin writes carry their media type (the admin API refuses the others: no cross-site form can send it).
YAML = {"Content-Type": "application/yaml"}


def use(server: Served, scenario: str | dict[str, Any]) -> None:
    """Make `scenario` (YAML text or a dict) the server's active scenario, from fresh data and an empty journal."""
    url = f"{server.url}{ADMIN}/scenario"
    if isinstance(scenario, dict):
        loaded = requests.put(url, json=scenario, timeout=10)
    else:
        loaded = requests.put(url, data=scenario.encode(), headers=YAML, timeout=10)
    assert loaded.status_code == 200, loaded.text
    assert requests.delete(f"{server.url}{ADMIN}/journal", timeout=10).status_code == 204


def rule(name: str, operation_id: str, **what: Any) -> dict[str, Any]:
    """A scenario of one named rule for one operation."""
    return {"rules": [{"name": name, "match": {"operationId": operation_id}, **what}]}


def journal(server: Served, operation_id: str | None = None) -> list[dict[str, Any]]:
    params = {"operationId": operation_id} if operation_id else None
    entries: list[dict[str, Any]] = requests.get(f"{server.url}{ADMIN}/journal", params=params, timeout=10).json()[
        "entries"
    ]
    return entries


def decisions(entries: list[dict[str, Any]]) -> list[tuple[int, str | None, str]]:
    return [(e["status"], e["rule"], e["outcome"]) for e in entries]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `specmock serve` for the chaos tests, started from a scenario file; each test loads its own."""
    path = tmp_path_factory.mktemp("scenarios") / "retry-twice.yaml"
    path.write_text(RETRY_SCENARIO)
    served = start_server("--scenario", str(path), "--seed", "3")
    try:
        assert requests.get(f"{served.url}{ADMIN}/scenario", timeout=10).json()["active"] == "retry-twice"
        yield served
    finally:
        stop_server(served)


# -- one test per kind of chaos, with a real client on a real socket -------------------------------------------------


def test_a_retrying_client_gets_two_503s_then_201_and_the_journal_shows_three_attempts(server: Served) -> None:
    use(server, RETRY_SCENARIO)
    retry = Retry(
        total=5,
        status_forcelist=[503],
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        backoff_factor=0,
    )
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        started = time.monotonic()
        response = session.post(f"{server.url}/scans", json=SCAN, headers=BEARER, timeout=10)
        elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert [h.status for h in response.raw.retries.history] == [503, 503]
    assert elapsed >= 2 * 1 - 0.05, "Retry-After: 1 was sent twice, and the client honoured it"
    attempts = journal(server, "TriggerScan")
    assert decisions(attempts) == [(503, "two-503s", "forced"), (503, "two-503s", "forced"), (201, None, "ok")]
    assert [e["seq"] for e in attempts] == sorted(e["seq"] for e in attempts)
    assert attempts[0]["responseBody"]["error"]["code"] == "ServiceUnavailableException"


def test_a_reset_connection_is_a_connection_error_not_a_response(server: Served) -> None:
    use(server, rule("drop-once", "ListScans", times=1, chaos={"reset": True}))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{server.url}/scans", headers=BEARER, timeout=10)
    after = requests.get(f"{server.url}/scans", headers=BEARER, timeout=10)
    assert after.status_code == 200, "the server lives on and the rule fired once"
    assert [(e["rule"], e["outcome"]) for e in journal(server, "ListScans")] == [("drop-once", "dropped"), (None, "ok")]


def test_a_truncated_body_is_a_broken_body_after_a_good_status(server: Served) -> None:
    use(server, rule("cut", "ListAlmConnectors", chaos={"truncate": True}))
    response = requests.get(f"{server.url}{SDE}", headers=SDE_TOKEN, stream=True, timeout=10)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 100
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _ = response.content
    assert [(e["rule"], e["outcome"]) for e in journal(server, "ListAlmConnectors")] == [("cut", "dropped")]


def raw_exchange(server: Served, path: str, headers: dict[str, str]) -> tuple[bytes, BaseException | None]:
    """Send one GET over a plain socket; everything received until the server closed, and the
    error the close raised (None for a clean FIN, ConnectionResetError for a reset)."""
    host, port = server.url.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as exc:
            return received, exc
    return received, None


def test_truncate_closes_cleanly_mid_body_and_reset_sends_a_reset(server: Served) -> None:
    use(server, rule("cut", "ListAlmConnectors", chaos={"truncate": True}))
    received, error = raw_exchange(server, SDE, SDE_TOKEN)
    assert error is None, "a truncated body ends with a clean close (FIN), not a reset"
    head, _, body = received.partition(b"\r\n\r\n")
    promised = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < promised, "the Content-Length promised more than arrived"

    use(server, rule("drop", "ListAlmConnectors", chaos={"reset": True}))
    received, error = raw_exchange(server, SDE, SDE_TOKEN)
    assert isinstance(error, ConnectionResetError), "a reset is a reset (RST), before any byte of a response"
    assert received == b""


def test_in_process_truncate_and_reset_are_distinct_httpx_errors() -> None:
    app = mock(scenarios=[rule("cut", "ListAlmConnectors", chaos={"truncate": True})])
    with in_process(app, check=False) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body: received"):
            client.get(SDE, headers=SDE_TOKEN)
        app.load_scenario(rule("drop", "ListAlmConnectors", chaos={"reset": True}))
        with pytest.raises(httpx.RemoteProtocolError, match="disconnected without sending"):
            client.get(SDE, headers=SDE_TOKEN)


def test_in_process_latency_on_a_frozen_clock_moves_the_clock_instead_of_sleeping() -> None:
    clock = MockClock(frozen=True)
    app = mock(clock=clock, scenarios=[rule("late", "ListAlmConnectors", chaos={"latency": "30s"})])
    before = clock.now()
    started = time.monotonic()
    with in_process(app) as client:
        assert client.get(SDE, headers=SDE_TOKEN).status_code == 200
    assert time.monotonic() - started < 5, "thirty seconds of latency cost no wall time"
    assert (clock.now() - before).total_seconds() == 30


def test_a_malformed_body_is_a_200_whose_json_does_not_parse(server: Served) -> None:
    use(server, rule("garbled", "GetAlmConnector", chaos={"malformed": True}))
    response = requests.get(f"{server.url}{SDE}1/", headers=SDE_TOKEN, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.content) == int(response.headers["content-length"]), "the body is complete, just not JSON"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert journal(server, "GetAlmConnector")[0]["rule"] == "garbled"


def test_latency_delays_the_response_by_at_least_the_configured_time(server: Served) -> None:
    use(server, rule("late", "ListAlmConnectors", chaos={"latency": "200ms"}))
    started = time.monotonic()
    response = requests.get(f"{server.url}{SDE}", headers=SDE_TOKEN, timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert elapsed >= 0.2


def test_trickle_sends_the_whole_body_in_chunks_with_pauses(server: Served) -> None:
    chunk, interval = 64, 0.05
    use(server, rule("slow-body", "GetAlmConnector", chaos={"trickle": {"chunk": chunk, "interval": "50ms"}}))
    started = time.monotonic()
    response = requests.get(f"{server.url}{SDE}1/", headers=SDE_TOKEN, stream=True, timeout=10)
    headers_at = time.monotonic() - started
    body = response.content
    done_at = time.monotonic() - started

    assert response.status_code == 200
    assert len(body) == int(response.headers["content-length"])
    assert json.loads(body)["name"] == "GitHub Example Connector"
    chunks = math.ceil(len(body) / chunk)
    assert chunks >= 4
    assert done_at - headers_at >= (chunks - 1) * interval - 0.01, "the body arrives over (chunks - 1) pauses"


@pytest.mark.parametrize(
    ("path", "headers", "error"),
    [
        ("/connectors", BEARER, {"error": {"code": "ThrottlingException", "message": "Too many requests."}}),
        (f"{VERSORI}/connectors", BEARER, {"code": "too_many_requests"}),
        (SDE, SDE_TOKEN, {"detail": "Request was throttled."}),
    ],
    ids=["appsecplus", "versori", "sdelements"],
)
def test_a_forced_429_carries_retry_after_and_the_family_error_body(
    server: Served, path: str, headers: dict[str, str], error: dict[str, Any]
) -> None:
    use(server, {"rules": [{"name": "throttle", "match": {}, "respond": {"status": 429, "retryAfter": 2}}]})
    response = requests.get(server.url + path, headers=headers, timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    for key, value in error.items():
        if isinstance(value, dict):
            assert body[key].items() >= value.items()
        else:
            assert body[key] == value
    if "message" in body:
        assert isinstance(body["message"], str) and body["message"]


def test_the_nth_call_fails_and_only_that_one(server: Served) -> None:
    use(
        server,
        """
rules:
  - name: third-call-fails
    match: {operationId: appsecplus:ListConnectors}
    after: 3
    times: 1
    respond: {status: 500, message: Boom on the third call.}
""",
    )
    statuses = [requests.get(f"{server.url}/connectors", headers=BEARER, timeout=10).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]
    entries = journal(server, "appsecplus:ListConnectors")
    assert decisions(entries) == [
        (200, None, "ok"),
        (200, None, "ok"),
        (500, "third-call-fails", "forced"),
        (200, None, "ok"),
    ]
    assert entries[2]["responseBody"] == {
        "error": {"code": "InternalServerException", "message": "Boom on the third call."}
    }


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


def frozen() -> MockClock:
    return MockClock(frozen=True, start=datetime(2025, 11, 1, tzinfo=UTC))


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
