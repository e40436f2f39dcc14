"""A short string a regular expression matches, for a value a schema constrains with `pattern`.

Read from Python's own parse of the expression: a literal is itself, a class its
first member, a repeat its minimum, an alternation its first branch, an anchor
nothing. The result is checked with `re.search` before it is returned: an
expression this cannot satisfy (lookarounds, backreferences, a class that
excludes everything it tries) gives None, never a wrong value.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# Python's own regex parser (3.11+; `sre_parse` is its deprecated alias, typeshed knows neither).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

_MAX_LENGTH = 256
_CATEGORY = {
    sre_constants.CATEGORY_DIGIT: "0",
    sre_constants.CATEGORY_NOT_DIGIT: "a",
    sre_constants.CATEGORY_WORD: "a",
    sre_constants.CATEGORY_NOT_WORD: "-",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "a",
}


class _Unsupported(Exception):
    pass


def sample(pattern: str) -> str | None:
    """A short string `pattern` matches (searched, as JSON Schema does), or None."""
    try:
        parsed = sre_parse.parse(pattern)
        text = _sequence(parsed)
    except (_Unsupported, re.error, RecursionError, TypeError, ValueError, OverflowError):
        return None
    if len(text) > _MAX_LENGTH:
        return None
    try:
        return text if re.search(pattern, text) else None
    except re.error:
        return None


def _sequence(items: Any) -> str:
    return "".join(_item(op, value) for op, value in items)


def _item(op: Any, value: Any) -> str:
    if op is sre_constants.LITERAL:
        return chr(value)
    if op is sre_constants.NOT_LITERAL:
        return "a" if chr(value) != "a" else "b"
    if op is sre_constants.ANY:
        return "a"
    if op is sre_constants.AT:
        return ""
    if op is sre_constants.IN:
        return _in(value)
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
        low, _high, inner = value
        return _sequence(inner) * int(low)
    if op is sre_constants.SUBPATTERN:
        return _sequence(value[-1])
    if op is getattr(sre_constants, "ATOMIC_GROUP", None):
        return _sequence(value)
    if op is sre_constants.BRANCH:
        return _sequence(value[1][0])
    raise _Unsupported(str(op))


def _in(members: list[tuple[Any, Any]]) -> str:
    if members and members[0][0] is sre_constants.NEGATE:
        excluded = {chr(v) for op, v in members[1:] if op is sre_constants.LITERAL}
        return next(c for c in "a0-_ " if c not in excluded)
    for op, value in members:
        if op is sre_constants.LITERAL:
            return chr(value)
        if op is sre_constants.RANGE:
            return chr(value[0])
        if op is sre_constants.CATEGORY:
            return _CATEGORY.get(value, "a")
    raise _Unsupported("empty class")
