"""The stored form of an item: its JSON bytes, as the one encoder writes them.

The in-memory store keeps every item as these bytes, not as Python objects: a
connector of ~230 bytes of JSON costs ~260 bytes so, against ~900 as a dict of
strings. An answer that is the item itself is the bytes as they are; a rule, a
filter or a lifecycle that needs fields gets a fresh decoded copy.

Invariants:
- `encoded_item` is the one way in: a value JSON cannot hold (a date object, a
  set) is refused (UnstorableValue) before anything is stored, so whatever is
  stored can be listed, exported and saved.
- `decoded_item(stored_item(x)) == x` for every storable x, with the same types
  (a big integer stays an integer), and each call returns new objects: nobody can
  change a stored item through what a read returned. `stored_json(stored_item(x))`
  is `encoded_item(x)`, byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ..._encoding import encode, encode_noting_long_integers, may_hold_long_integer
from .protocol import Item

#: Leads a stored item that the json module must read (JSON text never holds a raw NUL).
_EXACT = 0


class UnstorableValue(ValueError):
    """A value JSON cannot hold (a date object, a set, bytes) was about to be stored."""


def encoded_item(item: Any) -> bytes:
    """`item` as the one encoder writes it; UnstorableValue naming the reason if it cannot be."""
    try:
        return encode(item)
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnstorableValue(f"a value that cannot be stored as JSON: {exc}") from None


def stored_item(item: Any) -> bytes:
    """What the in-memory store keeps of `item`: its JSON, led by a NUL byte in the rare case the
    json module must read it (checked once here, so reads cost one byte comparison; bytes orjson
    wrote need no check: it refuses integers beyond 64 bits)."""
    try:
        data, long_possible = encode_noting_long_integers(item)
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnstorableValue(f"a value that cannot be stored as JSON: {exc}") from None
    return bytes((_EXACT,)) + data if long_possible and may_hold_long_integer(data) else data


def stored_json(stored: bytes) -> bytes:
    """The JSON of a stored item (what `encoded_item` wrote)."""
    return stored[1:] if stored[0] == _EXACT else stored


def stored_size(stored: bytes) -> int:
    """The length of a stored item's JSON: what it counts against the store's byte budget."""
    return len(stored) - 1 if stored[0] == _EXACT else len(stored)


def decoded_item(stored: bytes) -> Item:
    """A new copy of the item `stored_item` kept. orjson reads the common case (~5x json's speed);
    the json module reads what orjson would read otherwise or refuse: integers beyond 64 bits
    (marked when stored, so reads do not scan for them), NaN and the infinities, strings with
    lone surrogates (written as escapes)."""
    item: Item
    if stored[0] == _EXACT:
        item = json.loads(stored[1:])
        return item
    try:
        item = orjson.loads(stored)
    except orjson.JSONDecodeError:
        item = json.loads(stored)
    return item


def decoded_json(data: bytes) -> Item:
    """A new copy of the item JSON `data` (as `encoded_item` wrote it, unmarked: from Redis) holds."""
    return decoded_item(bytes((_EXACT,)) + data if may_hold_long_integer(data) else data)
