"""The dashboard's Drift view under `specmock proxy`, in headless Chromium: the planted differences
appear, and new ones arrive while it is shown. Skipped without Chromium or Playwright."""

from __future__ import annotations

from pathlib import Path

import httpx

from chromium import launched_browser
from contract_support import SECRET, WIDGETS, consumer_run, provider, specmock


def test_the_drift_view_shows_the_findings_live(tmp_path: Path):
    upstream = provider(tmp_path)
    proxy = specmock(tmp_path, "proxy", "proxy", "--spec", str(WIDGETS), "--upstream", upstream.url)
    try:
        with httpx.Client(base_url=proxy.url, headers={"Authorization": SECRET}) as client:
            key = client.post("/widgets", json={"name": "a", "color": "red"}).json()["id"]
            client.get(f"/widgets/{key}")
            client.delete(f"/widgets/{key}")
        with launched_browser() as browser:
            from playwright.sync_api import expect

            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(proxy.url + "/__specmock/ui", timeout=10_000)
            page.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
            page.click("#tab-drift")
            expect(page.locator("#drift-table tbody tr")).to_have_count(2, timeout=8_000)
            assert page.locator("#drift-table tr[data-kind=missing-required] code").inner_text() == "/createdAt"
            consumer_run(proxy.url)  # the list's enum value arrives while the view is shown
            expect(page.locator("#drift-table tbody tr")).to_have_count(3, timeout=8_000)
            page.click("#drift-clear")
            expect(page.locator("#drift-table tbody tr")).to_have_count(0, timeout=8_000)
            assert not errors, errors
    finally:
        proxy.stop()
        upstream.stop()
