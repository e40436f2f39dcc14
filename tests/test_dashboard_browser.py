"""The dashboard, driven as a person would in headless Chromium (Debian's, via Playwright).

One `specmock serve` and one browser page serve the whole module; each test
makes the state it looks at, so the tests hold in any order. Screenshots of
each view go to docs/screenshots/ when SPECMOCK_SCREENSHOTS=1 (that is how the
README's pictures are made), else to a temporary folder, so a run never dirties
the tree. Skipped when Chromium or Playwright is missing, as test_browser.py is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import BEARER, Served, start_server, stop_server
from dashboard_ui import show

SDE = {"Authorization": "Token x"}
BROKEN_SCENARIO = b"""name: broken
rules:
  - name: nothing-to-match
    match: {operationId: NoSuchOperation}
    respond: {status: 503}
"""


@pytest.fixture(scope="module")
def context(seeded_server: Served, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    yield context
    context.close()


@pytest.fixture(scope="module")
def dashboard(context: Any, seeded_server: Served) -> Iterator[Any]:
    """The dashboard page, open for the whole module; it must never fail nor reach another origin."""
    page = context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda r: None if r.url.startswith((seeded_server.url, "data:")) else elsewhere.append(r.url))
    page.goto(seeded_server.url + "/__specmock/ui", timeout=10_000)
    page.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
    page.wait_for_selector("#connection.live", timeout=10_000)
    yield page
    assert not errors, errors
    assert not elsewhere, f"the dashboard reached outside its origin: {elsewhere}"
    page.close()


def test_a_request_appears_live_filters_and_opens_with_its_bodies(
    dashboard: Any, context: Any, seeded_server: Served, expect: Any, shots: Path
):
    show(dashboard, "traffic")
    other = context.new_page()  # another page of the same browser: a frontend under development
    other.goto(seeded_server.url + "/__specmock/health")
    other.evaluate(
        """async () => {
          const headers = {"Authorization": "Bearer t", "Content-Type": "application/json"};
          const post = (body) => fetch("/connectors", {method: "POST", headers, body: JSON.stringify(body)});
          await post({type: "github", name: "Seen live", config: {apiUrl: "https://api.github.com"}});
          await post({type: "github", name: 42});
          await fetch("/no/such/path");
        }"""
    )
    other.close()
    rows = dashboard.locator("#traffic-rows tr[data-seq]:not(.problem-detail)")
    created = rows.filter(has_text="RegisterConnector").filter(has_text="201")
    expect(created.first).to_be_visible()
    invalid = dashboard.locator("#traffic-rows tr.problem").filter(has_text="RegisterConnector")
    expect(invalid.first).to_contain_text("invalid")
    expect(dashboard.locator("#traffic-rows tr.problem").filter(has_text="/no/such/path").first).to_be_visible()
    # The validation errors stand out under the invalid request's row.
    seq = invalid.first.get_attribute("data-seq")
    expect(dashboard.locator(f"#traffic-rows tr.problem-detail[data-seq='{seq}']")).to_contain_text("name")

    dashboard.select_option("#filter-status", "problem")
    expect(created).to_have_count(0)
    expect(invalid.first).to_be_visible()
    dashboard.select_option("#filter-status", "")
    dashboard.select_option("#filter-operation", "RegisterConnector")
    expect(rows.filter(has_text="/no/such/path")).to_have_count(0)

    # The refused request opens with its body as sent and why it was refused.
    invalid.first.locator("button.link").click()
    expect(dashboard.locator("#detail-reason")).to_contain_text("request validation")
    expect(dashboard.locator("#detail-fields")).to_contain_text("name")
    assert json.loads(dashboard.locator("#detail-request").inner_text()) == {"type": "github", "name": 42}
    dashboard.click("#detail button:has-text('Close')")

    created.first.locator("button.link").click()
    expect(dashboard.locator("#detail-reason")).to_have_count(0)
    response = dashboard.locator("#detail-response")
    expect(response).to_contain_text('"name": "Seen live"')
    assert "\n  " in response.inner_text()  # pretty-printed
    assert json.loads(dashboard.locator("#detail-request").inner_text())["name"] == "Seen live"
    dashboard.screenshot(path=str(shots / "traffic.png"))
    dashboard.click("#detail button:has-text('Close')")
    dashboard.select_option("#filter-operation", "")


def test_an_item_edited_in_the_page_is_what_the_api_returns(
    dashboard: Any, seeded_api: httpx.Client, expect: Any, shots: Path
):
    show(dashboard, "state")
    dashboard.click("button[data-collection='sdelements.alm_connectors']")
    item = dashboard.locator("details.item[data-key='1']")
    item.locator("summary").click()
    editor = item.locator("textarea")
    data = json.loads(editor.input_value())
    editor.fill(json.dumps({**data, "name": "Edited in the dashboard"}, indent=2))
    item.get_by_role("button", name="Save").click()
    expect(dashboard.locator("#state-message")).to_have_text("saved 1")
    assert seeded_api.get("/api/v2/connectors/alm/1/", headers=SDE).json()["name"] == "Edited in the dashboard"

    item = dashboard.locator("details.item[data-key='1']")
    item.locator("textarea").fill(json.dumps({**data, "name": 42}, indent=2))
    item.get_by_role("button", name="Save").click()
    expect(item.locator("ul.errors")).to_contain_text("name: 42 is not of type 'string'")
    assert seeded_api.get("/api/v2/connectors/alm/1/", headers=SDE).json()["name"] == "Edited in the dashboard"
    dashboard.screenshot(path=str(shots / "state.png"))


def test_a_broken_scenario_upload_shows_its_line_numbers(
    dashboard: Any, seeded_api: httpx.Client, expect: Any, shots: Path
):
    show(dashboard, "scenario")
    dashboard.select_option("#scenario-bundled", "slow-scans")
    dashboard.click("#scenario-switch button[type=submit]")
    dashboard.get_by_role("button", name="Switch and reset the items").click()  # it asks first
    expect(dashboard.locator("#scenario-active")).to_have_text("slow-scans")
    switch = dashboard.get_by_label("rule slow-scan-endpoints on")
    switch.uncheck()
    expect(dashboard.locator("#rules tr").first).to_contain_text("slow-scan-endpoints")
    dashboard.wait_for_function(
        "async () => (await (await fetch('../scenario')).json()).rules[0].enabled === false", polling=100
    )

    dashboard.set_input_files(
        "#scenario-file", files=[{"name": "broken.yaml", "mimeType": "application/yaml", "buffer": BROKEN_SCENARIO}]
    )
    dashboard.click("#scenario-upload button[type=submit]")
    dashboard.get_by_role("button", name="Switch and reset the items").click()
    errors = dashboard.locator("#scenario-errors")
    expect(errors).to_contain_text(re.compile(r"<broken\.yaml>:4: this rule matches no operation"))
    expect(dashboard.locator("#scenario-active")).to_have_text("slow-scans")  # the previous one stays
    dashboard.screenshot(path=str(shots / "scenario.png"))
    dashboard.click("#scenario-clear")
    dashboard.get_by_role("button", name="Switch and reset the items").click()
    expect(dashboard.locator("#scenario-active")).to_have_text("none")


def test_advancing_the_clock_completes_a_scan(dashboard: Any, seeded_api: httpx.Client, expect: Any, shots: Path):
    scan = seeded_api.post("/scans", json={"applicationId": "app-12345", "scanType": "sast"}, headers=BEARER).json()
    show(dashboard, "clock")
    dashboard.click("#clock-freeze")
    expect(dashboard.locator("#clock-frozen")).to_have_text("(frozen)")
    state = dashboard.locator("table[data-collection='appsecplus.scans'] tr", has_text=scan["id"]).locator("td").nth(1)
    expect(state).to_have_text("queued")
    dashboard.fill("#clock-amount", "10")
    dashboard.select_option("#clock-unit", "60")
    dashboard.click("#clock-advance button[type=submit]")
    expect(state).to_have_text(re.compile("^(completed|failed)$"))
    assert seeded_api.get(f"/scans/{scan['id']}", headers=BEARER).json()["status"] == state.inner_text()
    dashboard.screenshot(path=str(shots / "clock.png"))
    dashboard.click("#clock-unfreeze")
    expect(dashboard.locator("#clock-frozen")).to_have_text("(running)")


def test_coverage_shows_the_gaps_and_the_charts_draw(
    dashboard: Any, seeded_api: httpx.Client, expect: Any, shots: Path
):
    seeded_api.get("/connectors", headers=BEARER)
    seeded_api.get("/connectors")  # 401
    report = seeded_api.get("/__specmock/coverage").json()
    never = next(op for op, data in report["versori"]["operations"].items() if not data["called"])
    show(dashboard, "coverage")
    listed = dashboard.locator("table[data-family='appsecplus'] tr[data-operation='ListConnectors']")
    expect(listed.locator(".cell.hit", has_text="200")).to_be_visible()
    expect(listed.locator(".cell.hit", has_text="401")).to_be_visible()
    gap = dashboard.locator(f"table[data-family='versori'] tr.never[data-operation='{never}']")
    expect(gap.locator(".cell.gap").first).to_be_visible()
    dashboard.check("#coverage-gaps")
    expect(dashboard.locator(".coverage tr[data-operation]").first).to_be_visible()
    dashboard.screenshot(path=str(shots / "coverage.png"))

    show(dashboard, "charts")
    expect(dashboard.locator("#per-operation tr", has_text="appsecplus:ListConnectors")).to_be_visible()
    drawn = dashboard.evaluate(
        """() => {
          const canvas = document.getElementById("chart-rate");
          const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          return pixels.some((value, index) => index % 4 === 3 && value > 0);
        }"""
    )
    assert drawn, "the requests-per-second chart is empty"
    dashboard.screenshot(path=str(shots / "charts.png"))


def test_at_phone_width_the_views_are_reached_by_keyboard(dashboard: Any, expect: Any, shots: Path):
    dashboard.set_viewport_size({"width": 390, "height": 844})
    try:
        show(dashboard, "traffic")
        dashboard.focus("#tab-traffic")
        dashboard.keyboard.press("ArrowRight")
        expect(dashboard.locator("#tab-state")).to_be_focused()
        expect(dashboard.locator("#state")).to_be_visible()
        dashboard.keyboard.press("Tab")  # into the view, past the tablist
        assert dashboard.evaluate("document.activeElement.closest('main') !== null")
        width = dashboard.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page scrolls sideways at phone width ({width}px)"
        show(dashboard, "traffic")
        dashboard.screenshot(path=str(shots / "phone.png"))
    finally:
        dashboard.set_viewport_size({"width": 1280, "height": 800})


def test_with_an_admin_token_the_page_works_and_no_other_port_receives_the_token(context: Any) -> None:
    """The token is kept per origin (sessionStorage), never in a cookie, which every port of the
    host would receive: a page of another server on another port finds nothing."""
    guarded, other = start_server("--admin-token", "s3cret"), start_server()
    fresh = context.browser.new_context()
    try:
        page = fresh.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(guarded.url + "/__specmock/ui?token=s3cret", timeout=10_000)
        page.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
        page.wait_for_selector("#connection.live", timeout=10_000)  # the event stream got in too
        assert "s3cret" not in page.url
        status = page.evaluate(
            "import(new URL('api.js', location.href)).then((m) => m.api('state')).then((r) => r.status)"
        )
        assert status == 200  # the page's calls carry the token
        assert fresh.cookies() == []
        elsewhere = fresh.new_page()
        elsewhere.goto(other.url + "/__specmock/health")
        assert elsewhere.evaluate("sessionStorage.length") == 0
        assert not errors, errors
    finally:
        fresh.close()
        stop_server(guarded)
        stop_server(other)
