"""The public API is exactly what `specmock` exports; this test pins it.

Adding a name here is a decision to support it; removing one breaks users.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import specmock

PUBLIC_API = [
    "AdminSettings",
    "AsyncASGITransport",
    "Clock",
    "Handle",
    "LoadError",
    "MockApp",
    "MockClock",
    "Problem",
    "ResponseChecker",
    "SpecmockError",
    "SyncASGITransport",
    "load_specs",
]


def test_the_package_exports_exactly_the_documented_api():
    assert sorted(specmock.__all__) == PUBLIC_API


def test_every_exported_name_resolves():
    for name in PUBLIC_API:
        assert getattr(specmock, name) is not None, name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Engine"):
        specmock.Engine  # type: ignore[attr-defined]  # noqa: B018


def test_importing_specmock_loads_no_web_stack():
    """`import specmock` (as the pytest plugin and the CLI do first) stays cheap."""
    heavy = "('starlette', 'jsonschema', 'faker', 'httpx')"
    code = f"import sys, specmock; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_module_outside_the_facade_is_private():
    """Only `specmock` itself is public (httpx's layout): every other module sits under a name
    with a leading underscore, so nothing but `specmock.__all__` looks supported. Entry points
    (`python -m specmock`) are the one exception."""
    from pathlib import Path

    root = Path(specmock.__file__).parent
    public = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not any(part.startswith("_") for part in dotted.split(".")[1:]) and dotted != "specmock":
            public.append(dotted)
    assert public == []
