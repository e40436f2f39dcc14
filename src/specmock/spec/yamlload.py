"""Load YAML safely and remember where every value came from.

Specs and scenarios are data written by hand; when one is wrong the error must
name the line. We compose the YAML node tree once, build plain Python values
from it with PyYAML's safe constructors, and keep a side table from each JSON
path to its line, so validators can report ``file:line: reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import LoadError

JsonPath = tuple[str | int, ...]

#: More aliases than this in one document is taken for a "billion laughs" bomb.
MAX_ALIASES = 200


@dataclass(frozen=True)
class Document:
    """A parsed document with its source file and a path-to-line table."""

    path: Path
    data: Any
    lines: dict[JsonPath, int]

    def line_of(self, json_path: JsonPath) -> int | None:
        """The line of the closest value at or above `json_path`."""
        path = tuple(json_path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, json_path: JsonPath, reason: str) -> LoadError:
        """A LoadError pointing at `json_path` in this document."""
        return LoadError(self.path, self.line_of(json_path), reason)


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses documents with too many alias expansions."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self.values = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIASES} aliases (a YAML bomb?)", event.start_mark
                )
        return super().compose_node(parent, index)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}

#: More values than this in one document (after aliases are expanded) is refused: a
#: "billion laughs" needs only a few dozen aliases to expand exponentially.
MAX_VALUES = 200_000


def _build(loader: _BoundedLoader, node: yaml.Node, path: JsonPath, lines: dict[JsonPath, int]) -> Any:
    loader.values += 1
    if loader.values > MAX_VALUES:
        raise LoadError(
            loader.name,
            node.start_mark.line + 1,
            f"the document expands to more than {MAX_VALUES} values through aliases (a YAML alias bomb?)",
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        # Scalars go through the safe constructors, which refuse unknown tags; collections are
        # built here, so their tags (`!!python/object:...`, `!custom`) are refused here.
        raise LoadError(loader.name, node.start_mark.line + 1, f"unsupported YAML tag {node.tag!r}")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise LoadError(loader.name, key_node.start_mark.line + 1, "keys must be scalars")
            if key in result:
                raise LoadError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            # JSON has string keys only; YAML `200:` means the response code "200".
            skey = key if isinstance(key, str) else str(key).lower()
            result[skey] = _build(loader, value_node, (*path, skey), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, path: Path | str) -> Document:
    """Parse YAML `text` (JSON is YAML too), naming `path` in every error."""
    path = Path(path)
    loader = _BoundedLoader(text)
    loader.name = str(path)
    try:
        node = loader.get_single_node()
        if node is None:
            raise LoadError(path, 1, "the document is empty")
        lines: dict[JsonPath, int] = {}
        data = _build(loader, node, (), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise LoadError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Document(path=path, data=data, lines=lines)


def load_yaml(path: Path | str) -> Document:
    """Read and parse a YAML or JSON file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LoadError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise LoadError(path, None, f"not UTF-8 text: {exc.reason}") from None
    return parse_yaml(text, path)
