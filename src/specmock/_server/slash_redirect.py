"""Redirect `/x/` to `/x` (and back) with a relative Location, never one built from Host.

Starlette's own slash redirect writes an absolute URL from the request's Host
header, so a forged Host turns the server into an open redirect. This one says
only the path (and query): the client resolves it against the URL it used.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send


class RelativeSlashRedirect:
    """ASGI wrapper: a path no route matches, whose slash twin one does, gets a 307 to the twin."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the router's own list: routes added later are seen

    def _matches(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] != Match.NONE for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path not in ("", "/") and not self._matches(scope):
            twin = path[:-1] if path.endswith("/") else path + "/"
            if not twin.startswith("//") and self._matches({**scope, "path": twin}):
                query = scope.get("query_string", b"").decode("latin-1")
                location = twin + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await self.app(scope, receive, send)
