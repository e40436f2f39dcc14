"""PyYAML's side of yaml_lines: compose, bound and build a document, with its line table.

Kept apart so that PyYAML is imported only when a document is really parsed.
Invariants: as yaml_lines states (libyaml where installed, the pure-Python
loader's errors; aliases, depth and values bounded; unknown tags refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .._errors import LoadError

#: A JSON path, as yaml_lines.JsonPath (not imported: yaml_lines imports this module).
JsonPath = tuple[str | int, ...]

#: More aliases than this in one document is taken for a "billion laughs" bomb.
MAX_ALIASES = 200
#: No spec or scenario nests deeper; deeper documents are refused before anything recurses.
MAX_DEPTH = 64


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses documents with too many alias expansions."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self.values = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return self._compose(parent, index)
        finally:
            self._depth -= 1

    def _compose(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIASES} aliases (a YAML bomb?)", event.start_mark
                )
        return super().compose_node(parent, index)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}
#: A string scalar is its text (what the safe constructor returns); three nodes in four are one.
_STR_TAG = "tag:yaml.org,2002:str"

#: More values than this in one document (after aliases are expanded) is refused: a
#: "billion laughs" needs only a few dozen aliases to expand exponentially.
MAX_VALUES = 200_000


_CLoader: Any = getattr(yaml, "CSafeLoader", None)


class _FastLoader(_CLoader or yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser and composer with the safe constructors, for documents without aliases."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.values = 0


def _has_aliases(text: str) -> bool:
    return "*" in text and any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_CLoader))


def _compose_fast(text: str) -> Any:
    """The node tree from libyaml, or None where the pure-Python loader must do it (and word the error)."""
    if _CLoader is None:
        return None
    try:
        if _has_aliases(text):  # the pure-Python loader bounds them, as it always did
            return None
        loader = _FastLoader(text)
        try:
            return loader, loader.get_single_node()
        except Exception:
            loader.dispose()
            raise
    except yaml.YAMLError:
        return None


def _build(loader: Any, node: yaml.Node, path: JsonPath, lines: dict[JsonPath, int]) -> Any:
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
            plain = type(key_node) is yaml.ScalarNode and key_node.tag == _STR_TAG
            key = key_node.value if plain else loader.construct_object(key_node, deep=True)
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
    if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
        return node.value
    return loader.construct_object(node, deep=True)


def parse_text(text: str, path: Path) -> tuple[Any, dict[JsonPath, int]]:
    """The values of YAML `text` and the line of each JSON path; LoadError naming `path` if broken."""
    fast = _compose_fast(text)  # None: the pure-Python loader reads it (and words any error)
    try:
        loader = fast[0] if fast is not None else _BoundedLoader(text)  # reads and checks the characters
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = f"#x{exc.character:04x}"
        reason = f"invalid YAML: control character {char} is not allowed (use an escape in a quoted string)"
        raise LoadError(path, line, reason) from None
    loader.name = str(path)
    try:
        node = fast[1] if fast is not None else loader.get_single_node()
        if node is None:
            raise LoadError(path, 1, "the document is empty")
        lines: dict[JsonPath, int] = {}
        data = _build(loader, node, (), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark else None
        raise LoadError(path, where, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise LoadError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, lines
