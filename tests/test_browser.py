"""The frontend team's real use: a page on another origin calls the mock with fetch.

A tiny page is served from its own port (another origin than the mock's), and
headless Chromium (Debian's, driven by Playwright) loads it. Its script makes a
preflighted POST, reads back what it created, and calls SD Elements and Versori
with their own auth schemes; the test reads what it wrote into the DOM. Skipped
when Chromium or Playwright is missing (`apt-get install chromium`,
`pip install playwright`; never `playwright install`: Debian's Chromium is used).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import ORG, Served, start_server, stop_server

PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>frontend</title></head>
<body>
<pre id="created"></pre><pre id="connector"></pre><pre id="sde"></pre><pre id="sde-denied"></pre>
<pre id="versori"></pre><pre id="error"></pre>
<script>
const MOCK = __MOCK__;
const ORG = __ORG__;
const show = (id, value) => { document.getElementById(id).textContent = JSON.stringify(value); };

async function main() {
  // Authorization and a JSON content type: the browser sends a CORS preflight first.
  const created = await fetch(MOCK + "/connectors", {
    method: "POST",
    headers: {"Authorization": "Bearer t", "Content-Type": "application/json"},
    body: JSON.stringify({type: "github", name: "From the browser", config: {apiUrl: "https://api.github.com"}}),
  });
  show("created", {status: created.status, body: await created.json()});

  // With credentials (cookies), as an app behind a login does: needs the exact origin echoed back.
  const read = await fetch(MOCK + "/connectors/conn-001", {
    headers: {"Authorization": "Bearer t"},
    credentials: "include",
  });
  show("connector", {status: read.status, body: await read.json()});

  const sde = await fetch(MOCK + "/api/v2/connectors/alm/", {headers: {"Authorization": "Token x"}});
  show("sde", {status: sde.status, body: await sde.json()});

  // An error must reach the page too, or the frontend cannot show it.
  const denied = await fetch(MOCK + "/api/v2/connectors/alm/");
  show("sde-denied", {status: denied.status, body: await denied.json()});

  const versori = await fetch(MOCK + "/api/connect/v1/o/" + ORG + "/connectors", {
    headers: {"Authorization": "Bearer t"},
  });
  show("versori", {status: versori.status, body: await versori.json()});
}

main()
  .catch((error) => show("error", String(error)))
  .finally(() => { document.body.dataset.done = "1"; });
</script>
</body>
</html>
"""


@pytest.fixture
def frontend_and_mock() -> Iterator[tuple[str, Served]]:
    """The page, served from 127.0.0.1 on a port of its own (another origin than the mock's),
    and a mock started with that origin named (`--cors-origin`), so the page may send
    credentials: any other origin gets `*` without them."""
    holder: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = (200, holder["page"]) if self.path == "/" else (404, b"")  # /favicon.ico among others
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    served = start_server("--cors-origin", origin)
    holder["page"] = PAGE.replace("__MOCK__", json.dumps(served.url)).replace("__ORG__", json.dumps(ORG)).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{origin}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        stop_server(served)


def test_a_page_on_another_origin_creates_and_reads_a_connector_with_fetch(
    browser: Any, frontend_and_mock: tuple[str, Served]
):
    frontend, served = frontend_and_mock
    assert frontend.rsplit(":", 1)[0] == served.url.rsplit(":", 1)[0] and not frontend.startswith(served.url)
    context = browser.new_context()
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        requests: list[tuple[str, str]] = []
        page.on("request", lambda request: requests.append((request.method, request.url)))
        page.goto(frontend, timeout=10_000)
        page.wait_for_selector("body[data-done]", state="attached", timeout=10_000)

        def shown(element: str) -> Any:
            text = page.text_content(f"#{element}")
            return json.loads(text) if text else None

        assert shown("error") is None, problems
        created = shown("created")
        assert created["status"] == 201, created
        assert created["body"]["id"] == "conn-001"
        connector = shown("connector")
        assert connector["status"] == 200, connector
        assert connector["body"]["name"] == "From the browser"
        assert connector["body"]["type"] == "github"

        sde = shown("sde")
        assert sde["status"] == 200, sde
        assert sde["body"]["results"], sde
        assert all(isinstance(r["name"], str) and r["name"] for r in sde["body"]["results"])
        denied = shown("sde-denied")
        assert denied["status"] == 401, denied
        assert denied["body"]["detail"]

        versori = shown("versori")
        assert versori["status"] == 200, versori
        assert versori["body"]["connectors"] == []

        assert ("POST", served.url + "/connectors") in requests
        # Chromium logs each 4xx it loaded ("Failed to load resource"); a CORS refusal would say so by name.
        assert not [p for p in problems if "CORS" in p or "Access-Control" in p or p.startswith("page error")], problems
    finally:
        context.close()
