"""A segment trie of path templates: matching costs O(path segments), not O(routes).

GitHub's REST description has about 1,000 operations on some 700 paths; trying
a regex per template would make every request pay for all of them. Each trie
level maps a literal segment to its child and keeps at most one parameter
child; a literal beats a parameter at the same depth (`/versions/latest`
before `/versions/{v}`), and the search backs off to the parameter only when
the literal branch does not lead to a route. Segments are matched raw (still
percent-encoded), so an encoded slash stays inside one value. A segment that
mixes text and parameters (`{a}-{b}.{c}`) is matched without a regular
expression: each parameter takes the shortest non-empty text up to the next
literal (the leftmost occurrence; the last literal ends the segment), the
choice a lazy regex makes first, found by `str.find`, so a 64 KB segment costs
one pass instead of a backtracking regex's cubic time.
Invariant: a parameter never matches an empty segment; matching a segment is
linear in its length for a given template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

_PARAM = re.compile(r"\{([^{}/]+)\}")


def segment_parts(segment: str) -> list[tuple[str, str | None]]:
    """`{base}...{head}` as [('', 'base'), ('...', 'head')]: literal text, then the parameter after it."""
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _PARAM.finditer(segment):
        parts.append((segment[position : match.start()], match.group(1)))
        position = match.end()
    if position < len(segment) or not parts:
        parts.append((segment[position:], None))
    return parts


def template_params(template: str) -> list[str]:
    """The parameter names of a path template, in order (several may share a segment)."""
    return _PARAM.findall(template)


@dataclass(frozen=True)
class SegmentPattern:
    """A segment mixing text and parameters: its literal texts, one before each parameter, then the tail."""

    texts: tuple[str, ...]
    tail: str

    @classmethod
    def of(cls, parts: Sequence[tuple[str, str | None]]) -> SegmentPattern:
        texts = tuple(text for text, name in parts if name is not None)
        tail = parts[-1][0] if parts[-1][1] is None else ""
        return cls(texts, tail)

    @property
    def pattern(self) -> str:
        """The template text of the segment (parameters as `{}`): two equal ones are one pattern."""
        return "{}".join(self.texts) + "{}" + self.tail

    def match(self, segment: str) -> tuple[str, ...] | None:
        """The parameter values of `segment`, or None: one left-to-right pass, no backtracking."""
        end = len(segment) - len(self.tail)
        if end < 0 or not segment.endswith(self.tail) or not segment.startswith(self.texts[0]):
            return None
        position = len(self.texts[0])
        values: list[str] = []
        for following in self.texts[1:]:
            found = segment.find(following, position + 1, end)
            if found < 0:
                return None
            values.append(segment[position:found])
            position = found + len(following)
        if position >= end:
            return None
        values.append(segment[position:end])
        return tuple(values)


@dataclass
class _Node(Generic[T]):
    literals: dict[str, _Node[T]] = field(default_factory=dict)
    param: _Node[T] | None = None
    #: Segments mixing text and parameters (`{base}...{head}`, `{name}.json`), tried in order.
    patterns: list[tuple[SegmentPattern, _Node[T]]] = field(default_factory=list)
    value: T | None = None


class SegmentTrie(Generic[T]):
    """Path templates (`/a/{id}/b`) mapped to values, looked up by concrete paths."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def insert(self, template: str, value: T) -> None:
        """Add `template`; a second template of the same shape replaces nothing (first wins)."""
        node = self._root
        for segment in _segments(template):
            parts = segment_parts(segment)
            if len(parts) == 1 and parts[0][0] == "" and parts[0][1] is not None:
                if node.param is None:
                    node.param = _Node()
                node = node.param
            elif len(parts) == 1 and parts[0][1] is None:
                node = node.literals.setdefault(segment, _Node())
            else:
                compiled = SegmentPattern.of(parts)
                for existing, child in node.patterns:
                    if existing == compiled:
                        node = child
                        break
                else:
                    node.patterns.append((compiled, _Node()))
                    node = node.patterns[-1][1]
        if node.value is None:
            node.value = value

    def patterns(self) -> list[SegmentPattern]:
        """Every segment pattern matching applies (segments that mix text and parameters)."""
        found: list[SegmentPattern] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            found += [regex for regex, _ in node.patterns]
            stack += [*node.literals.values(), *(child for _, child in node.patterns)]
            if node.param is not None:
                stack.append(node.param)
        return found

    def match(self, path: str) -> tuple[T, list[str]] | None:
        """The value whose template matches `path`, and the raw parameter values in order."""
        segments = _segments(path)
        values: list[str] = []
        found = self._walk(self._root, segments, 0, values)
        return (found, values) if found is not None else None

    def _walk(self, node: _Node[T], segments: list[str], index: int, values: list[str]) -> T | None:
        if index == len(segments):
            return node.value
        segment = segments[index]
        child = node.literals.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, values)
            if found is not None:
                return found
        for pattern, pattern_child in node.patterns:
            matched = pattern.match(segment)
            if matched is not None:
                values.extend(matched)
                found = self._walk(pattern_child, segments, index + 1, values)
                if found is not None:
                    return found
                del values[len(values) - len(matched) :]
        if node.param is not None and segment:
            values.append(segment)
            found = self._walk(node.param, segments, index + 1, values)
            if found is not None:
                return found
            values.pop()
        return None


def _segments(path: str) -> list[str]:
    """`/a/b/` as ['a', 'b']: one trailing slash is optional, as the router has always allowed."""
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed.split("/")[1:] if trimmed else []
