"""A small Widgets provider (tests/contract/widgets.yaml) that has drifted, or misbehaves.

    python tests/contract/provider.py MODE      # prints "listening on http://127.0.0.1:PORT"

MODE `drifted` answers like the spec, except for exactly three planted differences:
`getWidget` leaves out the required `createdAt`, `deleteWidget` answers 200 (the
spec declares 204), and `listWidgets` gives every widget the color `purple` (not in
the spec's enum). MODE `hostile` answers every request badly, as its X-Mode header
asks: `slow` (5 s before the headers), `huge` (10 MB of JSON), `badjson`
(application/json that does not parse), `mislabeled` (an HTML page labelled
application/json).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WIDGETS: dict[str, dict[str, Any]] = {}
LOCK = threading.Lock()
MODE = sys.argv[1] if len(sys.argv) > 1 else "drifted"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any = None, content_type: str = "application/json") -> None:
        raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if raw:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(raw)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _hostile(self) -> bool:
        if MODE == "drifted":
            return False
        self._body()
        mode = self.headers.get("X-Mode", "")
        if mode == "slow":
            time.sleep(5)
            self._send(200, [])
        elif mode == "huge":
            self._send(200, b"[" + b'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",' * 250_000 + b'""]')
        elif mode == "badjson":
            self._send(200, b'{"id": "1", "name": ')
        else:  # mislabeled
            self._send(200, b"<html><body>Service temporarily moved</body></html>")
        return True

    def _authorized(self) -> bool:
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._send(401, {"message": "Authentication credentials were not provided."})
            return False
        return True

    def _parts(self) -> list[str]:
        return [p for p in self.path.split("?", 1)[0].split("/") if p]

    def do_GET(self) -> None:
        if self._hostile() or not self._authorized():
            return
        parts = self._parts()
        with LOCK:
            if parts == ["widgets"]:
                self._send(200, [{**w, "color": "purple"} for w in WIDGETS.values()])  # planted: enum
            elif len(parts) == 2 and parts[0] == "widgets" and parts[1] in WIDGETS:
                self._send(200, {k: v for k, v in WIDGETS[parts[1]].items() if k != "createdAt"})  # planted
            else:
                self._send(404, {"message": "Widget not found."})

    def do_POST(self) -> None:
        if self._hostile() or not self._authorized():
            return
        body = self._body()
        if self._parts() != ["widgets"] or not isinstance(body, dict) or not body.get("name"):
            self._send(400, {"message": "Request validation failed."})
            return
        with LOCK:
            key = f"w{len(WIDGETS) + 100}"
            widget = {"id": key, "name": body["name"], "color": body.get("color", "red"), "createdAt": _now()}
            WIDGETS[key] = widget
        self._send(201, widget)

    def do_PATCH(self) -> None:
        if self._hostile() or not self._authorized():
            return
        body = self._body()
        parts = self._parts()
        with LOCK:
            if len(parts) != 2 or parts[1] not in WIDGETS:
                self._send(404, {"message": "Widget not found."})
                return
            WIDGETS[parts[1]].update({k: v for k, v in (body or {}).items() if k in ("name", "color")})
            self._send(200, WIDGETS[parts[1]])

    def do_DELETE(self) -> None:
        if self._hostile() or not self._authorized():
            return
        parts = self._parts()
        with LOCK:
            if len(parts) != 2 or WIDGETS.pop(parts[1], None) is None:
                self._send(404, {"message": "Widget not found."})
                return
        self._send(200, {"deleted": True})  # planted: the spec declares 204


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
