"""The API's request and response on plain ASGI messages: what every request touches, nothing more.

Starlette's Request and Response are general: a Request decodes and compares
every raw header in turn for each header asked for, reads its body through an
async generator, and a Response walks its headers again to build the raw list.
The API path asks the same few questions of every request (authorization,
content-type, content-length, prefer, the scenario header), so here:

- `Incoming` decodes the headers once into a dict (the first of repeated headers
  wins, as in Starlette), parses the query string only when there
  is one, the cookies only when a Cookie header is there, and reads the body
  straight from `receive` (through body.py's reader: the same limits);
- `Reply` is a status, the raw header list and the body, which the dispatcher sends as
  two ASGI messages; `json_reply` and `empty_reply` build the raw headers Starlette's
  `Response` would, in the same order (tests/test_wire.py compares them), the JSON
  Content-Type from bytes made once.

Invariants: the answers are Starlette's own (tests/test_wire.py): `headers` holds the
first value of each header, `query_params` Starlette's QueryParams (the last value
of a repeated name wins), `cookies` Starlette's cookie parser's. The body is read
from the stream at most once and kept, so a scenario rule, the validation and a
refusal's journal entry all see the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from starlette.datastructures import URL, QueryParams
from starlette.requests import cookie_parser
from starlette.types import Receive, Scope

from .body import read_received

_EMPTY_QUERY = QueryParams(b"")
_NO_COOKIES: Mapping[str, str] = MappingProxyType({})
JSON = "application/json"
_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"


class Incoming:
    """One API request, as its checks read it: method, headers, query and body, each decoded once."""

    __slots__ = ("_consumed", "_query", "headers", "kept_body", "method", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        #: Each header's first value, by name (lower-case, as ASGI servers give them and as
        #: Starlette's Headers expects them).
        first: dict[str, str] = {}
        for name, value in reversed(scope["headers"]):
            first[name.decode("latin-1")] = value.decode("latin-1")
        self.headers = first
        self._query: QueryParams | None = None
        #: The body as the one reader (server/body.py) took it from the stream.
        self.kept_body: bytes | None = None
        self._consumed = False

    @property
    def query_params(self) -> QueryParams:
        params = self._query
        if params is None:
            query = self.scope.get("query_string", b"")
            params = self._query = QueryParams(query) if query else _EMPTY_QUERY
        return params

    @property
    def cookies(self) -> Mapping[str, str]:
        """The Cookie header's pairs (Starlette's parser); empty and shared when there is none."""
        header = self.headers.get("cookie")
        return cookie_parser(header) if header else _NO_COOKIES

    @property
    def url(self) -> URL:
        """The request's URL as Starlette builds it (only page links and examples ask)."""
        return URL(scope=self.scope)

    async def body(self, limit: int) -> bytes:
        """The body, read once through body.py's reader (BodyTooLarge over `limit`), then kept."""
        kept = self.kept_body
        if kept is not None:
            return kept
        self._consumed = True
        raw = await read_received(self.receive, self.headers.get("content-length"), limit)
        self.kept_body = raw
        return raw

    async def received(self, limit: int) -> bytes | None:
        """The body as received, at most `limit` bytes: kept, else read now (a request refused
        before its body was read); None when the client went away or a read was cut short."""
        kept = self.kept_body
        if kept is not None:
            return kept[:limit]
        if self._consumed:
            return None  # a read that failed part-way: what it took is gone
        declared = self.headers.get("content-length")
        if declared is None and "transfer-encoding" not in self.headers:
            return None
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None  # never read a body the journal would not keep (a 413's least of all)
        self._consumed = True
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            message = await self.receive()
            if message["type"] != "http.request":
                if message["type"] == "http.disconnect":
                    return None  # gone
                continue
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)[:limit]


class Reply:
    """A response as ASGI sends it: status, raw headers, body."""

    __slots__ = ("body", "raw_headers", "status_code")

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = body


#: The raw header every JSON answer carries unless its headers name another type.
_JSON_TYPE = (_CONTENT_TYPE, JSON.encode("latin-1"))


def _raw(headers: Mapping[str, str]) -> tuple[list[tuple[bytes, bytes]], bool, bool]:
    """`headers` as Starlette encodes them, and whether they lack Content-Length and Content-Type."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if not raw:
        return raw, True, True
    names = [name for name, _ in raw]
    return raw, _CONTENT_LENGTH not in names, _CONTENT_TYPE not in names


def json_reply(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """`Response(body, status, headers, media_type="application/json")`'s status, raw headers
    and body: the given headers, then Content-Length and Content-Type unless given."""
    raw, length, typed = _raw(headers) if headers else ([], True, True)
    if length and not (status < 200 or status == 204 or status == 304):
        raw.append((_CONTENT_LENGTH, str(len(body)).encode("latin-1")))
    if typed:
        raw.append(_JSON_TYPE)
    return Reply(status, raw, body)


def empty_reply(status: int, headers: Mapping[str, str] | None = None) -> Reply:
    """`Response(status_code=status, headers=headers)`: no body and no Content-Type."""
    raw, length, _ = _raw(headers) if headers else ([], True, True)
    if length and not (status < 200 or status == 204 or status == 304):
        raw.append((_CONTENT_LENGTH, b"0"))
    return Reply(status, raw, b"")


__all__ = ["Incoming", "Reply", "empty_reply", "json_reply"]
