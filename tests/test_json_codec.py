"""orjson reads and writes JSON, and nothing a client sees changes: the json module is the reference.

The body reader (`parse_strict`) returns exactly what the json module's reader
(`parse_with_json`, today's) returns, value and type, or refuses with exactly
its reason and place: for a corpus of valid bodies, for bodies the two libraries
read differently (a repeated name, which orjson silently drops; an integer
beyond 64 bits, which orjson reads as a float; an escaped colon, which the
repeated-name count must not be fooled by), and for generated texts full of
escaped quotes, backslashes and colons. The encoder (`encode`) writes exactly
the json module's bytes (`encode_with_json`), or raises the same TypeError, and
what it wrote reads back to the value it was; the one difference is on purpose:
NaN and the infinities are written `null` (json wrote the non-JSON `NaN`).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specmock._encoding import encode, encode_with_json
from specmock._server.body import API_MAX_DEPTH, BodyRefused, parse_strict, parse_with_json

FAST = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def outcome(read: Any, raw: bytes, max_depth: int = API_MAX_DEPTH) -> tuple[str, str, Any]:
    """What a reader makes of `raw`: the value (repr keeps int/float and -0.0 apart) or the refusal."""
    try:
        value = read(raw, max_depth)
    except BodyRefused as exc:
        return ("refused", exc.reason, exc.where)
    return ("read", repr(value), type(value).__name__)


def same_as_json(raw: bytes, max_depth: int = API_MAX_DEPTH) -> tuple[str, str, Any]:
    found = outcome(parse_strict, raw, max_depth)
    assert found == outcome(parse_with_json, raw, max_depth), raw
    return found


#: Valid bodies (a few ways to spell each kind of value): read to the same value.
VALID = [
    '{"type": "github", "name": "x", "config": {"apiUrl": "https://api.github.com:443/v3"}}',
    '{"a": 1, "b": -0, "c": -0.0, "d": 1.5e-7, "e": 1E+2, "f": 0.1, "g": 5e-324, "h": 1.7976931348623157e308}',
    '{"big": 9223372036854775807, "u64": 18446744073709551615, "neg": -9223372036854775808}',
    '{"beyond": 18446744073709551616, "below": -9223372036854775809, "long": 123456789012345678901234567890}',
    '{"f": 123456789012345678901234567890.5, "g": 1.00000000000000000000001}',
    '{"q": "a\\"b", "b": "c\\\\d", "c": "e:f", "d": "\\"g\\":\\"h\\"", "e": "\\\\\\":"}',
    '{"a\\":b": 1, "a\\\\": 2, "a:": 3, ":": 4, "": 5, "\\u003a:": 6}',
    '{"esc": "\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\u0000\\u001f", "raw": "é€😀\u007f"}',
    '{"name": "\\u003a\\u003A", "other": "a"}',
    '{"a": {"a": {"a": [{"a": [], "b": {}}]}}, "b": [[], [[]], {"a": null}], "c": [true, false, null]}',
    '  \t\r\n{"ws" : [ 1 , 2 ] }  \n',
    "[1, 2, 3]",
    '"a string"',
    "12",
    "null",
    "[" * API_MAX_DEPTH + "]" * API_MAX_DEPTH,
    '{"digits": "1234567890123456789012345"}',
]


@pytest.mark.parametrize("text", VALID)
def test_a_valid_body_is_read_to_the_value_json_reads(text: str) -> None:
    assert same_as_json(text.encode())[0] == "read"


#: Bodies the two libraries read differently, or refuse in their own words: refused (or read)
#: exactly as the json reader does.
DIFFERENT = {
    "repeated name": '{"a": 1, "a": 2}',
    "repeated name spelled with an escape": '{"a": 1, "\\u0061": 2}',
    "repeated name holding an escaped quote and a colon": '{"a\\":b": 1, "a\\":b": 2}',
    "repeated name holding backslashes": '{"a\\\\": 1, "a\\\\": 2}',
    "repeated name, values holding colons": '{"u": "http://h:1/", "u": "x:y"}',
    "repeated name beside an escaped colon": '{"a": "\\u003a", "a": ":"}',
    "repeated colon name, once escaped": '{":": 1, "\\u003a": 2}',
    "repeated name, the kept value an escaped colon": '{"a": 1, "a": "\\u003a"}',
    "repeated escaped colon name": '{"\\u003a": 1, "\\u003a": 2}',
    "repeated name deep in arrays": '[[{"k": [1, {"k": 1, "k": 1}]}]]',
    "repeated empty name": '{"": 1, "": 2}',
    "repeated name after a long string of digits": '{"n": "12345678901234567890", "n": 1}',
    "NaN": '{"a": NaN}',
    "Infinity": "[Infinity]",
    "-Infinity": "-Infinity",
    "overflowing number": "1e999",
    "overflowing number spelled long": "1" + "0" * 400 + ".0",
    "lone high surrogate": '"\\ud800"',
    "high surrogate then a letter": '["\\ud800\\u0041"]',
    "low surrogate then high": '{"k": "\\udc00\\ud800"}',
    "lone surrogate after a pair": '"\\ud83d\\ude00\\ud83d"',
    "lone surrogate in a name": '{"\\udfff": 1}',
    "nested 33 deep": "[" * 33 + "]" * 33,
    "nested 300 deep objects": '{"a":' * 300 + "1" + "}" * 300,
    "nested beyond orjson's 1024": "[" * 1100 + "]" * 1100,
    "nested deep and a repeated name": '{"a": 1, "a": ' + "[" * 40 + "]" * 40 + "}",
    "integer beyond 64 bits": "18446744073709551616",
    "negative integer beyond 64 bits": '{"n": -9223372036854775809}',
    "integer of 40 digits": "[1234567890123456789012345678901234567890]",
    "control character in a string": '"a\u0001b"',
    "trailing comma": "[1,]",
    "leading zero": "01",
    "single quotes": "{'a': 1}",
    "trailing data": "{} {}",
}


@pytest.mark.parametrize("case", list(DIFFERENT))
def test_a_body_read_differently_gets_the_json_readers_answer(case: str) -> None:
    same_as_json(DIFFERENT[case].encode())


#: Bytes no text spells: a BOM, invalid UTF-8, an encoded surrogate.
RAW = {
    "BOM": b'\xef\xbb\xbf{"a": 1}',
    "BOM alone": b"\xef\xbb\xbf",
    "invalid UTF-8 in a string": b'{"a": "\xff"}',
    "truncated UTF-8": b'{"a": "\xc3"}',
    "overlong UTF-8": b'{"a": "\xc0\xaf"}',
    "UTF-8 encoded surrogate": b'{"a": "\xed\xa0\x80"}',
    "NUL after the value": b"{}\x00",
}


@pytest.mark.parametrize("case", list(RAW))
def test_bytes_no_text_spells_are_refused_in_the_json_readers_words(case: str) -> None:
    assert same_as_json(RAW[case])[0] == "refused"


def test_the_depth_limit_is_the_callers_not_orjsons() -> None:
    body = ("[" * 70 + "]" * 70).encode()
    assert same_as_json(body, 64) == ("refused", "nested more than 64 levels deep", None)
    assert same_as_json(body, 80)[0] == "read"
    assert same_as_json(body, 300)[0] == "read"


# -- generated: texts full of the characters a repeated-name count could stumble on --------------

_PIECES = st.sampled_from(["a", ":", '\\"', "\\\\", "\\u003a", "\\u0061", "é", "\\n", "\\ud83d\\ude00", '":"', '","'])
_STRING = st.lists(_PIECES, max_size=4).map(lambda parts: '"' + "".join(parts) + '"')
_NAME = st.sampled_from(['"a"', '"\\u0061"', '"a:b"', '"a\\":"', '":"']) | _STRING
_NUMBER = st.sampled_from(["0", "-0", "1.5", "1e-7", "12345678901234567890", "-1", "9223372036854775808"])
_TEXT = st.recursive(
    _STRING | _NUMBER | st.sampled_from(["true", "null"]),
    lambda inner: (
        st.lists(st.tuples(_NAME, inner), max_size=4).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")
        | st.lists(inner, max_size=4).map(lambda values: "[" + ",".join(values) + "]")
    ),
    max_leaves=16,
)


@FAST
@given(_TEXT)
def test_generated_texts_with_repeated_names_and_escapes_are_read_as_json_reads_them(text: str) -> None:
    same_as_json(text.encode())


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@FAST
@given(_JSON_VALUES)
def test_generated_values_are_read_back_and_written_as_json_does(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
    same_as_json(raw, max_depth=1000)
    assert encode(value) == encode_with_json(value)
    assert repr(json.loads(encode(value))) == repr(value)


# -- the encoder ----------------------------------------------------------------------------------


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_is_spelled_as_json_spells_it(number: float) -> None:
    for value in (number, [number, "x"], {"a": number}):
        assert encode(value) == encode_with_json(value)


class Color(enum.IntEnum):
    RED = 1


class Name(str):
    pass


@dataclasses.dataclass
class Point:
    x: int


#: Values orjson writes otherwise or not at all, and json writes: the same bytes.
WRITTEN_BY_JSON = {
    "floats orjson spells otherwise": [1e-5, 1.5e-5, 9.99e-5, 1e-6, 1e-7, 1.234e-8, -1e-9, 1e16, 1e-10],
    "a string that looks like a float": {"v": "1e-7", "w": "10.00001", "x": "example-org"},
    "integers beyond 64 bits": {"a": 2**64, "b": -(2**63) - 1, "c": 10**40},
    "names that are not str": {2: "a", 1.5: "b", True: "c", None: "d"},
    "a str subclass as a name and a value": {Name("k"): Name("v")},
    "an IntEnum": [Color.RED],
    "a tuple": (1, "a"),
    "control characters and non-ASCII": '\x00\x1f\x7f\u2028\u2029"\\/\b\f\n\r\té€😀',
    "a lone surrogate (ASCII escapes)": {"k\udc00": ["\ud800"]},
}


@pytest.mark.parametrize("case", list(WRITTEN_BY_JSON))
def test_values_orjson_writes_otherwise_are_written_as_json_writes_them(case: str) -> None:
    value = WRITTEN_BY_JSON[case]
    assert encode(value) == encode_with_json(value)


def test_nan_and_the_infinities_are_written_as_json_null_not_as_javascript() -> None:
    value = {"n": float("nan"), "i": [float("inf"), float("-inf")], "z": None}
    assert encode(value) == b'{"n":null,"i":[null,null],"z":null}'
    assert json.loads(encode(value), parse_constant=lambda name: pytest.fail(f"non-JSON {name}"))


def test_a_value_nested_beyond_orjsons_limit_is_written_as_json_writes_it() -> None:
    value: Any = []
    for _ in range(300):
        value = [value]
    assert encode(value) == encode_with_json(value) == b"[" * 301 + b"]" * 301


@pytest.mark.parametrize(
    "value", [datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1), decimal.Decimal("1.5"), {1, 2}, b"x", Point(1)]
)
def test_a_value_json_cannot_hold_is_refused_as_json_refuses_it(value: Any) -> None:
    with pytest.raises(TypeError) as ours:
        encode({"a": [value]})
    with pytest.raises(TypeError) as reference:
        encode_with_json({"a": [value]})
    assert str(ours.value) == str(reference.value)


def test_what_encode_wrote_reads_back_to_the_value_it_was() -> None:
    value = {"big": 2**70, "neg": -(2**64), "lone": "\ud800", "f": 1e-7, "s": "é", "n": None, "l": [1.5, True]}
    assert repr(json.loads(encode(value))) == repr(value)


def test_an_encoded_item_holds_its_own_size_not_orjsons_buffer() -> None:
    """orjson's bytes keep the 4 KB buffer they were written in: 100,000 kept items would be 400 MB."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [encode({"id": f"item-{i}", "name": "a name", "tags": ["x", "y"]}) for i in range(1000)]
        held = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert held < 400, held
