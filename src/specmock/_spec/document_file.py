"""Read a spec file: JSON with the json module, YAML with the line-keeping loader.

Published descriptions are often large JSON (GitHub's is 13 MB): PyYAML would
take minutes and its alias-bomb limit is meant for hand-written YAML. JSON has
no aliases, so it is parsed by the json module (duplicate keys refused, as in
YAML) and the path-to-line table that error messages need is built only if an
error is ever reported. Invariant: `load_document` gives the same data and the
same lines as `load_yaml` would, for any JSON document; like YAML, a JSON
document nested more than MAX_DEPTH levels is refused (with the line of the
first value that deep) before anything else recurses into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .._errors import LoadError
from .yaml_lines import Document, JsonPath, load_yaml, read_source

#: As for YAML (yaml_compose.py): no spec nests deeper, and loading recurses per level.
MAX_DEPTH = 64


class LazyLines(dict[JsonPath, int]):
    """A path-to-line table computed the first time anyone looks into it."""

    def __init__(self, compute: Callable[[], dict[JsonPath, int]]) -> None:
        super().__init__()
        self._compute: Callable[[], dict[JsonPath, int]] | None = compute

    def _fill(self) -> None:
        if self._compute is not None:
            compute, self._compute = self._compute, None
            self.update(compute())

    def __contains__(self, key: object) -> bool:
        self._fill()
        return super().__contains__(key)

    def __getitem__(self, key: JsonPath) -> int:
        self._fill()
        return super().__getitem__(key)

    def get(self, key: JsonPath, default: Any = None) -> Any:
        self._fill()
        return super().get(key, default)

    def __iter__(self) -> Iterator[JsonPath]:
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()


def _no_duplicates(path: Path) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise LoadError(path, None, f"duplicate key {key!r}")
            out[key] = value
        return out

    return build


def load_document(path: Path | str) -> Document:
    """A spec file as a Document; JSON fast, YAML through the line-keeping loader."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return load_yaml(path)
    text = read_source(path)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(path))
    except json.JSONDecodeError as exc:
        raise LoadError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise LoadError(path, None, "invalid JSON: nested too deeply") from None
    document = Document(path=path, data=data, lines=LazyLines(lambda: json_lines(text)))
    too_deep = _deeper_than(data, MAX_DEPTH)
    if too_deep is not None:
        raise document.error(too_deep, f"invalid JSON: nested more than {MAX_DEPTH} levels deep")
    return document


def _deeper_than(data: Any, limit: int) -> JsonPath | None:
    """The path of the first value nested more than `limit` levels, or None (recursion bounded by `limit`)."""
    if not isinstance(data, (dict, list)):
        return None
    if limit <= 0:
        return ()
    for key, value in data.items() if isinstance(data, dict) else enumerate(data):
        if isinstance(value, (dict, list)):
            below = _deeper_than(value, limit - 1)
            if below is not None:
                return (key, *below)
    return None


_TOKEN = re.compile(
    r'\s*(?:(?P<open>[{\[])|(?P<close>[}\]])|(?P<comma>,)|(?P<colon>:)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<atom>[^\s,:{}\[\]"]+))'
)


def json_lines(text: str) -> dict[JsonPath, int]:
    """The line of every value in a JSON text, by its path (the table error messages read)."""
    lines: dict[JsonPath, int] = {}
    stack: list[tuple[bool, JsonPath, int]] = []  # (is an object, its path, next index)
    pending: JsonPath | None = ()  # the path of the next value
    expecting_key = False
    line, position = 1, 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:
            return lines
        kind = match.lastgroup or ""
        line += text.count("\n", position, match.start(kind))
        position = match.end()
        if kind == "string" and expecting_key:
            pending = (*stack[-1][1], json.loads(match.group(kind)))
            expecting_key = False
        elif kind == "comma" and stack:
            is_object, where, index = stack[-1]
            if is_object:
                expecting_key = True
            else:
                stack[-1] = (False, where, index + 1)
                pending = (*where, index + 1)
        elif kind == "close":
            if stack:
                stack.pop()
            pending = None
        elif kind in ("open", "string", "atom") and pending is not None:
            lines.setdefault(pending, line)
            if kind == "open" and match.group(kind) == "{":
                stack.append((True, pending, 0))
                expecting_key = True
                pending = None
            elif kind == "open":
                stack.append((False, pending, 0))
                pending = (*pending, 0)
            else:
                pending = None
