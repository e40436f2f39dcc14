"""The stored form of an item: its JSON bytes, as the one encoder writes them.

The in-memory store keeps every item as these bytes, not as Python objects: a
connector of ~230 bytes of JSON costs ~260 bytes so, against ~900 as a dict of
strings. An answer that is the item itself is the bytes as they are; a rule, a
filter or a lifecycle that needs fields gets a fresh decoded copy.

Invariants:
- `encoded_item` is the one way in: a value JSON cannot hold (a date object, a
  set) is refused (UnstorableValue) before anything is stored, so whatever is
  stored can be listed, exported and saved.
- `decoded_item(encoded_item(x)) == x` for every storable x, with the same types
  (a big integer stays an integer), and each call returns new objects: nobody can
  change a stored item through what a read returned.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from ..._encoding import encode
from .protocol import Item

#: 19 digits or more in a row: a number orjson could read as a float (beyond 64 bits). Such
#: an item (or one whose string holds such digits) is read by the json module instead.
_LONG_NUMBER = re.compile(rb"\d{19}")


class UnstorableValue(ValueError):
    """A value JSON cannot hold (a date object, a set, bytes) was about to be stored."""


def encoded_item(item: Any) -> bytes:
    """`item` as the one encoder writes it; UnstorableValue naming the reason if it cannot be."""
    try:
        return encode(item)
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnstorableValue(f"a value that cannot be stored as JSON: {exc}") from None


def decoded_item(data: bytes) -> Item:
    """A new copy of the item `data` holds. orjson reads the common case (~5x json's speed);
    the json module reads what orjson would read otherwise or refuse: big integers, NaN and
    infinities, strings with lone surrogates (which the encoder writes as escapes)."""
    item: Item
    if _LONG_NUMBER.search(data) is None:
        try:
            item = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            return item
    item = json.loads(data)
    return item
