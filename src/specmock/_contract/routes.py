"""The contract endpoints under `/__specmock`, in front of a served mock.

- `GET /__specmock/pact?consumer=NAME&provider=NAME`: the journal as a Pact v4 file;
- `POST /__specmock/pact/state`: the Pact verifier's provider-state call; the state
  `pact.FRESH_STATE` resets the mock (a fresh provider holds only its fixtures), no
  state does nothing, another is refused (400);
- `GET /__specmock/drift` (proxy only): the findings so far; `DELETE` forgets them.

Invariant: each is behind the admin API's one gate (loopback or the admin token),
through `server.admin.guard`; every other request goes to the app behind, untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from .._server.admin import PREFIX, AdminError, JSONResponse, guard, settled
from .pact import FRESH_STATE, PactWriter

if TYPE_CHECKING:
    from .._server.app import MockApp
    from .drift import DriftLog

_PATHS = (f"{PREFIX}/pact", f"{PREFIX}/drift")


class ContractRoutes:
    """`app` with the contract endpoints of `mock` (and of `drift`, when proxying) in front."""

    def __init__(self, app: ASGIApp, mock: MockApp, drift: DriftLog | None = None) -> None:
        self.app = app
        writer = PactWriter(mock.router)

        async def pact(request: Request) -> Response:
            consumer = request.query_params.get("consumer", "consumer").strip()[:200] or "consumer"
            provider = request.query_params.get("provider", "provider").strip()[:200] or "provider"
            return JSONResponse(writer.pact(consumer, provider, [mock.journal.entries()]))

        async def provider_state(request: Request) -> Response:
            data: Any = await request.json() if (await request.body()).strip() else {}
            state = data.get("state") if isinstance(data, dict) else None
            if not state:  # an interaction without a state: the verifier asks all the same (name "")
                return JSONResponse({})
            if state != FRESH_STATE:
                raise AdminError(f"unknown provider state {state!r} (known: {FRESH_STATE!r})")
            if data.get("action", "setup") == "setup":
                mock.reset()
                await settled(mock)
            return JSONResponse({})

        routes = [
            Route(f"{PREFIX}/pact", guard(mock, pact), methods=["GET"]),
            Route(f"{PREFIX}/pact/state", guard(mock, provider_state), methods=["POST"]),
        ]
        if drift is not None:
            log = drift

            async def get_drift(request: Request) -> Response:
                return JSONResponse(log.as_dict())

            async def clear_drift(request: Request) -> Response:
                log.clear()
                return Response(status_code=204)

            routes += [
                Route(f"{PREFIX}/drift", guard(mock, get_drift), methods=["GET"]),
                Route(f"{PREFIX}/drift", guard(mock, clear_drift), methods=["DELETE"]),
            ]
        self.router = Router(routes=routes, redirect_slashes=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_PATHS):
            await self.router(scope, receive, send)
        else:
            await self.app(scope, receive, send)
