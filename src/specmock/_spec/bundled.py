"""Where the specs and scenarios that ship with specmock are, and the names that pick them.

In a wheel they are package data (``specmock/bundled/...``, put there by the
build); in a source checkout they are the repository's top-level folders.

Invariant: `resolve_document` is the one place a document argument (a file or a
bundled spec's name, as `specmock serve`, `routes`, `validate`, `proxy` and `verify`
take it) becomes a path. An existing file always wins over a bundled name.
"""

from __future__ import annotations

from pathlib import Path

from .._errors import LoadError
from .._suggest import did_you_mean

_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parent.parent
_DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")


def bundled_dir(name: str) -> Path:
    """The bundled `specs` or `scenarios` folder."""
    packaged = _PACKAGE / "bundled" / name
    if packaged.is_dir():
        return packaged
    return _CHECKOUT / name


def bundled_specs() -> list[Path]:
    """Every bundled spec file, in name order."""
    folder = bundled_dir("specs")
    return sorted(p for p in folder.iterdir() if p.suffix in _DOCUMENT_SUFFIXES)


def bundled_spec_names() -> dict[str, Path]:
    """The bundled specs by the name a command line gives them (`appsecplus`, `versori-connect`, ...)."""
    return {path.stem: path for path in bundled_specs()}


def resolve_document(argument: str | Path) -> Path:
    """The file a document argument names: an existing file, else a bundled spec's name.

    A bare word (no folder, no .yaml/.yml/.json) that is neither is a LoadError that
    lists the bundled names and suggests the nearest; anything else is returned as a
    path, so the loader reports a missing file with its own one line.
    """
    path = Path(argument)
    if path.exists():
        return path
    names = bundled_spec_names()
    text = str(argument)
    if text in names:
        return names[text]
    if "/" not in text and "\\" not in text and not text.endswith(_DOCUMENT_SUFFIXES):
        raise LoadError(
            text,
            None,
            f"no such file or bundled spec{did_you_mean(text, names)} (bundled: {', '.join(names)})",
        )
    return path
