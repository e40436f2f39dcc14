"""Where the specs and scenarios that ship with specmock are.

In a wheel they are package data (``specmock/bundled/...``, put there by the
build); in a source checkout they are the repository's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parent.parent


def bundled_dir(name: str) -> Path:
    """The bundled `specs` or `scenarios` folder."""
    packaged = _PACKAGE / "bundled" / name
    if packaged.is_dir():
        return packaged
    return _CHECKOUT / name


def bundled_specs() -> list[Path]:
    """Every bundled spec file, in name order."""
    folder = bundled_dir("specs")
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
