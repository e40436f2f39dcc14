"""Load YAML safely and remember where every value came from.

Specs and scenarios are data written by hand; when one is wrong the error must
name the line. We compose the YAML node tree once, build plain Python values
from it with PyYAML's safe constructors, and keep a side table from each JSON
path to its line, so validators can report ``file:line: reason``.

Parsing is most of specmock's start-up, so a document is composed by libyaml
(PyYAML's C binding) where it is installed; the nodes, marks and the values built
from them are the same. A document it cannot parse, or one with aliases (whose
expansion is bounded while composing), is parsed by the pure-Python loader, whose
errors are the ones reported, so the C parser changes no message. That work
(and PyYAML itself) lives in yaml_compose.py, imported on the first parse.
Nothing parsed is kept on disk: every start parses its files anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import LoadError

JsonPath = tuple[str | int, ...]


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


def parse_yaml(text: str, path: Path | str) -> Document:
    """Parse YAML `text` (JSON is YAML too), naming `path` in every error."""
    from .yaml_compose import parse_text

    path = Path(path)
    data, lines = parse_text(text, path)
    return Document(path=path, data=data, lines=lines)


def read_source(path: Path) -> str:
    """A spec or scenario file's text; a LoadError naming the file when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise LoadError(path, None, "cannot read: a folder, not a file (name the document inside it)") from None
    except PermissionError:
        raise LoadError(path, None, "cannot read: permission denied (check the file's permissions)") from None
    except OSError as exc:
        raise LoadError(path, None, f"cannot read: {exc.strerror or exc} (check the path)") from None
    except UnicodeDecodeError as exc:
        raise LoadError(path, None, f"not UTF-8 text: {exc.reason}") from None


def load_yaml(path: Path | str) -> Document:
    """Read and parse a YAML or JSON file (a LoadError naming the file and line when it is broken)."""
    path = Path(path)
    return parse_yaml(read_source(path), path)
