"""Scans run through their declared lifecycle on a clock the test controls."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from conftest import BEARER, VERSORI, start_server, stop_server
from specmock import LoadError, MockApp, MockClock, load_specs
from specmock._testing.transport import SyncASGITransport

SCAN = {"applicationId": "app-12345", "scanType": "sast", "triggeredBy": "ci-pipeline"}


def frozen_client(seed: int = 1) -> tuple[MockApp, httpx.Client]:
    start = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    app = MockApp(seed=seed, clock=MockClock(frozen=True, start=start))
    return app, httpx.Client(transport=SyncASGITransport(app), base_url="http://mock", headers=BEARER)


def run_to_end(seed: int) -> dict:
    app, client = frozen_client(seed)
    assert client.post("/scans", json=SCAN).json()["status"] == "queued"
    app.clock.advance(60)
    return client.get("/scans/scan-001").json()


def test_scan_goes_queued_running_completed_as_the_clock_advances():
    app, client = frozen_client(seed=1)
    scan = client.post("/scans", json=SCAN).json()
    assert (scan["status"], scan["startedAt"], scan["completedAt"], scan["summary"]) == ("queued", None, None, None)

    app.clock.advance(0.4)  # queued lasts 1s +/- 0.5s
    assert client.get("/scans/scan-001").json()["status"] == "queued"

    app.clock.advance(1.2)  # past the queued window, not past running's 3s +/- 1s
    running = client.get("/scans/scan-001").json()
    assert running["status"] == "running"
    assert running["startedAt"] is not None and running["completedAt"] is None

    app.clock.advance(10)
    done = client.get("/scans/scan-001").json()
    assert done["status"] in ("completed", "failed")
    assert done["startedAt"] == running["startedAt"]
    assert done["startedAt"] <= done["completedAt"]


def test_a_frozen_clock_never_moves_a_scan_by_itself():
    _, client = frozen_client()
    client.post("/scans", json=SCAN)
    for _ in range(20):
        assert client.get("/scans/scan-001").json()["status"] == "queued"


def test_completed_scans_have_a_consistent_summary_and_failed_ones_none():
    outcomes = {}
    for seed in range(60):
        scan = run_to_end(seed)
        outcomes.setdefault(scan["status"], scan)
        if len(outcomes) == 2:
            break
    assert set(outcomes) == {"completed", "failed"}, "60 seeds should show both outcomes (10% fail)"
    summary = outcomes["completed"]["summary"]
    assert summary["totalFindings"] == summary["critical"] + summary["high"] + summary["medium"] + summary["low"]
    assert outcomes["failed"]["summary"] is None
    assert outcomes["failed"]["completedAt"] is not None


def test_the_same_seed_replays_the_same_outcomes_and_summaries():
    assert run_to_end(7) == run_to_end(7)
    different = [run_to_end(seed) for seed in range(8)]
    assert len({repr(s["summary"]) for s in different}) > 1, "different seeds should give different summaries"


def test_polling_often_does_not_change_the_outcome():
    """Draws are per scan and per step, not per read: how a client polls cannot change results."""
    quiet = run_to_end(3)
    app, client = frozen_client(3)
    client.post("/scans", json=SCAN)
    for _ in range(100):
        app.clock.advance(0.1)
        client.get("/scans")
    assert client.get("/scans/scan-001").json() == quiet


def test_trigger_for_an_unknown_application_is_404():
    _, client = frozen_client()
    r = client.post("/scans", json={**SCAN, "applicationId": "app-99999"})
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "ResourceNotFoundException", "message": "Application not found."}}
    assert client.get("/scans").json() == []


def test_a_second_scan_while_one_is_queued_or_running_is_409_and_accepted_once_it_finished():
    app, client = frozen_client()
    client.post("/scans", json=SCAN)
    conflict = client.post("/scans", json=SCAN)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["message"] == "Conflicting scan is already running."
    assert client.post("/scans", json={**SCAN, "scanType": "dast"}).status_code == 201  # another type is fine

    app.clock.advance(2)  # running now
    assert client.get("/scans/scan-001").json()["status"] == "running"
    assert client.post("/scans", json=SCAN).status_code == 409

    app.clock.advance(30)  # finished: no read needed, the check itself sees the current state
    again = client.post("/scans", json=SCAN)
    assert again.status_code == 201
    assert again.json()["id"] == "scan-003"


def test_list_scans_filters_by_application_and_current_status():
    app, client = frozen_client()
    client.post("/scans", json=SCAN)
    app.clock.advance(30)
    client.post("/scans", json={**SCAN, "scanType": "sca"})
    finished = client.get("/scans/scan-001").json()["status"]

    assert [s["id"] for s in client.get("/scans", params={"status": "queued"}).json()] == ["scan-002"]
    assert [s["id"] for s in client.get("/scans", params={"status": finished}).json()] == ["scan-001"]
    assert client.get("/scans", params={"status": "running"}).json() == []
    assert len(client.get("/scans", params={"applicationId": "app-12345"}).json()) == 2
    assert client.get("/scans", params={"applicationId": "app-00000"}).json() == []
    bad = client.get("/scans", params={"status": "done"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "status"


def test_read_counted_transitions_and_forced_outcomes_from_python():
    app, client = frozen_client()
    app.override_lifecycle(
        "appsecplus",
        "scans",
        {"states": {"queued": {"after": None, "afterReads": 2}, "running": {"afterReads": 1, "next": "failed"}}},
    )
    client.post("/scans", json=SCAN)
    seen = [client.get("/scans/scan-001").json()["status"] for _ in range(5)]
    assert seen == ["queued", "queued", "running", "failed", "failed"]
    app.override_lifecycle("appsecplus", "scans", None)
    assert app.lifecycle("appsecplus", "scans") is app.collection("appsecplus", "scans").lifecycle


def test_a_scenario_changes_its_app_and_never_the_compiled_specs_others_share():
    families = load_specs()
    scans = next(f for f in families if f.name == "appsecplus").collections["scans"]
    spec_lifecycle = scans.lifecycle
    failing, plain = MockApp(families=families), MockApp(families=families)
    failing.override_lifecycle("appsecplus", "scans", {"states": {"running": {"next": "failed"}}})
    assert failing.lifecycle("appsecplus", "scans") is not spec_lifecycle
    assert plain.lifecycle("appsecplus", "scans") is spec_lifecycle
    assert scans.lifecycle is spec_lifecycle
    failing.load_scenario({"name": "s", "lifecycles": {"appsecplus": {"scans": {"initial": "running"}}}})
    assert failing.lifecycle("appsecplus", "scans").initial == "running"
    assert plain.lifecycle("appsecplus", "scans").initial == "queued"
    failing.clear_scenario()
    assert failing.lifecycle("appsecplus", "scans") is spec_lifecycle


def test_an_invalid_override_is_refused_and_the_old_lifecycle_stays():
    app, _ = frozen_client()
    before = app.lifecycle("appsecplus", "scans")
    with pytest.raises(ValueError, match="unknown state 'done'"):
        app.override_lifecycle("appsecplus", "scans", {"states": {"running": {"next": "done"}}})
    assert app.lifecycle("appsecplus", "scans") is before


def test_clock_admin_endpoints():
    _, client = frozen_client()
    state = client.get("/__specmock/clock").json()
    assert state["frozen"] is True
    client.post("/scans", json=SCAN)
    advanced = client.post("/__specmock/clock/advance", json={"seconds": 30}).json()
    assert advanced["now"] > state["now"]
    assert client.get("/scans/scan-001").json()["status"] in ("completed", "failed")
    assert client.put("/__specmock/clock", json={"now": "2030-01-01T00:00:00Z"}).json()["now"] == "2030-01-01T00:00:00Z"
    assert client.post("/__specmock/clock/advance", json={"seconds": -1}).status_code == 400
    assert client.put("/__specmock/clock", json={"frozen": False}).json()["frozen"] is False


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2030, 1, 2, 3, 4, 5),  # naive: UTC
        "2030-01-02T03:04:05Z",
        "2030-01-02T04:04:05+01:00",
        1893553445,  # epoch seconds
        1893553445.0,
    ],
)
def test_a_clock_is_set_from_a_datetime_an_iso_string_or_epoch_seconds(moment):
    clock = MockClock(frozen=True)
    clock.set(moment)
    assert clock.now() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "error"), [(None, TypeError), (True, TypeError), ([2030], TypeError), ("soon", ValueError)]
)
def test_anything_else_is_a_clear_error(moment, error):
    with pytest.raises(error, match=r"ISO 8601|not"):
        MockClock().set(moment)


def test_versori_connector_starts_with_a_draft_version_that_publish_and_unpublish_toggle(client):
    connector = client.post(
        f"{VERSORI}/protocols/http/connectors",
        json={"name": "Shopify", "baseUrl": "https://shop.example.com", "authSchemeConfigs": []},
        headers=BEARER,
    ).json()
    (draft,) = connector["versions"]
    assert (draft["name"], draft["publishedAt"], draft["isDefault"]) == ("1", None, True)
    base = f"{VERSORI}/connectors/{connector['id']}/versions"
    assert client.get(f"{base}/latest", headers=BEARER).status_code == 404  # nothing published yet

    published = client.post(f"{base}/1/publish", headers=BEARER).json()["version"]
    assert published["publishedAt"] is not None and published["isLatest"] is True
    assert client.get(f"{base}/latest", headers=BEARER).json()["name"] == "1"
    shown = client.get(f"{VERSORI}/connectors/{connector['id']}", headers=BEARER).json()
    assert shown["versions"][0]["publishedAt"] == published["publishedAt"]

    client.post(base, json={"name": "2"}, headers=BEARER)
    client.post(f"{base}/2/publish", headers=BEARER)
    versions = {v["name"]: v for v in client.get(base, headers=BEARER).json()["items"]}
    assert (versions["1"]["isLatest"], versions["2"]["isLatest"]) == (False, True)

    unpublished = client.post(f"{base}/2/unpublish", headers=BEARER).json()["version"]
    assert (unpublished["publishedAt"], unpublished["isLatest"]) == (None, False)
    assert client.get(f"{base}/default", headers=BEARER).json()["name"] == "1"


@pytest.mark.parametrize(
    ("states", "reason"),
    [
        ("{queued: {after: 1s, next: runing}, runing2: {}}", "unknown state 'runing'"),
        ("{queued: {after: 1s, next: running}, running: {}, failed: {}}", "terminal state 'failed' is unreachable"),
        ("{queued: {after: soon, next: running}, running: {}}", "not a duration: 'soon'"),
        ("{queued: {after: -2, next: running}, running: {}}", "cannot be negative"),
        ("{queued: {after: 1s, next: running}, running: {after: 1s, next: queued}}", "no terminal state"),
        ("{queued: {after: 1s, next: running}, running: {onEnter: {x: $later}}}", "unknown placeholder"),
    ],
)
def test_a_broken_lifecycle_fails_at_load_with_file_line_and_reason(tmp_path, states, reason):
    from specmock._spec.bundled import bundled_dir

    source = (bundled_dir("specs") / "appsecplus.yaml").read_text()
    start = source.index("      lifecycle:")
    end = source.index("\npaths:")
    broken = (
        source[:start]
        + f"      lifecycle:\n        field: status\n        initial: queued\n        states: {states}\n"
        + source[end:]
    )
    path = tmp_path / "appsecplus.yaml"
    path.write_text(broken)
    with pytest.raises(LoadError) as caught:
        load_specs([path])
    message = str(caught.value)
    assert reason in message
    line = broken[:start].count("\n") + 4  # the `states:` line
    assert message.startswith(f"{path}:{line}:"), message


def test_polling_a_served_scan_on_real_time_sees_queued_running_completed():
    """A real client polls `specmock serve` on the wall clock: the default timings finish in seconds."""
    served = start_server("--seed", "2")  # with seed 2, scan-001 completes (seed 1 fails it)
    try:
        with httpx.Client(base_url=served.url, headers=BEARER, timeout=5) as api:
            scan = api.post("/scans", json=SCAN).json()
            seen = [scan["status"]]
            deadline = time.monotonic() + 10
            while seen[-1] not in ("completed", "failed") and time.monotonic() < deadline:
                time.sleep(0.2)
                status = api.get(f"/scans/{scan['id']}").json()["status"]
                if status != seen[-1]:
                    seen.append(status)
    finally:
        stop_server(served)
    assert seen == ["queued", "running", "completed"]


def test_a_listed_scan_shows_as_stored_once_settled_until_it_is_written_or_its_lifecycle_changes():
    """A list keeps the view of a scan that can no longer move (terminal, counting no reads);
    a write or another lifecycle makes it anew, and it always answers what a GET of the scan does."""
    app, client = frozen_client()
    for _ in range(2):
        client.post("/scans", json=SCAN)
        app.clock.advance(60)  # settles: the next scan is not refused as a second running one
    listed = client.get("/scans").json()
    assert [s["status"] in ("completed", "failed") for s in listed] == [True] * len(listed)
    assert client.get("/scans").json() == listed  # from the kept views
    assert all(client.get(f"/scans/{s['id']}").json() == s for s in listed)
    assert client.get("/scans", params={"status": listed[0]["status"]}).json()[0] == listed[0]
    with app.store.lock:
        item = app.store.get("appsecplus.scans", (), listed[0]["id"])
        assert item is not None
        app.store.put("appsecplus.scans", (), listed[0]["id"], {**item, "triggeredBy": "by hand"})
    assert client.get("/scans").json()[0] == {**listed[0], "triggeredBy": "by hand"}
    app.override_lifecycle("appsecplus", "scans", {"states": {"running": {"next": "failed"}}})
    client.get("/scans")
    with app.store.lock:
        kept = app.store.derived("appsecplus.scans", (), listed[0]["id"])
    assert kept is not None and kept[0] is app.lifecycle("appsecplus", "scans")  # settled anew under it
