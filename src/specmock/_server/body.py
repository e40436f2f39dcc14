"""The one reader of JSON request bodies: the API's, the admin API's and the dashboard's.

Every body that reaches state comes through here, so every front door refuses the
same inputs the same way:

- size: counted on the bytes as they arrive, whatever the framing (Content-Length
  or chunked); a declared Content-Length over the limit is refused before a byte is
  read, a chunked body as soon as its running total passes the limit. Nothing over
  the limit is ever held whole.
- nesting: containers deeper than the caller's limit are refused (validators,
  encoders and deepcopy recurse, and must never meet a RecursionError).
- JSON the standard does not allow: `NaN`, `Infinity`, numbers that overflow to
  infinity, repeated names in one object.
- lone surrogates (`"\\ud800"`): Python decodes them, UTF-8 cannot encode them; a
  stored one would make every later list or export fail.

Invariants: `read_limited` returns at most `limit` bytes or raises `BodyTooLarge`;
`parse_strict` returns a value that `encoding.encode` can always encode, nested at
most `max_depth` deep, or raises `BodyRefused`. Both are cheap on the common body:
the depth walk and the surrogate walk run only when the raw bytes could hold one.

Two readers, one answer. orjson (compiled, strict RFC 8259: it refuses NaN,
Infinity, overflowing numbers, lone surrogates, invalid UTF-8 and a BOM itself)
reads the common body; the json module's reader (`parse_with_json`, with the
hooks above) is the reference. orjson's value is returned only when the json
reader would return the very same one: it read the body, no name repeats (orjson
keeps the last), the nesting is within the limit, and no integer is beyond 64
bits (orjson reads one as a float). Anything else, refusals included, is the json
reader's to answer, so every refusal keeps its status, wording and place.

A repeated name is seen without a walk: in valid JSON a `:` outside strings
separates a name from its value, once per member, and a `:` inside a string is
the raw byte (JSON spells it `\\u003a` otherwise; a body holding that escape goes
to the json reader). So the body's `:` count is members + colons in strings, and
orjson's re-encoding of its value (which writes `:` raw) counts kept members +
colons in kept strings: the two are equal exactly when no member was dropped.

Names are held once, not once per stored item (a quarter of a small item's
memory): the json reader interns them, orjson's reader shares them through its
key cache (names up to 64 bytes).
"""

from __future__ import annotations

import json
import re
from sys import intern
from typing import Any

import orjson
from starlette.requests import Request

from .._encoding import may_hold_long_integer
from .._spec.nesting import nested_deeper

#: How deeply an API body (and so a stored item) may nest: no API here nests deeper.
API_MAX_DEPTH = 32


class BodyRefused(ValueError):
    """A body that is not acceptable JSON: `reason` says why, `where` (for a lone surrogate) where."""

    def __init__(self, reason: str, where: list[str | int] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


class BodyTooLarge(Exception):
    """A body over its limit of `limit` bytes (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over the limit of {limit} bytes")
        self.limit = limit


def declared_too_large(request: Request, limit: int) -> bool:
    """Whether the request's Content-Length already says it is over `limit` (checked before reading)."""
    declared: str = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused (BodyTooLarge) as soon as its bytes pass `limit`, chunked or not."""
    if declared_too_large(request, limit):
        raise BodyTooLarge(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object without repeated names. Names are interned: stored items come from bodies,
    and the same few names (a schema's) would otherwise be held once per item (a quarter of
    a small item's memory); an interned name is freed like any string once unused."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"duplicate key {key!r}")
        out[intern(key)] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


#: A `\uD800`-`\uDFFF` escape: the only way a JSON text can carry a surrogate (raw UTF-8 cannot).
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(data: Any) -> list[str | int] | None:
    """Where in `data` a string (a value or a key) holds a lone surrogate, or None."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return path
        elif isinstance(node, dict):
            for key, value in node.items():
                if _SURROGATE.search(key):
                    return [*path, _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)]
                stack.append((value, [*path, key]))
        elif isinstance(node, list):
            stack.extend((value, [*path, i]) for i, value in enumerate(node))
    return None


#: `\u0030`-`\u003f`: what may be an escaped ":" (a compiled search: `bytes in bytes` is slower).
_ESCAPED_COLON = re.compile(rb"\\u003").search


class _JsonsAnswer:
    """What orjson leaves to the json reader (see the module docstring)."""


_JSONS_ANSWER = _JsonsAnswer()


def _read_by_orjson(raw: bytes, max_depth: int) -> Any:
    """`raw`'s value as orjson reads it, when the json reader would return that same value;
    `_JSONS_ANSWER` otherwise (see the module docstring for why each check is sound)."""
    if _ESCAPED_COLON(raw) or may_hold_long_integer(raw):  # an escaped ":"; an integer beyond 64 bits
        return _JSONS_ANSWER
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _JSONS_ANSWER
    if raw.count(b"{") + raw.count(b"[") > max_depth and nested_deeper(data, max_depth):
        return _JSONS_ANSWER
    try:
        written = orjson.dumps(data)
    except orjson.JSONEncodeError:  # nested over orjson's 254 levels (a max_depth above that)
        return _JSONS_ANSWER
    if raw.count(b":") != written.count(b":"):  # a repeated name
        return _JSONS_ANSWER
    return data


def parse_strict(raw: bytes, max_depth: int) -> Any:
    """`raw` as strict JSON (see the module docstring), or BodyRefused saying why."""
    data = _read_by_orjson(raw, max_depth)
    return parse_with_json(raw, max_depth) if data is _JSONS_ANSWER else data


def parse_with_json(raw: bytes, max_depth: int) -> Any:
    """`raw` as strict JSON read by the json module: the reference `parse_strict` keeps to."""
    try:
        data = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants, parse_float=_finite
        )
    except RecursionError:
        raise BodyRefused(f"nested more than {max_depth} levels deep") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise BodyRefused(str(exc)) from None
    # Nesting cannot exceed the number of brackets: most bodies are not walked at all.
    if raw.count(b"{") + raw.count(b"[") > max_depth and nested_deeper(data, max_depth):
        raise BodyRefused(f"nested more than {max_depth} levels deep")
    if _MAYBE_SURROGATE.search(raw):
        where = lone_surrogate(data)
        if where is not None:
            raise BodyRefused("is not valid Unicode: a lone surrogate (\\ud800-\\udfff) escape", where)
    return data


def parse_lenient(raw: bytes, max_depth: int) -> Any:
    """`raw` as strict JSON, or None when it is not (what a scenario rule matches a body against)."""
    try:
        return parse_strict(raw, max_depth)
    except BodyRefused:
        return None
