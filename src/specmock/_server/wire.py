"""The request and response objects of the API's request path: Starlette's, made cheap where
every request touches them.

Starlette's `Headers` finds a header by decoding and comparing every raw header
in turn, and a request asks for several (authorization, content-type,
content-length, prefer, the scenario header, ...). Here a request's headers are
decoded once into a dict on first use, and an empty query string shares one empty
`QueryParams`.

Invariants: the answers are Starlette's own: the first of repeated headers wins
(`get`, `[]`), `getlist` and `raw` see every header in order, header names are
matched case-insensitively. `JsonResponse` is Starlette's Response with a JSON type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

_EMPTY_QUERY = QueryParams(b"")


class IndexedHeaders(Headers):
    """Starlette's Headers with O(1) lookups: a name-to-first-value dict, built once."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__(raw=raw)
        first: dict[str, str] = {}
        for name, value in reversed(raw):
            first[name.decode("latin-1").lower()] = value.decode("latin-1")
        self._first = first

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._first.get(key.lower(), default)

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._first


class ApiRequest(Request):
    """A Starlette Request whose headers and (empty) query parameters cost one pass, once.

    Both are public properties of Starlette's Request, replaced here whole and cached under
    names of our own, so nothing private of Starlette's is read or written. Measured with
    benchmarks/profile_post.py: GET /connectors/{id} 23 us against 27 us with Starlette's
    own, POST /connectors 72 us against 79-82 us."""

    _specmock_headers: IndexedHeaders | None = None
    _specmock_query: QueryParams | None = None
    #: The body as the one reader (server/body.py) took it from the stream.
    kept_body: bytes | None = None

    @property
    def headers(self) -> Headers:
        headers = self._specmock_headers
        if headers is None:
            headers = self._specmock_headers = IndexedHeaders(list(self.scope["headers"]))
        return headers

    def keep_body(self, raw: bytes) -> None:
        """Keep the body a streaming reader took from the stream, so a scenario rule and the
        validation read it once, and a refusal's journal entry can still show it."""
        self.kept_body = raw

    async def received(self, limit: int) -> bytes | None:
        """The body as received, at most `limit` bytes: kept, else read now (a request refused
        before its body was read); None when the client went away or a reader took it unkept."""
        kept = self.kept_body
        if kept is not None:
            return kept[:limit]
        declared = self.headers.get("content-length")
        if declared is None and "transfer-encoding" not in self.headers:
            return None
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None  # never read a body the journal would not keep (a 413's least of all)
        chunks: list[bytes] = []
        size = 0
        try:
            stream = self.stream()
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
            await stream.aclose()
        except (ClientDisconnect, RuntimeError):  # gone, or the stream was read and not kept
            return None
        return b"".join(chunks)[:limit]

    @property
    def query_params(self) -> QueryParams:
        params = self._specmock_query
        if params is None:
            query = self.scope.get("query_string", b"")
            params = self._specmock_query = QueryParams(query) if query else _EMPTY_QUERY
        return params


class JsonResponse(Response):
    """`Response(body, status, headers, media_type="application/json")`.

    It used to build its raw headers itself and skip `Response.__init__`: measured with
    benchmarks/profile_post.py that saved about 1 us of a 23 us GET (run-to-run noise), so
    it is Starlette's own constructor again and depends on nothing private."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body, status_code, headers)
