"""JSON out: one encoder that cannot fail, compact UTF-8, and lists spliced from items encoded once.

Every JSON byte specmock sends or writes (API and admin responses, error
bodies, the state file) comes from `encode`. A Python string may hold what
UTF-8 cannot (a lone surrogate, from a `\\ud800` escape in some JSON or YAML
that reached the state around the API's validation): then the body is written
with ASCII escapes instead, which is the same JSON value. So a stored value can
never make a later list, export or state write fail.

orjson (compiled) writes the bytes; the json module's encoder is the reference
and the fallback. Invariant: `encode(v)` is byte for byte what
`json.dumps(v, separators=(",", ":"), ensure_ascii=False)` wrote (ASCII escapes
for a lone surrogate), or the same TypeError. Where orjson would write otherwise
(a key that is not a str, an integer beyond 64 bits, a lone surrogate, a
subclass of a JSON type, a date, a value nested over 254 levels), it refuses and
json writes; where it spells a float otherwise (`1e-7` for json's `1e-07`,
`0.00001` for `1e-05`), a scan of its bytes sees it and json writes. The one
difference kept on purpose: NaN and the infinities are written `null`, where json
wrote the non-JSON `NaN` no client can read. No request or scenario can carry one
(the body reader and the scenario loader refuse them); only a document's own
example could (YAML `.nan`), and its answer is now valid JSON.

A list response is mostly its items; an item's public form is cached while it
is unchanged, so its bytes are too, and the list is a join of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any

import orjson

_COMPACT = (",", ":")

#: Whatever orjson would write differently from json goes to json: subclasses of
#: str/int/dict/list (an IntEnum), dates and dataclasses (json refuses them).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


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


def encode_with_json(body: Any) -> bytes:
    """`body` as the json module writes it: the reference `encode` keeps to, and its fallback."""
    try:
        return _UTF8(body).encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII(body).encode("ascii")


#: orjson's spellings of a float that json spells otherwise: a one-digit negative exponent
#: (`1e-7`, json `1e-07`; never followed by a digit), a fraction under 1e-4 (`0.00001`, json
#: `1e-05`). Scans with a literal start: a string that merely looks like one (`"e-2"`,
#: `"10.0000"`) costs a json encode (what every encode cost before orjson), nothing else.
#: (Compiled searches, not `in`: `bytes in bytes` first tries the needle as an int, which
#: costs more than the scan.)
_SHORT_EXPONENT = re.compile(rb"e-[1-9](?![0-9])").search
_SMALL_FRACTION = re.compile(rb"\.0000").search


def encode(body: Any) -> bytes:
    """`body` as compact JSON: UTF-8, or ASCII escapes where UTF-8 cannot hold a string.
    TypeError for a value JSON cannot hold (a date object, a set)."""
    try:
        out = orjson.dumps(body, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: see the module docstring
        return encode_with_json(body)
    if _SMALL_FRACTION(out) or _SHORT_EXPONENT(out):
        return encode_with_json(body)
    # A copy of its own size: orjson's bytes keep the whole buffer it wrote into (4 KB for a
    # small item), and encoded items are kept (cached public forms, the journal): 100,000
    # items would hold 400 MB. The copy costs a tenth of a microsecond.
    return memoryview(out).tobytes()


def encode_noting_long_integers(body: Any) -> tuple[bytes, bool]:
    """`encode(body)`, and whether it may hold an integer beyond 64 bits: never when orjson wrote
    it (orjson refuses those, and reads back as integers all it writes), so a store need not
    scan its bytes for one (`may_hold_long_integer`) but where json wrote."""
    try:
        out = orjson.dumps(body, option=_ORJSON_OPTIONS)
    except TypeError:  # as in `encode`
        return encode_with_json(body), True
    if _SMALL_FRACTION(out) or _SHORT_EXPONENT(out):
        return encode_with_json(body), True
    return memoryview(out).tobytes(), False  # a copy of its own size, as in `encode`


#: Every digit as "0", anything else as " ": a run of 19 is an integer orjson may read as a float.
_DIGIT_SHAPE = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_DIGITS = re.compile(b"0" * 19).search


def may_hold_long_integer(raw: bytes) -> bool:
    """Whether `raw` may hold an integer beyond 64 bits (19 digits or more), which orjson reads
    as a float where json reads it exactly. A long string of digits merely costs a json read."""
    return _LONG_DIGITS(raw.translate(_DIGIT_SHAPE)) is not None


def encode_list(parts: list[bytes]) -> bytes:
    """A JSON array of already-encoded items."""
    return b"[" + b",".join(parts) + b"]"


def encode_with_list(envelope: dict[str, Any], key: str, parts: list[bytes]) -> bytes:
    """`envelope` with the already-encoded items as its `key` (the last member)."""
    head = encode({k: v for k, v in envelope.items() if k != key})
    member = encode(key) + b":" + encode_list(parts)
    return head[:-1] + (b"," if len(head) > 2 else b"") + member + b"}"
