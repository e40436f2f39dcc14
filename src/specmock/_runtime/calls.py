"""What the engine is handed and what it answers: a validated call and its result.

A `Call` holds what the request validator has already checked (path values, query,
body); the engine never sees an unchecked request. A `Result` carries a JSON-ready
body, or (`encoded`) the bytes of one the engine already has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._spec.model import Operation

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class Call:
    """One validated request, as the engine sees it."""

    operation: Operation
    path: dict[str, Any]
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    request: Request | None = None  # for what only some operations need (page links)
    caller: str | None = None  # the subject of the request's token, where a scenario names one

    @property
    def url(self) -> str:
        """The request URL without its query (page links are built on it)."""
        return str(self.request.url.replace(query="")) if self.request is not None else ""

    @property
    def raw_query(self) -> dict[str, str]:
        return dict(self.request.query_params) if self.request is not None else {}


@dataclass
class Result:
    """What to send back: a status and a JSON-ready body (None for no body), or the body's bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    encoded: bytes | None = None
