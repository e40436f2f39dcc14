"""JSON out: one encoder that cannot fail, compact UTF-8, and lists spliced from items encoded once.

Every JSON byte specmock sends or writes (API and admin responses, error
bodies, the state file) comes from `encode`. A Python string may hold what
UTF-8 cannot (a lone surrogate, from a `\\ud800` escape in some JSON or YAML
that reached the state around the API's validation): then the body is written
with ASCII escapes instead, which is the same JSON value. So a stored value can
never make a later list, export or state write fail.

A list response is mostly its items; an item's public form is cached while it
is unchanged, so its bytes are too, and the list is a join of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any

_COMPACT = (",", ":")


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _compiled(ascii_only: bool) -> Callable[[Any], str]:
    """json.dumps(separators=_COMPACT, ensure_ascii=...) with its C encoder built once, not per
    call (json.dumps builds an encoder object and a C encoder every time: half of a small
    item's cost). No circular-reference markers: JSON data is a tree."""
    make = getattr(_json_encoder, "c_make_encoder", None)  # not in the stubs: private to the json package
    if make is None:  # a Python without the C accelerator: json.dumps itself
        return lambda body: json.dumps(body, separators=_COMPACT, ensure_ascii=ascii_only)
    strings = _json_encoder.encode_basestring_ascii if ascii_only else _json_encoder.encode_basestring
    chunks = make(None, _unencodable, strings, None, ":", ",", False, False, True)
    return lambda body: "".join(chunks(body, 0))


_UTF8 = _compiled(ascii_only=False)
_ASCII = _compiled(ascii_only=True)


def encode(body: Any) -> bytes:
    """`body` as compact JSON: UTF-8, or ASCII escapes where UTF-8 cannot hold a string.
    TypeError for a value JSON cannot hold (a date object, a set)."""
    try:
        return _UTF8(body).encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII(body).encode("ascii")


def encode_list(parts: list[bytes]) -> bytes:
    """A JSON array of already-encoded items."""
    return b"[" + b",".join(parts) + b"]"


def encode_with_list(envelope: dict[str, Any], key: str, parts: list[bytes]) -> bytes:
    """`envelope` with the already-encoded items as its `key` (the last member)."""
    head = encode({k: v for k, v in envelope.items() if k != key})
    member = encode(key) + b":" + encode_list(parts)
    return head[:-1] + (b"," if len(head) > 2 else b"") + member + b"}"
