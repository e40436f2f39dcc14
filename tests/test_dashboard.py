"""The dashboard's endpoints, in-process: who may use them, and what they change.

The page itself is driven in a real browser by test_dashboard_browser.py; here
the HTTP contract it relies on is pinned down class by class.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import BEARER, start_server, stop_server
from specmock import AdminSettings, MockApp
from specmock._runtime.journal import Entry, Journal
from specmock._server.dashboard_events import Feed
from specmock._testing.transport import SyncASGITransport

UI = "/__specmock/ui/"
#: Every dashboard route a browser reads: each must be gated like the admin API.
GATED = [
    "/__specmock/events",
    "/__specmock/collections",
    "/__specmock/collections/appsecplus/scans",
    "/__specmock/coverage",
    "/__specmock/scenarios",
    "/__specmock/journal/1",
]


def client_for(app: MockApp) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


@pytest.fixture
def admin(app: MockApp) -> Iterator[httpx.Client]:
    with client_for(app) as c:
        yield c


@pytest.mark.parametrize("path", GATED)
def test_off_loopback_without_a_token_the_dashboard_is_refused(path: str):
    app = MockApp(seed=1, admin=AdminSettings(open=False))
    with client_for(app) as c:
        response = c.get(path)
    assert response.status_code == 403
    assert "not on loopback" in response.json()["error"]


@pytest.mark.parametrize("path", GATED)
def test_with_an_admin_token_the_dashboard_needs_it(path: str):
    app = MockApp(seed=1, admin=AdminSettings(open=False, token="s3cret"))
    with client_for(app) as c:
        assert c.get(path).status_code == 401
        assert c.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        if path != "/__specmock/events":  # a stream never ends: its refusal is what matters here
            assert c.get(path, headers={"Authorization": "Bearer s3cret"}).status_code in (200, 404)


def test_the_token_in_the_address_moves_to_the_fragment_and_no_cookie_is_set_or_honoured():
    app = MockApp(seed=1, admin=AdminSettings(open=False, token="s3cret", allowed_hosts=frozenset({"testserver"})))
    with client_for(app) as c:
        assert c.get("/__specmock/ui?token=wrong").status_code == 401
        entry = c.get("/__specmock/ui?token=s3cret")
        assert entry.status_code == 303 and entry.headers["location"] == UI + "#token=s3cret"
        assert "set-cookie" not in entry.headers  # a cookie would reach every port of this host
        assert c.get("/__specmock/state", headers={"Cookie": "specmock_admin_token=s3cret"}).status_code == 401
        assert c.get("/__specmock/state", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/__specmock/events?token=wrong").status_code == 401  # the stream's only way to carry it
        # The page's files hold no data: no token needed, but still only for this server's own Host.
        assert c.get(UI).status_code == 200
        assert c.get("/__specmock/ui/api.js").status_code == 200
        assert c.get(UI, headers={"Host": "rebound.example"}).status_code == 403


def test_the_page_and_its_modules_are_served_with_a_policy_that_keeps_them_offline(admin: httpx.Client):
    page = admin.get(UI)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    for name in ("main.js", "api.js", "traffic.js", "state.js", "scenario.js", "clock.js", "charts.js", "coverage.js"):
        module = admin.get(f"/__specmock/ui/{name}")
        assert module.status_code == 200 and module.headers["content-type"].startswith("text/javascript"), name
        assert "http://" not in module.text and "https://" not in module.text, f"{name} reaches outside"
    assert admin.get("/__specmock/ui/style.css").headers["content-type"].startswith("text/css")
    assert admin.get("/__specmock/ui/../admin.py").status_code == 404
    assert admin.get("/__specmock/ui/nothing.js").status_code == 404
    assert admin.get("/__specmock/ui").status_code == 303


def test_an_item_edit_is_checked_against_the_schema_and_seen_by_the_api(app: MockApp, admin: httpx.Client):
    path = "/__specmock/collections/sdelements/alm_connectors/items/1"
    item = admin.get("/__specmock/collections/sdelements/alm_connectors").json()["items"][0]["item"]
    bad = admin.put(path, json={**item, "name": 42, "inaccessible": "no"})
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"name", "inaccessible"}
    moved = admin.put(path, json={**item, "id": 2})
    assert moved.status_code == 422 and moved.json()["errors"][0]["path"] == "id"
    assert admin.get("/api/v2/connectors/alm/1/", headers={"Authorization": "Token x"}).json()["name"] == item["name"]

    assert admin.put(path, json={**item, "name": "Renamed"}).status_code == 200
    assert admin.get("/api/v2/connectors/alm/1/", headers={"Authorization": "Token x"}).json()["name"] == "Renamed"
    assert admin.put(path, content=b"[1]", headers={"Content-Type": "application/json"}).status_code == 400
    assert admin.put("/__specmock/collections/sdelements/alm_connectors/items/999", json=item).status_code == 404
    assert admin.get("/__specmock/collections/nope/alm_connectors").status_code == 404


def test_items_are_added_and_deleted(admin: httpx.Client):
    items = "/__specmock/collections/appsecplus/applications/items"
    refused = admin.post(items, json={"name": 7})
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "name"
    added = admin.post(items, json={"id": "app-2", "name": "Added"})
    assert added.status_code == 201 and added.json()["item"] == {"id": "app-2", "name": "Added"}
    assert admin.post(items, json={"id": "app-2", "name": "Again"}).status_code == 409
    counts = {c["name"]: c["count"] for c in admin.get("/__specmock/collections").json()["collections"]}
    assert counts["applications"] == 2
    assert admin.delete(f"{items}/app-2").status_code == 204
    assert admin.delete(f"{items}/app-2").status_code == 404


def test_a_lifecycle_is_seen_where_it_stands_without_counting_as_a_read(app: MockApp, admin: httpx.Client):
    app.clock.freeze()
    scan = admin.post("/scans", json={"applicationId": "app-12345", "scanType": "sast"}, headers=BEARER).json()
    listed = lambda: admin.get("/__specmock/collections/appsecplus/scans").json()["items"]  # noqa: E731
    assert listed()[0]["item"]["status"] == "queued"
    assert "__specmock__" not in listed()[0]["item"]
    app.clock.advance(3600)
    assert listed()[0]["item"]["status"] in ("completed", "failed")
    assert admin.get(f"/scans/{scan['id']}", headers=BEARER).json()["status"] == listed()[0]["item"]["status"]


def test_a_rule_switched_off_neither_matches_nor_fires(app: MockApp, admin: httpx.Client):
    assert admin.put("/__specmock/scenario", json={"use": ["flaky-network"]}).status_code == 200
    rules = admin.get("/__specmock/scenario").json()["rules"]
    assert rules and all(r["enabled"] for r in rules)
    for index in range(len(rules)):
        assert admin.put(f"/__specmock/scenario/rules/{index}", json={"enabled": False}).status_code == 200
    answered = admin.get("/connectors", headers=BEARER)
    assert answered.status_code == 200
    assert all(r["matched"] == 0 and not r["enabled"] for r in admin.get("/__specmock/scenario").json()["rules"])
    assert admin.put(f"/__specmock/scenario/rules/{len(rules)}", json={"enabled": True}).status_code == 404
    assert admin.put("/__specmock/scenario/rules/0", json={"enabled": "no"}).status_code == 400


def test_bundled_scenarios_are_listed_with_their_descriptions(admin: httpx.Client):
    listed = {s["name"]: s["description"] for s in admin.get("/__specmock/scenarios").json()["scenarios"]}
    assert listed.get("slow-scans")


def test_coverage_shows_what_was_exercised_and_the_gaps(admin: httpx.Client):
    admin.get("/connectors", headers=BEARER)
    admin.get("/connectors")  # 401
    report = admin.get("/__specmock/coverage").json()["appsecplus"]["operations"]
    assert report["ListConnectors"]["called"] and "200" in report["ListConnectors"]["exercised"]
    assert "401" in report["ListConnectors"]["exercised"]
    assert not report["TriggerScan"]["called"] and report["TriggerScan"]["missing"]
    assert admin.delete("/__specmock/coverage").status_code == 204
    assert not admin.get("/__specmock/coverage").json()["appsecplus"]["operations"]["ListConnectors"]["called"]


def test_a_journal_entry_is_found_by_its_number(admin: httpx.Client):
    connector = {"type": "github", "name": "n", "config": {"apiUrl": "https://api.github.com"}}
    admin.post("/connectors", json=connector, headers=BEARER)
    seq = admin.get("/__specmock/journal").json()["entries"][-1]["seq"]
    entry = admin.get(f"/__specmock/journal/{seq}").json()
    assert entry["operationId"] == "RegisterConnector" and entry["requestBody"]["name"] == "n"
    assert admin.get("/__specmock/journal/999999").status_code == 404


def _entry(seq: int) -> Entry:
    return Entry(seq, 0.0, "GET", "/x", "", "f", None, 200, None, b"", 1.0, None, "ok")


def test_a_slow_feed_is_dropped_not_buffered_for():
    async def run() -> Feed:
        feed = Feed(asyncio.get_running_loop(), size=3)
        journal = Journal(100)
        journal.subscribe(feed)
        for seq in range(1, 11):
            journal.add(_entry(seq))
        await asyncio.sleep(0)
        return feed

    feed = asyncio.run(run())
    assert feed.overflowed and feed.queue.qsize() == 3


def test_unsubscribed_feeds_hear_nothing_and_closing_tells_the_rest():
    journal = Journal(10)
    heard: list[Entry | None] = []
    gone: list[Entry | None] = []
    journal.subscribe(heard.append)
    unsubscribe = journal.subscribe(gone.append)
    journal.add(_entry(1))
    unsubscribe()
    journal.add(_entry(2))
    journal.close_feeds()
    assert [e.seq if e else None for e in heard] == [1, 2, None]
    assert [e.seq if e else None for e in gone] == [1]


def test_the_admin_openapi_documents_every_dashboard_endpoint(admin: httpx.Client):
    import yaml

    document = yaml.safe_load(admin.get("/__specmock/openapi.yaml").text)
    for path in (
        "/events",
        "/journal/{seq}",
        "/collections",
        "/collections/{family}/{collection}",
        "/collections/{family}/{collection}/items",
        "/collections/{family}/{collection}/items/{key}",
        "/scenarios",
        "/scenario/rules/{index}",
        "/coverage",
        "/ui",
    ):
        assert path in document["paths"], path
    assert json.dumps(document)  # plain data


def test_the_event_stream_pushes_each_request_and_ends_when_the_server_stops():
    served = start_server()
    try:
        with httpx.stream("GET", served.url + "/__specmock/events", timeout=10) as stream:
            lines = (line for line in stream.iter_lines() if line)
            assert next(lines) == "retry: 1000"
            httpx.get(served.url + "/connectors", headers=BEARER)
            event = [next(lines) for _ in range(3)]
            assert event[0].startswith("id: ") and event[1] == "event: request"
            pushed = json.loads(event[2].removeprefix("data: "))
            assert pushed["operationId"] == "ListConnectors" and pushed["status"] == 200
            assert {"method", "path", "durationMs", "rule", "outcome", "family"} <= set(pushed)
            served.process.terminate()
            stopping = time.monotonic()
            rest = list(lines)  # ends when the server closes the stream
        assert "event: bye" in rest
        served.process.wait(10)
        assert time.monotonic() - stopping < 5, "an open event stream held the shutdown"
    finally:
        stop_server(served)
