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


def resolve_spec(value: str | Path) -> Path:
    """A `--spec` argument as a file: a bundled family's name (`appsecplus`, `versori-connect`,
    `sdelements`) or a path. A name that is neither comes back as a path, so loading it
    reports the missing file."""
    path = Path(value)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    for spec in bundled_specs():
        if spec.stem == str(value):
            return spec
    return path
