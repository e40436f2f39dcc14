"""The dashboard's first hour, in headless Chromium (Debian's, via Playwright): what a new user trips on.

The row is the target; long paths end in an ellipsis and show whole on hover; counts are
never clipped down to 1024 px; a switch or reset that drops data asks first and says what
it keeps; the dropdown shows the active scenario; empty views give a curl line that works;
the journal and the editor work from the keyboard; axe-core finds no serious or critical
violation in any view. axe-core comes from npm into tests/.node (git-ignored; .ci/run
installs it, and the first test here does when it is missing). Screenshots go to
docs/screenshots/ when SPECMOCK_SCREENSHOTS=1, as in test_dashboard_browser.py.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import BEARER, Served
from dashboard_ui import show

AXE_HOME = Path(__file__).resolve().parent / ".node"
AXE = AXE_HOME / "node_modules" / "axe-core" / "axe.min.js"
CONNECTOR = {"type": "github", "name": "Kept or not", "config": {"apiUrl": "https://api.github.com"}}
VIEWS = ("traffic", "state", "scenario", "clock", "charts", "coverage")


def axe_source() -> str:
    """axe-core's script, installed from npm into tests/.node when missing."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core cannot be had")
        command = [npm, "install", "--prefix", str(AXE_HOME), "--no-audit", "--no-fund", "--no-package-lock"]
        subprocess.run([*command, "--silent", "axe-core@4"], check=False, timeout=300, capture_output=True)
    if not AXE.is_file():
        pytest.skip("axe-core could not be installed from npm")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def api(seeded_api: httpx.Client) -> httpx.Client:
    """The module's mock as new: no scenario, the fixtures, an empty journal and coverage, a running clock."""
    assert seeded_api.delete("/__specmock/scenario").status_code < 300
    assert seeded_api.delete("/__specmock/journal").status_code < 300
    assert seeded_api.delete("/__specmock/coverage").status_code < 300
    assert seeded_api.put("/__specmock/clock", json={"frozen": False}).status_code < 300
    return seeded_api


@pytest.fixture
def page(browser: Any, seeded_server: Served, api: httpx.Client) -> Iterator[Any]:
    """The dashboard at 1280x800, opened on the mock as new; it must never raise an error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(seeded_server.url + "/__specmock/ui", timeout=10_000)
    opened.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
    opened.wait_for_selector("#connection.live", timeout=10_000)
    yield opened
    context.close()
    assert not errors, errors


def items(api: httpx.Client) -> int:
    return sum(c["count"] for c in api.get("/__specmock/collections").json()["collections"])


# -- the journal: the row is the target, long paths ellipsize --------------------------------------


def test_clicking_anywhere_on_a_row_opens_the_request(page: Any, api: httpx.Client, expect: Any):
    api.post("/connectors", json=CONNECTOR, headers=BEARER)
    row = page.locator("#traffic-rows tr[data-seq]").filter(has_text="RegisterConnector").first
    expect(row).to_be_visible()
    for cell in (0, 4, 5):  # the time, the status, the duration: not the path's text
        page.evaluate("document.getElementById('detail').hidden = true")
        row.locator("td").nth(cell).click()
        expect(page.locator("#detail-response")).to_contain_text('"name": "Kept or not"')


def test_a_long_path_ends_in_an_ellipsis_and_shows_whole_on_hover(page: Any, api: httpx.Client, expect: Any):
    long_path = "/connectors/" + "a-very-long-identifier-" * 12
    api.get(long_path, headers=BEARER)
    api.get("/connectors", headers=BEARER)
    button = page.locator("#traffic-rows td.path button", has_text="a-very-long").first
    expect(button).to_have_attribute("title", long_path)
    short = page.locator("#traffic-rows td.path button", has_text=re.compile(r"^/connectors$")).first
    expect(short).to_be_visible()
    # One evaluate finds and measures both buttons: the table may re-render between two
    # Playwright calls (a new journal entry), and a replaced node measures as empty.
    clipped = page.evaluate(
        """(path) => {
          const buttons = [...document.querySelectorAll('#traffic-rows td.path button')];
          const long = buttons.find((b) => b.title === path);
          const short = buttons.find((b) => b.textContent.trim() === '/connectors');
          return {style: getComputedStyle(long).textOverflow, over: long.scrollWidth > long.clientWidth,
                  h: long.offsetHeight, short: short.offsetHeight};
        }""",
        long_path,
    )
    assert clipped["style"] == "ellipsis" and clipped["over"], clipped
    assert clipped["h"] == clipped["short"], "the long path wrapped onto more lines"
    button.hover()  # the title is what the browser shows on hover: the whole path


@pytest.mark.parametrize("width", [1024, 1152, 1280, 1600])
def test_a_collections_count_is_never_clipped(page: Any, width: int, expect: Any):
    page.set_viewport_size({"width": width, "height": 800})
    show(page, "state")
    expect(page.locator("#collections button").first).to_be_visible()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#collections button')].filter((button) => {
          const count = button.querySelector('.count').getBoundingClientRect();
          const box = button.getBoundingClientRect();
          const label = button.querySelector('.label');
          return count.right > box.right - 1 || count.width < 4 || label.getBoundingClientRect().right > count.left;
        }).map((button) => button.dataset.collection)"""
    )
    assert clipped == [], f"counts clipped at {width}px: {clipped}"


# -- asking before dropping data --------------------------------------------------------------------


def test_switching_scenario_asks_first_and_says_what_is_kept(page: Any, api: httpx.Client, expect: Any, shots: Path):
    api.post("/connectors", json=CONNECTOR, headers=BEARER)
    before = items(api)
    show(page, "scenario")
    page.select_option("#scenario-bundled", "slow-scans")
    page.click("#scenario-switch button[type=submit]")
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"the {before} item(s) stored now are dropped")
    expect(dialog).to_contain_text("Kept either way: the traffic journal, the clock and coverage")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # Enter by habit drops nothing
    page.screenshot(path=str(shots / "confirm.png"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert items(api) == before and api.get("/__specmock/scenario").json()["active"] is None

    page.click("#scenario-switch button[type=submit]")
    dialog.get_by_role("button", name="Switch, keep the items").click()
    expect(page.locator("#scenario-active")).to_have_text("slow-scans")
    assert items(api) == before

    page.select_option("#scenario-bundled", "rate-limited")
    page.click("#scenario-switch button[type=submit]")
    dialog.get_by_role("button", name="Switch and reset the items").click()
    expect(page.locator("#scenario-active")).to_have_text("rate-limited")
    assert items(api) < before


def test_reset_all_asks_first(page: Any, api: httpx.Client, expect: Any):
    api.post("/connectors", json=CONNECTOR, headers=BEARER)
    before = items(api)
    show(page, "state")
    page.click("#state-reset")
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_contain_text("Kept: the active scenario, the traffic journal, the clock and coverage")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert items(api) == before
    page.click("#state-reset")
    dialog.get_by_role("button", name="Reset all").click()
    expect(page.locator("#state-message")).to_have_text("reset to the fixtures")
    assert items(api) == before - 1


def test_starting_coverage_over_asks_first(page: Any, api: httpx.Client, expect: Any):
    api.get("/connectors", headers=BEARER)
    show(page, "coverage")
    listed = page.locator("table[data-family='appsecplus'] tr[data-operation='ListConnectors'] .cell.hit")
    expect(listed).to_have_count(1)
    page.click("#coverage-clear")
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_contain_text("Kept: the items, the traffic journal, the active scenario and the clock")
    dialog.get_by_role("button", name="Cancel").click()
    assert api.get("/__specmock/coverage").json()["appsecplus"]["summary"]["called"] == 1
    page.click("#coverage-clear")
    dialog.get_by_role("button", name="Start over").click()
    expect(listed).to_have_count(0)
    assert api.get("/__specmock/coverage").json()["appsecplus"]["summary"]["called"] == 0


def test_the_dropdown_shows_the_active_scenario(page: Any, api: httpx.Client, expect: Any):
    api.put("/__specmock/scenario", json={"use": "rate-limited"})
    show(page, "scenario")
    expect(page.locator("#scenario-active")).to_have_text("rate-limited")
    expect(page.locator("#scenario-bundled")).to_have_value("rate-limited")
    page.reload()
    page.wait_for_selector("body[data-ready]", state="attached")
    show(page, "scenario")
    expect(page.locator("#scenario-bundled")).to_have_value("rate-limited")


# -- empty views say what to do next, with a command that works --------------------------------------


def run_shown_command(text: str) -> None:
    """Run a curl line exactly as the page shows it."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    words = shlex.split(text)
    done = subprocess.run(words, capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr


def test_each_empty_view_says_what_to_do_next(page: Any, seeded_server: Served, expect: Any, shots: Path):
    hint = page.locator("#traffic-rows .empty code.curl")
    expect(hint).to_have_text(f"curl {seeded_server.url}/connectors")
    page.screenshot(path=str(shots / "empty.png"))
    show(page, "charts")
    expect(page.locator("#per-operation .empty code.curl")).to_have_text(f"curl {seeded_server.url}/connectors")
    show(page, "coverage")
    expect(page.locator("#coverage-tables > p.empty")).to_contain_text("No operation has been called yet")
    show(page, "scenario")
    scenario_hint = page.locator("#rules .empty code.curl")
    expect(scenario_hint).to_contain_text(f"-X PUT {seeded_server.url}/__specmock/scenario")
    show(page, "state")
    page.click("button[data-collection='appsecplus.scans']")
    expect(page.locator("#items p.empty code.curl")).to_contain_text(f"-X POST {seeded_server.url}/scans")
    show(page, "clock")
    expect(page.locator("table[data-collection='appsecplus.scans'] .empty")).to_contain_text("No items yet")

    run_shown_command(hint.inner_text())  # the line works: the request appears
    show(page, "traffic")
    expect(page.locator("#traffic-rows tr[data-seq]").first).to_contain_text("/connectors")
    run_shown_command(scenario_hint.inner_text())
    show(page, "scenario")
    expect(page.locator("#scenario-active")).not_to_have_text("none")


# -- the keyboard ---------------------------------------------------------------------------------


def test_the_journal_works_from_the_keyboard(page: Any, api: httpx.Client, expect: Any):
    for name in ("first", "second", "third"):
        api.post("/connectors", json={**CONNECTOR, "name": name}, headers=BEARER)
    rows = page.locator("#traffic-rows tr[data-seq]:not(.problem-detail)")
    expect(rows).to_have_count(3)
    page.focus("#traffic-clear")
    page.keyboard.press("Tab")  # one stop for the whole journal: the newest row
    expect(rows.nth(0).locator("button.link")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1).locator("button.link")).to_be_focused()
    page.keyboard.press("End")
    expect(rows.nth(2).locator("button.link")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.locator("#detail-response")).to_contain_text('"name": "second"')
    page.keyboard.press("Escape")
    expect(page.locator("#detail")).to_be_hidden()
    expect(rows.nth(1).locator("button.link")).to_be_focused()  # back where the person was
    api.get("/connectors", headers=BEARER)  # a new row arrives: the focus stays on the same request
    expect(rows).to_have_count(4)
    expect(rows.nth(2).locator("button.link")).to_be_focused()


def test_the_editor_works_from_the_keyboard(page: Any, api: httpx.Client, expect: Any):
    show(page, "state")
    first = page.locator("#collections button").first
    first.focus()
    page.keyboard.press("ArrowDown")
    second = page.locator("#collections button").nth(1)
    expect(second).to_be_focused()
    page.focus("button[data-collection='sdelements.alm_connectors']")
    page.keyboard.press("Enter")
    item = page.locator("details.item[data-key='1']")
    item.locator("summary").focus()
    page.keyboard.press("Enter")  # opens the item
    editor = item.locator("textarea")
    expect(editor).to_be_visible()
    text = editor.input_value().replace('"name": "', '"name": "Keyboard ', 1)
    editor.fill(text)
    editor.press("Control+Enter")
    expect(page.locator("#state-message")).to_have_text("saved 1")
    name = api.get("/api/v2/connectors/alm/1/", headers={"Authorization": "Token x"}).json()["name"]
    assert name.startswith("Keyboard ")
    item = page.locator("details.item[data-key='1']")
    item.locator("textarea").press("Escape")
    expect(item.locator("summary")).to_be_focused()
    assert item.get_attribute("open") is None


# -- axe-core ---------------------------------------------------------------------------------------


def serious_violations(page: Any, source: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)  # through the DevTools protocol: the page's CSP stays as it is
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)"""
    )
    return list(found)


def test_every_view_passes_an_axe_core_audit(page: Any, api: httpx.Client, expect: Any):
    source = axe_source()
    api.post("/connectors", json=CONNECTOR, headers=BEARER)
    api.post("/connectors", json={"type": "github", "name": 42}, headers=BEARER)  # an invalid row, highlighted
    expect(page.locator("#traffic-rows tr.problem").first).to_be_visible()
    found: dict[str, list[str]] = {}
    for view in VIEWS:
        show(page, view)
        page.wait_for_timeout(200)  # the view's data has arrived
        found[view] = serious_violations(page, source)
    show(page, "traffic")
    page.locator("#traffic-rows tr[data-seq]").first.click()
    expect(page.locator("#detail")).to_be_visible()
    found["detail"] = serious_violations(page, source)
    show(page, "state")
    page.click("#state-reset")
    expect(page.locator("dialog#confirm")).to_be_visible()
    found["confirmation"] = serious_violations(page, source)
    page.keyboard.press("Escape")
    for dark in ("dark",):
        page.emulate_media(color_scheme=dark)
        show(page, "traffic")
        found[f"traffic ({dark})"] = serious_violations(page, source)
    assert not any(found.values()), {view: problems for view, problems in found.items() if problems}
