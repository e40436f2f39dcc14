"""Tests of the AppSec+ scans client against specmock, as a project using specmock would write them.

The client gets specmock's in-process ``httpx.Client`` (no socket), and a
``sleep``/``clock`` pair on the mock's frozen clock: every poll interval and
Retry-After the client waits moves the mock's time forward, so scans progress
through their lifecycle and no test sleeps for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from scans_client import (
    ApplicationNotFound,
    Forbidden,
    InvalidRequest,
    RateLimited,
    ScanConflict,
    ScanNotFound,
    ScansClient,
    ScansConnectionError,
    ScanTimeout,
    ServerError,
    Unauthorized,
)

from specmock import Handle

BASE_URL = "http://specmock"
APP = "app-12345"  # the application every fresh AppSec+ mock knows
MakeClient = Callable[..., ScansClient]


def trigger_rule(status: int, **respond: Any) -> dict[str, Any]:
    """A scenario answering every TriggerScan with `status` (plus e.g. retryAfter=1, or times=2 on the rule)."""
    times = respond.pop("times", None)
    rule: dict[str, Any] = {"match": {"operationId": "TriggerScan"}, "respond": {"status": status, **respond}}
    if times is not None:
        rule["times"] = times
    return {"rules": [rule]}


def lifecycle(**states: dict[str, Any]) -> dict[str, Any]:
    """A scenario overriding states of the scan lifecycle, e.g. ``lifecycle(running={"next": "failed"})``."""
    return {"lifecycles": {"appsecplus": {"scans": {"states": states}}}}


class VirtualTime:
    """The client's `sleep` and `clock`, both on specmock's clock: waiting advances the mock instead of the test."""

    def __init__(self, specmock: Handle) -> None:
        self._mock_clock = specmock.clock
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._mock_clock.advance(seconds)

    def now(self) -> float:
        return self._mock_clock.now().timestamp()


@pytest.fixture
def vtime(specmock: Handle) -> VirtualTime:
    # Frozen, so the only thing that moves time is the client waiting: a scan's progress is a function of
    # the client's polling, not of how fast the machine runs the test.
    specmock.clock.freeze()
    return VirtualTime(specmock)


@pytest.fixture
def client_for(specmock: Handle, vtime: VirtualTime) -> MakeClient:
    """Make a ScansClient for a token, wired to the mock and to virtual time."""

    def make(token: str = "ci-token", **options: Any) -> ScansClient:
        return ScansClient(BASE_URL, token, http=specmock.client, sleep=vtime.sleep, clock=vtime.now, **options)

    return make


@pytest.fixture
def scans(client_for: MakeClient) -> ScansClient:
    return client_for()


# -- the happy path ----------------------------------------------------------------------------


def test_trigger_then_wait_until_completed_with_a_summary(
    specmock: Handle, scans: ScansClient, vtime: VirtualTime
) -> None:
    scan = scans.trigger(APP, "sast", triggered_by="ci-pipeline")
    assert (scan.id, scan.status, scan.triggered_by, scan.summary) == ("scan-001", "queued", "ci-pipeline", None)

    done = scans.wait(scan.id)

    assert done.status == "completed"
    assert done.summary is not None
    s = done.summary
    assert s.total_findings == s.critical + s.high + s.medium + s.low
    assert done.started_at is not None and done.completed_at is not None
    assert done.started_at <= done.completed_at
    # queued ~1 s, running ~3 s: a handful of 1 s polls, all on the mock's clock.
    assert vtime.sleeps and set(vtime.sleeps) == {1.0} and sum(vtime.sleeps) <= 8
    specmock.assert_called("TriggerScan", times=1)
    specmock.assert_called("GetScan", times=len(vtime.sleeps) + 1)


def test_get_and_list_scans(scans: ScansClient) -> None:
    first = scans.trigger(APP, "sast")
    second = scans.trigger(APP, "dast")

    assert scans.get(second.id).scan_type == "dast"
    assert [s.id for s in scans.list_scans(application_id=APP)] == [first.id, second.id]
    assert [s.id for s in scans.list_scans(status="completed")] == []


def test_a_finished_scan_no_longer_conflicts(scans: ScansClient) -> None:
    scans.wait(scans.trigger(APP, "sca").id)
    assert scans.trigger(APP, "sca").id == "scan-002"


# -- documented errors, each a typed exception ---------------------------------------------


def test_400_invalid_scan_type_is_invalid_request_with_details(specmock: Handle, scans: ScansClient) -> None:
    specmock.expect_invalid()  # we break the contract on purpose; specmock would otherwise fail the test
    with pytest.raises(InvalidRequest) as raised:
        scans.trigger(APP, "nessus")  # type: ignore[arg-type]
    assert raised.value.status == 400
    assert raised.value.code == "ValidationException"
    assert [d["field"] for d in raised.value.details] == ["scanType"]


@pytest.mark.specmock(scenario="auth-errors")
@pytest.mark.parametrize("token", ["revoked-token", "expired-token", "never-issued", ""])
def test_401_bad_or_missing_token_is_unauthorized(specmock: Handle, client_for: MakeClient, token: str) -> None:
    with pytest.raises(Unauthorized) as raised:
        client_for(token).trigger(APP, "sast")
    assert (raised.value.status, raised.value.message) == (401, "Authentication failed.")
    specmock.assert_called("TriggerScan", times=1)  # a 401 is final: not retried


@pytest.mark.specmock(scenario="auth-errors")
def test_403_read_only_token_cannot_trigger_but_can_read(client_for: MakeClient) -> None:
    admin, reader = client_for("admin-token"), client_for("read-only-token")
    scan = admin.trigger(APP, "sast")

    with pytest.raises(Forbidden) as raised:
        reader.trigger(APP, "dast")
    assert raised.value.code == "AccessDeniedException"
    assert reader.get(scan.id).id == scan.id


def test_404_unknown_application(scans: ScansClient) -> None:
    with pytest.raises(ApplicationNotFound, match="Application not found"):
        scans.trigger("app-99999", "sast")


def test_404_unknown_scan(scans: ScansClient) -> None:
    with pytest.raises(ScanNotFound) as raised:
        scans.get("scan-999")
    assert raised.value.code == "ResourceNotFoundException"


def test_409_same_application_and_type_already_queued(scans: ScansClient) -> None:
    scans.trigger(APP, "container")
    with pytest.raises(ScanConflict) as raised:
        scans.trigger(APP, "container")
    assert raised.value.status == 409


def test_429_that_persists_is_rate_limited_after_honouring_retry_after(
    specmock: Handle, scans: ScansClient, vtime: VirtualTime
) -> None:
    specmock.load_scenario(trigger_rule(429, retryAfter=2))
    with pytest.raises(RateLimited) as raised:
        scans.trigger(APP, "sast")
    assert raised.value.retry_after == 2
    assert vtime.sleeps == [2, 2, 2]  # max_retries=3, each after the server's Retry-After
    specmock.assert_called("TriggerScan", times=4)


def test_500_is_a_server_error_at_once(specmock: Handle, scans: ScansClient, vtime: VirtualTime) -> None:
    specmock.load_scenario(trigger_rule(500, message="Scan scheduler unavailable."))
    with pytest.raises(ServerError) as raised:
        scans.trigger(APP, "sast")
    assert (raised.value.status, raised.value.message) == (500, "Scan scheduler unavailable.")
    assert vtime.sleeps == []  # a 500 may have half-done the work: the caller decides
    specmock.assert_called("TriggerScan", times=1)


def test_503_that_persists_is_a_server_error_after_retries(
    specmock: Handle, scans: ScansClient, vtime: VirtualTime
) -> None:
    specmock.load_scenario(trigger_rule(503, retryAfter=1))
    with pytest.raises(ServerError) as raised:
        scans.trigger(APP, "sast")
    assert (raised.value.status, raised.value.code) == (503, "ServiceUnavailableException")
    assert vtime.sleeps == [1, 1, 1]
    specmock.assert_called("TriggerScan", times=4)


# -- retries -----------------------------------------------------------------------------------


def test_two_503s_then_success(specmock: Handle, scans: ScansClient, vtime: VirtualTime) -> None:
    specmock.load_scenario(trigger_rule(503, retryAfter=1, times=2))

    assert scans.trigger(APP, "sast").id == "scan-001"

    assert vtime.sleeps == [1, 1]
    specmock.assert_called("TriggerScan", times=3)
    assert [e.status for e in specmock.journal("TriggerScan")] == [503, 503, 201]


def test_without_retry_after_the_client_backs_off_exponentially(
    specmock: Handle, client_for: MakeClient, vtime: VirtualTime
) -> None:
    specmock.load_scenario(trigger_rule(503, times=3))
    client_for(backoff=0.25).trigger(APP, "sast")
    assert vtime.sleeps == [0.25, 0.5, 1.0]


@pytest.mark.specmock(scenario="rate-limited")
def test_bundled_rate_limited_scenario_is_absorbed(specmock: Handle, scans: ScansClient) -> None:
    scan = scans.wait(scans.trigger(APP, "sast").id)  # every third call to each operation is a 429
    assert scan.finished
    assert 429 in [e.status for e in specmock.journal("GetScan")]


# -- chaos: dropped connections ------------------------------------------------------------


def test_get_recovers_from_dropped_connections(specmock: Handle, scans: ScansClient, vtime: VirtualTime) -> None:
    scan = scans.trigger(APP, "sast")
    specmock.load_scenario(
        {"rules": [{"match": {"operationId": "GetScan"}, "times": 2, "chaos": {"reset": True}}]}, reset=False
    )

    assert scans.get(scan.id).id == scan.id

    specmock.assert_called("GetScan", times=3)
    assert [e.outcome for e in specmock.journal("GetScan")] == ["dropped", "dropped", "ok"]
    assert vtime.sleeps == [0.5, 1.0]


def test_trigger_is_not_retried_after_a_dropped_connection(specmock: Handle, scans: ScansClient) -> None:
    specmock.load_scenario({"rules": [{"match": {"operationId": "TriggerScan"}, "chaos": {"reset": True}}]})
    with pytest.raises(ScansConnectionError):
        scans.trigger(APP, "sast")
    specmock.assert_called("TriggerScan", times=1)  # it may have been queued: don't queue it twice


def test_get_gives_up_when_every_connection_drops(specmock: Handle, scans: ScansClient) -> None:
    specmock.load_scenario({"rules": [{"match": {"operationId": "GetScan"}, "chaos": {"reset": True}}]})
    with pytest.raises(ScansConnectionError):
        scans.get("scan-001")
    specmock.assert_called("GetScan", times=4)


@pytest.mark.specmock(seed=15)  # a seed whose chaos draws meet a reset, a truncated body and a 503 while polling
def test_wait_rides_out_the_bundled_flaky_network(specmock: Handle, scans: ScansClient) -> None:
    scan = scans.trigger(APP, "sast")  # before the chaos: a dropped POST is (rightly) not retried
    specmock.load_scenario("flaky-network", reset=False)  # 503s, resets, truncated bodies, 20-150 ms latency

    assert scans.wait(scan.id).status == "completed"

    fired = {name for e in specmock.journal("GetScan") for name in (e.rule or "").split(", ")}
    assert {"connection-reset", "truncated-body", "service-unavailable"} <= fired


# -- lifecycle outcomes ------------------------------------------------------------------------


def test_a_failed_scan_is_returned_not_raised(specmock: Handle, scans: ScansClient) -> None:
    specmock.load_scenario(lifecycle(running={"next": "failed"}))

    scan = scans.wait(scans.trigger(APP, "dast").id)

    assert scan.status == "failed"
    assert scan.summary is None
    assert scan.completed_at is not None


def test_wait_times_out_on_the_clients_clock(specmock: Handle, scans: ScansClient, vtime: VirtualTime) -> None:
    specmock.load_scenario(lifecycle(queued={"after": "1h"}))
    scan = scans.trigger(APP, "sast")

    with pytest.raises(ScanTimeout) as raised:
        scans.wait(scan.id, timeout=10)

    assert raised.value.scan.status == "queued"
    assert sum(vtime.sleeps) == 10
    specmock.assert_called("GetScan", times=11)  # at 0 s, 1 s, ... 10 s
