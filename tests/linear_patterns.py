"""A structural check that a regular expression cannot backtrack more than linearly.

Python's `re` backtracks. A pattern goes super-linear when a repeated part can
hand a character to what follows it, which could also take it (`\\s*(x)?\\s*$`
on many spaces, `(a+)+`): every split of the input is then tried. This check
walks the parsed pattern and refuses any unbounded-or-counted repeat whose
characters overlap the first characters of what may come right after it (through
optional parts, out of groups, and into its own next round). A pattern that
passes cannot be made quadratic by its input: each character is given back at
most once. It is deliberately strict (it may refuse a harmless pattern), and
deterministic, unlike a timing test.
"""

from __future__ import annotations

import re
from re import _compiler, _parser  # type: ignore[attr-defined]
from re import _constants as C  # type: ignore[attr-defined]
from typing import Any

# Every character a pattern in this project could care about: Latin-1 and a slice of
# Unicode with its spaces, letters and digits of other scripts.
_SAMPLE = [chr(c) for c in range(0x3100)]
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
Node = tuple[Any, Any]


def _chars(node: Node, state: Any, flags: int) -> set[str]:
    """The characters one single-character node matches."""
    compiled: re.Pattern[str] = _compiler.compile(_pattern(state, [node]), flags)
    return {c for c in _SAMPLE if compiled.fullmatch(c)}


def _pattern(state: Any, nodes: list[Node]) -> Any:
    return _parser.SubPattern(state, list(nodes))


def _first(nodes: list[Node], state: Any, flags: int) -> tuple[set[str], bool]:
    """The characters a match of `nodes` can start with, and whether it can be empty."""
    first: set[str] = set()
    for op, arg in nodes:
        if op in _REPEATS:
            low, _, body = arg
            chars, nullable = _first(list(body), state, flags)
            first |= chars
            if low > 0 and not nullable:
                return first, False
        elif op is C.SUBPATTERN:
            chars, nullable = _first(list(arg[-1]), state, flags)
            first |= chars
            if not nullable:
                return first, False
        elif op is C.BRANCH:
            nullable = False
            for alternative in arg[1]:
                chars, empty = _first(list(alternative), state, flags)
                first |= chars
                nullable = nullable or empty
            if not nullable:
                return first, False
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue  # zero width
        else:
            return first | _chars((op, arg), state, flags), False
    return first, True


def ambiguous_repeats(pattern: str, flags: int = 0) -> list[str]:
    """Where `pattern` may backtrack super-linearly: an empty list for a linear one."""
    tree = _parser.parse(pattern, flags)
    problems: list[str] = []

    def walk(nodes: list[Node], follow: list[Node]) -> None:
        for i, (op, arg) in enumerate(nodes):
            after = list(nodes[i + 1 :]) + follow
            if op in _REPEATS:
                _low, high, body = arg
                body = list(body)
                walk(body, [(op, arg), *after] if high > 1 else after)
                if high > 1:
                    mine, _ = _first(body, tree.state, flags)
                    next_chars, _ = _first(after, tree.state, flags)
                    if mine & next_chars:
                        sample = "".join(sorted(mine & next_chars))[:8]
                        problems.append(f"repeat #{i} can give {sample!r} to what follows it")
            elif op is C.SUBPATTERN:
                walk(list(arg[-1]), after)
            elif op is C.BRANCH:
                for alternative in arg[1]:
                    walk(list(alternative), after)

    walk(list(tree), [])
    return problems
