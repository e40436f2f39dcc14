"""The request and response objects of the API's request path: Starlette's, made cheap where
every request touches them.

Starlette's `Headers` finds a header by decoding and comparing every raw header
in turn, and a request asks for several (authorization, content-type,
content-length, prefer, the scenario header, ...); its `Response` rebuilds its
header list through a generic path. Here a request's headers are decoded once
into a dict on first use, an empty query string shares one empty `QueryParams`,
and a JSON response's raw headers are built directly.

Invariants: the answers are Starlette's own: the first of repeated headers wins
(`get`, `[]`), `getlist` and `raw` see every header in order, header names are
matched case-insensitively; a `JsonResponse` carries the same headers, in the same
order, as `Response(body, status, headers, media_type="application/json")`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

_EMPTY_QUERY = QueryParams(b"")
_JSON_TYPE = (b"content-type", b"application/json")


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
    """A Starlette Request whose headers and (empty) query parameters cost one pass, once."""

    @property
    def headers(self) -> Headers:
        headers: Headers | None = self.__dict__.get("_headers")
        if headers is None:
            headers = self._headers = IndexedHeaders(list(self.scope["headers"]))
        return headers

    def keep_body(self, raw: bytes) -> None:
        """Keep the body a streaming reader took from the stream, where `Request.body()` keeps
        it, so a refusal's journal entry can still show it."""
        self._body = raw

    async def received(self, limit: int) -> bytes | None:
        """The body as received, at most `limit` bytes: kept, else read now (a request refused
        before its body was read); None when the client went away or a reader took it unkept."""
        kept: bytes | None = self.__dict__.get("_body")
        if kept is not None:
            return kept[:limit]
        declared = self.headers.get("content-length")
        if self._stream_consumed or (declared is None and "transfer-encoding" not in self.headers):
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
        except ClientDisconnect:
            return None
        return b"".join(chunks)[:limit]

    @property
    def query_params(self) -> QueryParams:
        params: QueryParams | None = self.__dict__.get("_query_params")
        if params is None:
            query = self.scope.get("query_string", b"")
            params = self._query_params = QueryParams(query) if query else _EMPTY_QUERY
        return params


class JsonResponse(Response):
    """`Response(body, status, headers, media_type="application/json")`, with its raw headers
    built directly (the given ones first, then content-length and content-type, as Starlette does)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        sized = not (status_code < 200 or status_code in (204, 304))
        if not headers and sized:
            self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]
            return
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        given = {name for name, _ in raw}
        if sized and b"content-length" not in given:
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        if b"content-type" not in given:
            raw.append(_JSON_TYPE)
        self.raw_headers = raw
