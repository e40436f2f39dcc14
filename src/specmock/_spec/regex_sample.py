"""Strings drawn to match a regular expression (a schema's `pattern`).

Ids and values a document constrains with `pattern: ^[a-z]{3}-[0-9]{6}$` are
drawn from the expression itself, with the run's random source, so they match
it and repeat with the seed. Python's own regex parser reads the expression;
the constructs ids and codes use (literals, classes, categories, repeats,
groups, alternation, anchors) are drawn, and anything else (lookarounds,
backreferences) is a ValueError, found when the spec is compiled.
Invariant: a returned string matches the expression, checked here by RE2 (linear time:
spec/patterns.py), and is at most MAX_LENGTH characters long.
`sample` is the same draw from a fixed seed, for values that must not vary (a
refusal body's pattern-constrained field), and None instead of a ValueError.
"""

from __future__ import annotations

import importlib
import random
import re
import string
from typing import Any

from .linear_regex import compiled

# Python's own regex parser (3.11+; `sre_parse` is its deprecated alias; typeshed knows neither).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

_MAX_REPEAT = 8  # an open-ended repeat (`+`, `*`, `{2,}`) draws at most this many beyond its minimum
MAX_LENGTH = 256
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_NOT_DIGIT: string.ascii_letters,
    sre_constants.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_constants.CATEGORY_NOT_WORD: "-.",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}
_ANY = string.ascii_letters + string.digits


def sample_pattern(pattern: str, rng: random.Random) -> str:
    """A string matching `pattern`; ValueError when it cannot be drawn."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    regex = compiled(pattern)
    for _ in range(20):
        text = "".join(_draw(parsed, rng))
        if len(text) <= MAX_LENGTH and (regex is None or regex.search(text) is not None):
            return text
    raise ValueError("no drawn string matches it")


def sample(pattern: str) -> str | None:
    """A string `pattern` matches, the same on every call, or None when none can be drawn."""
    try:
        return sample_pattern(pattern, random.Random(0))
    except (ValueError, RecursionError, OverflowError):
        return None


def pattern_text(schema: dict[str, Any], rng: random.Random) -> str | None:
    """A value for a string schema with a `pattern`, within its length bounds; None when none is drawn."""
    pattern = schema.get("pattern")
    if not isinstance(pattern, str):
        return None
    try:
        text = sample_pattern(pattern, rng)
    except (ValueError, RecursionError, OverflowError):
        return None
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(text) < low or (isinstance(high, int) and len(text) > high):
        return None
    return text


def _draw(items: Any, rng: random.Random) -> list[str]:
    out: list[str] = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append(rng.choice([c for c in _ANY if ord(c) != arg]))
        elif op is sre_constants.ANY:
            out.append(rng.choice(_ANY))
        elif op is sre_constants.IN:
            out.append(_from_class(arg, rng))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, sub = arg
            top = low + _MAX_REPEAT if high is sre_constants.MAXREPEAT else high
            for _ in range(rng.randint(low, max(low, min(top, low + _MAX_REPEAT)))):
                out += _draw(sub, rng)
        elif op in (sre_constants.SUBPATTERN, sre_constants.ATOMIC_GROUP):
            out += _draw(arg[-1] if op is sre_constants.SUBPATTERN else arg, rng)
        elif op is sre_constants.BRANCH:
            out += _draw(rng.choice(arg[1]), rng)
        elif op is sre_constants.AT:
            continue
        else:
            raise ValueError(f"{str(op).lower()} is not supported")
    return out


def _from_class(items: Any, rng: random.Random) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.append(chr(arg))
        elif op is sre_constants.RANGE:
            low, high = arg
            chars += [chr(c) for c in range(low, min(high, low + 255) + 1)]
        elif op is sre_constants.CATEGORY:
            chars += list(_CATEGORIES.get(arg, _ANY))
        else:
            raise ValueError(f"{str(op).lower()} in a character class is not supported")
    if negate:
        chars = [c for c in _ANY if c not in set(chars)]
    if not chars:
        raise ValueError("an empty character class")
    return rng.choice(chars)
